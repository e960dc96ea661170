// The nomination form: count the statement's words as they are typed (the server counts them again).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-word-limit]").forEach(function (area) {
      var limit = parseInt(area.getAttribute("data-word-limit"), 10);
      var out = document.getElementById(area.id + "-count");
      function update() {
        var words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
        out.textContent = words + " of " + limit + " words" + (words > limit ? ": " + (words - limit) + " too many" : "");
        out.classList.toggle("error-message", words > limit);
      }
      area.addEventListener("input", update);
      update();
    });
  });
})();
