// fixdesk desk: a record's form as a document (templates/desk/_document.html).
// Everything works without it: boxes open as <details>, "Edit" loads the page with the row
// as inputs. With it, one action box is open at a time, Escape closes it, and "Edit" turns
// the row into inputs without leaving the page.
(function () {
  "use strict";

  function firstInput(scope) {
    return scope.querySelector("input:not([type=hidden]), select, textarea");
  }

  // the bar's action boxes and the rows' action boxes: one open at a time
  function exclusive(selector) {
    var boxes = Array.prototype.slice.call(document.querySelectorAll(selector));
    boxes.forEach(function (box) {
      box.addEventListener("toggle", function () {
        if (!box.open) { return; }
        boxes.forEach(function (other) { if (other !== box) { other.open = false; } });
        var input = firstInput(box);
        if (input && !box.querySelector(".has-error")) { input.focus(); }
      });
      box.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && box.open) {
          box.open = false;
          box.querySelector("summary").focus();
        }
      });
    });
  }
  exclusive(".doc-actions details.action-box");
  exclusive("details.row-action");

  // a failed action: bring its open box into view
  var failed = document.querySelector(".doc-actions details.action-box[open], details.row-action[open]");
  if (failed) { failed.scrollIntoView({ block: "nearest" }); }

  // lines edited in place: the row becomes the inputs the server draws for it
  var kept = {};
  document.addEventListener("click", function (event) {
    var edit = event.target.closest && event.target.closest("a[data-line-edit]");
    var cancel = event.target.closest && event.target.closest("a[data-line-cancel]");
    if (edit) {
      var row = edit.closest("tr");
      if (!row || !window.fetch || !window.DOMParser) { return; }
      event.preventDefault();
      fetch(edit.href, { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : Promise.reject(answer); })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var fresh = page.getElementById(row.id);
          var name = edit.getAttribute("data-line-edit").split(".");
          var form = page.getElementById("lf-" + name[0] + "-" + name[1]);
          if (!fresh || !form) { window.location.href = edit.href; return; }
          kept[row.id] = row;
          var placed = document.importNode(fresh, true);
          row.replaceWith(placed);
          var section = placed.closest("section");
          var old = document.getElementById(form.id);
          if (old) { old.remove(); }
          section.appendChild(document.importNode(form, true));
          var input = firstInput(placed);
          if (input) { input.focus(); }
        })
        .catch(function () { window.location.href = edit.href; });
    } else if (cancel) {
      var editing = cancel.closest("tr");
      var original = editing && kept[editing.id];
      if (!original) { return; }
      event.preventDefault();
      editing.replaceWith(original);
      delete kept[editing.id];
      var link = original.querySelector("a[data-line-edit]");
      if (link) { link.focus(); }
    }
  });
})();
