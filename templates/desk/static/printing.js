// Batch print page: follow the job's progress until the file is ready (or the job failed).
(function () {
  "use strict";
  function follow(section) {
    var url = section.getAttribute("data-progress-url");
    var bar = section.querySelector("[data-bar]");
    var state = section.querySelector("[data-state]");
    var text = section.querySelector("[data-text]");
    var percent = section.querySelector("[data-percent]");
    var error = section.querySelector("[data-error]");
    var link = section.querySelector("[data-download]");
    function show(p) {
      section.setAttribute("data-status", p.status);
      bar.value = p.percent;
      bar.textContent = p.percent + "%";
      bar.setAttribute("aria-valuetext", p.text);
      state.textContent = p.state;
      text.textContent = p.text;
      percent.textContent = p.percent + "%";
      if (p.error) { error.textContent = p.error; error.hidden = false; }
      if (p.download) { link.href = p.download; link.hidden = false; }
      return p.status === "done" || p.status === "failed";
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (p) {
          if (p === null) { setTimeout(poll, 3000); return; }
          if (!show(p)) { setTimeout(poll, 700); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    var status = section.getAttribute("data-status");
    if (status !== "done" && status !== "failed") { poll(); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print-job]").forEach(follow);
  });
})();
