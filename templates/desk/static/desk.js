// fixdesk desk: small enhancements on top of plain forms and links (everything works without it).
(function () {
  "use strict";

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // keyboard: "/" focuses the search box; Ctrl+S / Cmd+S saves the form on the page
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !typing(event.target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var search = document.querySelector("[data-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if ((event.ctrlKey || event.metaKey) && (event.key === "s" || event.key === "S")) {
      var form = document.querySelector("form[data-save-form]");
      if (form && form.querySelector("button[type=submit]")) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.submit();
      }
    }
  });

  // after a failed save, put the cursor in the first field with an error
  var firstError = document.querySelector(".has-error input, .has-error select, .has-error textarea");
  if (firstError) { firstError.focus(); }

  // list view: select all rows, print buttons only with a selection
  var rows = document.querySelector("form[data-rows]");
  if (rows) {
    var all = rows.querySelector("[data-select-all]");
    var boxes = rows.querySelectorAll("input[name=ids]");
    var buttons = rows.querySelectorAll("[data-needs-selection]");
    var count = rows.querySelector("[data-selected-count]");
    var hint = count ? count.textContent : "";
    var update = function () {
      var n = rows.querySelectorAll("input[name=ids]:checked").length;
      buttons.forEach(function (b) { b.disabled = n === 0; });
      if (count) { count.textContent = n ? n + " ✓" : hint; }
      if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
    };
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (b) { b.addEventListener("change", update); });
    update();
  }

  // filters: the value box suits the field (dates get a date picker, enums a list)
  var inputTypes = { date: "date", time: "time", integer: "number" };
  document.querySelectorAll("[data-filter-field]").forEach(function (select) {
    var row = select.closest(".filter-row");
    var value = row && row.querySelector("[data-filter-value]");
    if (!value) { return; }
    var adapt = function () {
      var option = select.options[select.selectedIndex];
      var kind = option ? option.getAttribute("data-kind") : "";
      var list = document.getElementById("choices-" + select.value);
      if (list) { value.setAttribute("list", list.id); } else { value.removeAttribute("list"); }
      value.type = inputTypes[kind] || "text";
    };
    select.addEventListener("change", adapt);
    adapt();
  });

  // references typed by code or name: suggestions from the server as you type
  document.querySelectorAll("input[data-lookup]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (!input.getAttribute("data-lookup")) { return; }  // a link with no entity chosen yet
        fetch(input.getAttribute("data-lookup") + "?q=" + encodeURIComponent(input.value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : []; })
          .then(function (items) {
            list.textContent = "";
            items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.label;
              list.appendChild(option);
            });
          })
          .catch(function () {});
      }, 200);
    });
  });

  // a link to any record: the entity chosen is where its record box looks records up
  document.querySelectorAll("select[data-link-entity]").forEach(function (select) {
    var input = document.getElementById(select.getAttribute("data-link-entity"));
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      input.setAttribute("data-lookup", option.getAttribute("data-lookup") || "");
      var list = document.getElementById(input.getAttribute("list"));
      if (list) { list.textContent = ""; }
    });
  });

  // a suggestion under an input (the engineers to dispatch to) fills it in
  document.querySelectorAll("button[data-fill]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-fill"));
      if (target) { target.value = button.value; target.focus(); }
    });
  });

  // confirm before deleting
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // print preview: show the frame when a preview link targets it
  document.querySelectorAll("a[data-preview]").forEach(function (link) {
    link.addEventListener("click", function () {
      var frame = document.querySelector("iframe.preview");
      if (frame) { frame.hidden = false; setTimeout(function () { frame.scrollIntoView({ block: "nearest" }); }, 50); }
    });
  });
})();
