// The site's header menu as a disclosure pattern: a button beside each entry with pages under it opens and
// closes its sub-menu (click, tap, Enter, Space); Escape closes the open one and returns to its button; a click
// or focus outside the menu closes it. On a phone the "Site menu" button shows and hides the whole list.
// Without this file the links still work and a sub-menu shows while focus is inside its entry.
(function () {
  "use strict";
  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    var list = document.getElementById(button.getAttribute("aria-controls"));
    if (!list) { return; }
    list.classList.toggle("open", open);
    if (!open) {
      list.querySelectorAll("button.sub-toggle[aria-expanded='true']").forEach(function (inner) { setOpen(inner, false); });
    }
  }
  function closeAll(nav) {
    nav.querySelectorAll(".site-menu-top > li > button.sub-toggle[aria-expanded='true']").forEach(function (b) { setOpen(b, false); });
  }
  function enhance(nav) {
    nav.classList.add("js");
    nav.querySelectorAll("button.sub-toggle").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") !== "true";
        if (open) {
          var siblings = button.parentElement.parentElement.children;
          Array.prototype.forEach.call(siblings, function (li) {
            var other = li.querySelector(":scope > button.sub-toggle");
            if (other && other !== button && other.getAttribute("aria-expanded") === "true") { setOpen(other, false); }
          });
        }
        setOpen(button, open);
      });
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") { return; }
      var list = event.target.closest(".site-sub.open");
      if (event.target.matches("button.sub-toggle[aria-expanded='true']")) { list = document.getElementById(event.target.getAttribute("aria-controls")); }
      if (!list) { return; }
      var owner = nav.querySelector("button[aria-controls='" + list.id + "']");
      if (owner) { setOpen(owner, false); owner.focus(); event.preventDefault(); }
    });
    nav.addEventListener("focusout", function (event) {
      if (event.relatedTarget && !nav.contains(event.relatedTarget)) { closeAll(nav); }
    });
    document.addEventListener("click", function (event) {
      if (!nav.contains(event.target)) { closeAll(nav); }
    });
    var toggle = nav.querySelector("button.site-menu-toggle");
    if (toggle) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = toggle.getAttribute("aria-expanded") !== "true";
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        nav.classList.toggle("menu-open", open);
      });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-site-nav]").forEach(enhance);
  });
})();
