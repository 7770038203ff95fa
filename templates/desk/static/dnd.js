/* Drag and drop that submits a form: the kanban (kernel/web/desk/kanban.py) and the
   dispatch board (plugins/repair/board.py). Inside a form marked [data-dnd-form], an
   item [data-drag] holds a radio input (what is moved) and a drop target [data-drop]
   holds a submit button [data-drop-submit] (where to). Dropping an item on a target
   checks the item's radio and presses the target's button, so the server gets exactly
   what the keyboard way sends: select the item (its radio, or a click on it), then
   press the target's button. Our own code, no library. */
(function () {
  "use strict";

  function radioOf(item) {
    return item.querySelector('input[type="radio"]');
  }

  function setup(form) {
    var dragged = null;

    function mark() {
      form.querySelectorAll("[data-drag]").forEach(function (item) {
        var radio = radioOf(item);
        item.classList.toggle("selected", Boolean(radio && radio.checked));
      });
      form.classList.toggle("has-selection", Boolean(form.querySelector('[data-drag] input[type="radio"]:checked')));
    }

    form.addEventListener("change", mark);
    form.querySelectorAll("[data-drag]").forEach(function (item) {
      item.addEventListener("dragstart", function (event) {
        var radio = radioOf(item);
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", radio ? radio.value : "");
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        dragged = null;
        form.querySelectorAll(".drop-target").forEach(function (t) { t.classList.remove("drop-target"); });
      });
      item.addEventListener("click", function (event) {
        if (event.target.closest("a, button, input, select, textarea")) {
          return;
        }
        var radio = radioOf(item);
        if (radio) {
          radio.checked = true;
          mark();
        }
      });
    });
    form.querySelectorAll("[data-drop]").forEach(function (target) {
      target.addEventListener("dragover", function (event) {
        if (!dragged || target.contains(dragged)) {
          return;
        }
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        target.classList.add("drop-target");
      });
      target.addEventListener("dragleave", function (event) {
        if (!target.contains(event.relatedTarget)) {
          target.classList.remove("drop-target");
        }
      });
      target.addEventListener("drop", function (event) {
        event.preventDefault();
        target.classList.remove("drop-target");
        if (!dragged || target.contains(dragged)) {
          return;
        }
        var radio = radioOf(dragged);
        var button = target.querySelector("[data-drop-submit]");
        if (!radio || !button) {
          return;
        }
        radio.checked = true;
        mark();
        form.classList.add("busy");
        if (form.requestSubmit) {
          form.requestSubmit(button);
        } else {
          button.click();
        }
      });
    });
    mark();
  }

  document.querySelectorAll("[data-dnd-form]").forEach(setup);
})();
