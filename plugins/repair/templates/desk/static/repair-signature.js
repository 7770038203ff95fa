/* The customer's signature on the engineer's phone page (repair plugin): draw with a finger,
   a pen or the mouse on the <canvas> (pointer events), then send it as a PNG data: URL in
   the form's hidden "signature" field. Our own few lines, no library. */
(function () {
  "use strict";

  function setUp(form) {
    var canvas = form.querySelector("canvas.signature-pad");
    var field = form.querySelector('input[name="signature"]');
    var save = form.querySelector("[data-save]");
    var clear = form.querySelector("[data-clear]");
    if (!canvas || !field || !canvas.getContext) { return; }
    var pen = canvas.getContext("2d");
    var drawn = false;
    var last = null;
    var pointer = null;

    function update() {
      if (save) { save.disabled = !drawn; }
    }

    function fit() {
      /* as many canvas pixels as screen pixels: sharp strokes on a phone */
      var ratio = window.devicePixelRatio || 1;
      var box = canvas.getBoundingClientRect();
      canvas.width = Math.max(1, Math.round(box.width * ratio));
      canvas.height = Math.max(1, Math.round(box.height * ratio));
      pen.setTransform(ratio, 0, 0, ratio, 0, 0);
      pen.lineWidth = 2.5;
      pen.lineCap = "round";
      pen.lineJoin = "round";
      pen.strokeStyle = "#111";
      pen.fillStyle = "#111";
      drawn = false;
      update();
    }

    function at(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      pointer = event.pointerId;
      if (canvas.setPointerCapture) { canvas.setPointerCapture(pointer); }
      last = at(event);
      pen.beginPath();
      pen.arc(last.x, last.y, pen.lineWidth / 2, 0, 2 * Math.PI);
      pen.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (pointer !== event.pointerId || last === null) { return; }
      event.preventDefault();
      var point = at(event);
      pen.beginPath();
      pen.moveTo(last.x, last.y);
      pen.lineTo(point.x, point.y);
      pen.stroke();
      last = point;
      drawn = true;
      update();
    });
    ["pointerup", "pointercancel"].forEach(function (name) {
      canvas.addEventListener(name, function (event) {
        if (pointer === event.pointerId) { pointer = null; last = null; }
      });
    });
    if (clear) {
      clear.addEventListener("click", function () {
        pen.clearRect(0, 0, canvas.width, canvas.height);
        field.value = "";
        drawn = false;
        update();
      });
    }
    form.addEventListener("submit", function (event) {
      if (!drawn) { event.preventDefault(); return; }
      field.value = canvas.toDataURL("image/png");
    });
    window.addEventListener("resize", function () {
      if (!drawn) { fit(); }
    });
    fit();
  }

  document.querySelectorAll("form[data-signature]").forEach(setUp);
}());
