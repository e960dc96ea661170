// The ballot, enhanced. Without this file every part of it works: numbered selects for ranking, plain
// checkboxes and radio buttons, and the server checks everything again.
(function () {
  "use strict";

  // Ranked contests: "Move up" / "Move down" buttons that renumber the preferences, for anyone who finds
  // them easier than choosing numbers. The selects stay the source of truth.
  function ranked(fieldset) {
    var rows = Array.prototype.slice.call(fieldset.querySelectorAll(".rank-row"));
    function value(row) { var v = row.querySelector("select").value; return v ? parseInt(v, 10) : null; }
    function ordered() {
      return rows.filter(function (r) { return value(r) !== null; })
        .sort(function (a, b) { return value(a) - value(b); });
    }
    function renumber(list) {
      rows.forEach(function (r) { if (list.indexOf(r) === -1) { r.querySelector("select").value = ""; } });
      list.forEach(function (r, i) { r.querySelector("select").value = String(i + 1); });
    }
    rows.forEach(function (row) {
      var name = row.querySelector("label").textContent.trim();
      var box = document.createElement("span");
      box.className = "rank-move";
      [["up", "Move up", "\u2191"], ["down", "Move down", "\u2193"]].forEach(function (spec) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small secondary";
        button.textContent = spec[2];
        button.setAttribute("aria-label", spec[1] + ": " + name);
        button.addEventListener("click", function () {
          var list = ordered();
          var at = list.indexOf(row);
          if (at === -1) { list.push(row); at = list.length - 1; if (spec[0] === "down") { renumber(list); return; } }
          var to = spec[0] === "up" ? at - 1 : at + 1;
          if (to < 0 || to >= list.length) { renumber(list); return; }
          list.splice(at, 1);
          list.splice(to, 0, row);
          renumber(list);
          button.focus();
        });
        box.appendChild(button);
      });
      row.appendChild(box);
    });
  }

  // Approval contests: say how many are chosen, and the limit.
  function approval(fieldset) {
    var max = parseInt(fieldset.getAttribute("data-max"), 10);
    var note = fieldset.querySelector(".choice-count");
    var boxes = fieldset.querySelectorAll("input[type=checkbox]");
    function update() {
      var n = fieldset.querySelectorAll("input[type=checkbox]:checked").length;
      note.hidden = false;
      note.textContent = "You have chosen " + n + " of up to " + max + "." + (n > max ? " Untick " + (n - max) + "." : "");
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset[data-kind=rank]").forEach(ranked);
    document.querySelectorAll("fieldset[data-kind=many]").forEach(approval);
    // A second click on "Cast my vote" sends nothing more (the server refuses a second vote anyway).
    document.querySelectorAll("form.cast-form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("[data-once]");
        if (button) { setTimeout(function () { button.disabled = true; }, 0); }
      });
    });
  });
})();
