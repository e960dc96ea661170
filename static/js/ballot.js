// The ballot, enhanced. Without this file every part of it works: numbered selects for ranking, plain
// checkboxes and radio buttons, and the server checks everything again.
(function () {
  "use strict";

  // Ranked contests, with JavaScript: two lists, "Your ranking" (in order, 1st first) and "Not ranked", with
  // Add / Remove / Move up / Move down buttons, and each change said aloud ("Rhiannon Ellis is now 1st").
  // The numbered selects stay in the form, hidden, and are what is sent: without this file they are the ballot.
  function ordinal(n) {
    var tens = n % 100;
    if (tens >= 11 && tens <= 13) { return n + "th"; }
    return n + ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function ranked(fieldset) {
    var field = fieldset.id.replace(/^f-/, "");
    var legend = fieldset.querySelector(".contest-title");
    var selects = fieldset.querySelector(".ranking");
    var candidates = Array.prototype.map.call(fieldset.querySelectorAll(".rank-row"), function (row, at) {
      var select = row.querySelector("select");
      return { key: select.id, name: row.querySelector("label").textContent.trim(), select: select, at: at };
    });
    function preference(c) { return c.select.value ? parseInt(c.select.value, 10) : null; }
    // The order the selects give (ties and gaps closed up, in ballot order), renumbered to match.
    var order = candidates.filter(function (c) { return preference(c) !== null; }).sort(function (a, b) {
      return preference(a) - preference(b) || a.at - b.at;
    });

    var hint = fieldset.querySelector("[data-js-hint]");
    if (hint) { hint.textContent = hint.getAttribute("data-js-hint"); }
    selects.hidden = true;

    var lists = element("div", "rank-lists");
    var mineLabel = element("p", "rank-heading", "Your ranking");
    mineLabel.id = field + "-ranked-label";
    var mine = element("ol", "rank-list ranked");
    mine.setAttribute("aria-labelledby", legend.id + " " + mineLabel.id);
    var empty = element("p", "hint rank-empty", "Nobody is ranked yet. Add candidates from \u201cNot ranked\u201d, your favourite first.");
    var restLabel = element("p", "rank-heading", "Not ranked");
    restLabel.id = field + "-unranked-label";
    var rest = element("ul", "rank-list unranked");
    rest.setAttribute("aria-labelledby", legend.id + " " + restLabel.id);
    var done = element("p", "hint rank-all", "Everyone is ranked.");
    var status = element("p", "rank-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var mineBox = element("div", "rank-box");
    var restBox = element("div", "rank-box");
    mineBox.append(mineLabel, mine, empty);
    restBox.append(restLabel, rest, done);
    lists.append(mineBox, restBox);
    selects.parentNode.insertBefore(lists, selects.nextSibling);
    lists.parentNode.insertBefore(status, lists.nextSibling);

    function button(label, action, c, disabled) {
      var b = element("button", "button small secondary", label);
      b.type = "button";
      b.setAttribute("aria-label", label + ": " + c.name);
      b.setAttribute("data-action", action);
      b.setAttribute("data-key", c.key);
      b.disabled = !!disabled;
      return b;
    }

    function render() {
      candidates.forEach(function (c) {
        var at = order.indexOf(c);
        c.select.value = at === -1 ? "" : String(at + 1);
      });
      mine.textContent = "";
      rest.textContent = "";
      order.forEach(function (c, at) {
        var item = element("li", "rank-item");
        var tools = element("span", "rank-tools");
        tools.append(
          button("Move up", "up", c, at === 0),
          button("Move down", "down", c, at === order.length - 1),
          button("Remove", "remove", c)
        );
        item.append(element("span", "rank-position", ordinal(at + 1)), element("span", "rank-name", c.name), tools);
        mine.appendChild(item);
      });
      candidates.forEach(function (c) {
        if (order.indexOf(c) !== -1) { return; }
        var item = element("li", "rank-item");
        item.append(element("span", "rank-name", c.name), button("Add", "add", c));
        rest.appendChild(item);
      });
      mine.hidden = order.length === 0;
      empty.hidden = order.length !== 0;
      rest.hidden = order.length === candidates.length;
      done.hidden = order.length !== candidates.length;
    }

    function focus(action, c) {
      var b = lists.querySelector('button[data-action="' + action + '"][data-key="' + c.key + '"]');
      if (b && !b.disabled) { b.focus(); return true; }
      return false;
    }
    function say(text) { status.textContent = text; }

    lists.addEventListener("click", function (event) {
      var b = event.target.closest("button[data-action]");
      if (!b) { return; }
      var c = candidates.filter(function (x) { return x.key === b.getAttribute("data-key"); })[0];
      var action = b.getAttribute("data-action");
      var at = order.indexOf(c);
      if (action === "add") {
        var waiting = candidates.filter(function (x) { return order.indexOf(x) === -1; });
        var from = waiting.indexOf(c);
        order.push(c);
        render();
        say(c.name + " is now " + ordinal(order.length) + ".");
        // On to the next candidate still to rank, so a keyboard can add several in a row.
        var next = waiting[from + 1] || waiting[from - 1];
        if (!(next && focus("add", next))) { focus("up", c) || focus("remove", c); }
      } else if (action === "remove") {
        order.splice(at, 1);
        render();
        say(c.name + " is no longer ranked." + (order[at] ? " " + order[at].name + " is now " + ordinal(at + 1) + "." : ""));
        var stay = order[at] || order[at - 1];
        if (!(stay && focus("remove", stay))) { focus("add", c); }
      } else {
        var to = action === "up" ? at - 1 : at + 1;
        if (to < 0 || to >= order.length) { return; }
        order.splice(at, 1);
        order.splice(to, 0, c);
        render();
        say(c.name + " is now " + ordinal(to + 1) + ".");
        focus(action, c) || focus(action === "up" ? "down" : "up", c);
      }
    });
    render();
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
