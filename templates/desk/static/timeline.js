// fixdesk desk: the note box's @ list of colleagues (the box works without it: type @username).
(function () {
  "use strict";

  document.querySelectorAll("textarea[data-mention-lookup]").forEach(function (box) {
    var list = box.parentNode.querySelector("[data-mention-list]");
    if (!list) { return; }
    var url = box.getAttribute("data-mention-lookup");
    var timer = null;
    var chosen = -1;

    // the "@word" just before the cursor, if the cursor is in one
    function current() {
      var before = box.value.slice(0, box.selectionStart);
      var match = /(^|[^\w.@])@([\w.\-]{0,60})$/.exec(before);
      return match ? { start: before.length - match[2].length - 1, text: match[2] } : null;
    }

    function close() { list.hidden = true; list.textContent = ""; chosen = -1; }

    function pick(username) {
      var at = current();
      if (!at) { close(); return; }
      var end = box.selectionStart;
      var insert = "@" + username + " ";
      box.value = box.value.slice(0, at.start) + insert + box.value.slice(end);
      var caret = at.start + insert.length;
      box.setSelectionRange(caret, caret);
      close();
      box.focus();
    }

    function mark() {
      list.querySelectorAll("button").forEach(function (b, i) {
        b.setAttribute("aria-selected", i === chosen ? "true" : "false");
      });
    }

    function show(people) {
      list.textContent = "";
      chosen = -1;
      people.forEach(function (person) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.setAttribute("role", "option");
        button.setAttribute("data-username", person.username);
        button.textContent = person.full_name + " (@" + person.username + ")";
        button.addEventListener("mousedown", function (event) { event.preventDefault(); });
        button.addEventListener("click", function () { pick(person.username); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = people.length === 0;
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      var at = current();
      if (!at) { close(); return; }
      timer = setTimeout(function () {
        fetch(url + "?q=" + encodeURIComponent(at.text), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (people) { if (current()) { show(people); } })
          .catch(function () {});
      }, 150);
    });

    box.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      var buttons = list.querySelectorAll("button");
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        chosen = (chosen + step + buttons.length) % buttons.length;
        mark();
      } else if ((event.key === "Enter" || event.key === "Tab") && chosen >= 0) {
        event.preventDefault();
        pick(buttons[chosen].getAttribute("data-username"));
      } else if (event.key === "Escape") {
        close();
      }
    });
    box.addEventListener("blur", function () { setTimeout(close, 150); });
  });
})();
