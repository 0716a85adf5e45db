/* Image admin: copy-to-clipboard for snippets and a preview of the chosen file.
 * Bound by data attributes, so templates need no inline script or handler. */
(function () {
  "use strict";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-http admin (local runs): the older selection-based copy.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      ok ? resolve() : reject(new Error("copy failed"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-from]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    if (!source) return;
    var label = button.textContent;
    copyText(source.value).then(
      function () {
        button.textContent = button.getAttribute("data-copied-label") || label;
        window.setTimeout(function () { button.textContent = label; }, 1500);
      },
      function () {
        source.focus();
        source.select();
      }
    );
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-image-preview]")) return;
    var preview = input.parentNode.querySelector("img.media-upload-preview");
    if (!preview) {
      preview = document.createElement("img");
      preview.className = "media-upload-preview";
      preview.alt = "";
      input.parentNode.appendChild(preview);
    }
    var file = input.files && input.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    if (!file || !/^image\//.test(file.type)) {
      preview.removeAttribute("src");
      preview.hidden = true;
      return;
    }
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
  });
})();
