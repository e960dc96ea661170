// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  function focusErrors(root) {
    var summary = (root || document).querySelector(".error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    focusErrors(document);
    document.querySelectorAll("input.copy").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
    // The main navigation is open in the page (so it is there without JavaScript); on a narrow screen it
    // folds behind its "Menu" button, and opens again when the window grows past the phone layout.
    var narrow = window.matchMedia("(max-width: 760px)");
    document.querySelectorAll("[data-nav-menu]").forEach(function (menu) {
      function fit() { menu.open = !narrow.matches; }
      fit();
      narrow.addEventListener("change", fit);
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrors(event.target); });
})();
