// Copy buttons beside the amount, the due date and the payment reference. Without this file the buttons
// stay hidden and the values can still be selected by hand; no inline script, so the CSP holds.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          button.textContent = "Copied";
          button.setAttribute("aria-live", "polite");
          window.setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  });
})();
