// Live preview for the post editor: posts the Markdown to the admin's
// preview endpoint and shows the sanitised HTML it returns.
(function () {
  "use strict";
  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function start() {
    var body = document.querySelector("textarea[data-preview-url]");
    var pane = document.querySelector("[data-post-preview]");
    if (!body || !pane) { return; }
    var timer = null;
    var sent = 0;
    function refresh() {
      var ticket = ++sent;
      var data = new FormData();
      data.append("body", body.value);
      fetch(body.getAttribute("data-preview-url"), {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(body.form) }
      }).then(function (response) { return response.json(); })
        .then(function (json) {
          if (ticket !== sent) { return; }  // an older answer arrived late
          // The server sanitised this HTML with the same allowlist as published posts.
          pane.innerHTML = json.html || "";
        })
        .catch(function () { /* keep the last preview on network errors */ });
    }
    body.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 400);
    });
    refresh();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
