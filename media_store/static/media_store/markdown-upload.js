/**
 * Paste or drop images into a Markdown textarea: they are uploaded and their
 * /images/<uuid> reference is inserted at the cursor.
 *
 * Contract (any page, any number of textareas, added at any time):
 *
 *   <textarea name="body"
 *             data-image-upload-url="{% url 'media_store:upload' %}"
 *             data-image-direct-url="{% url 'media_store:direct' %}"   optional
 *             data-image-upload-format="markdown">                     or "html"
 *   </textarea>
 *   <script src="{% static 'media_store/markdown-upload.js' %}" defer></script>
 *
 * - The page must be rendered for a logged-in staff user with the
 *   media_store.add_image permission; the CSRF token is read from the
 *   enclosing form's csrfmiddlewaretoken field, else the csrftoken cookie.
 * - data-image-upload-url: multipart POST of `file` and `alt`; answers
 *   201 {id, url, markdown, html, width, height} or 400 {error}.
 * - data-image-direct-url (optional): ask for a presigned POST and send the
 *   file straight to the bucket, then confirm; without S3 the server answers
 *   {method: "multipart"} and the upload URL is used instead.
 * - Inserted text: `![alt](/images/<uuid>)` (markdown, the default) or
 *   `<img alt="alt" src="/images/<uuid>"/>` (html). The alt text is the file
 *   name without its extension (empty for clipboard screenshots).
 * - While uploading, a placeholder `![Uploading name…](#n)` marks the spot;
 *   errors appear in a status line after the textarea (role="status") and
 *   the textarea fires `image-upload:done` / `image-upload:error` events.
 */
(function () {
  "use strict";

  var SELECTOR = "textarea[data-image-upload-url]";
  var GENERIC_NAMES = /^(image|blob|clipboard|screenshot|untitled|paste)$/i;
  var counter = 0;

  function csrfToken(textarea) {
    var form = textarea.form;
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function altFor(file) {
    var name = (file.name || "").replace(/\.[A-Za-z0-9]+$/, "");
    name = name.replace(/[\[\]<>"]/g, "").replace(/[_-]+/g, " ").trim();
    return GENERIC_NAMES.test(name) ? "" : name.slice(0, 300);
  }

  function statusLine(textarea) {
    var next = textarea.nextElementSibling;
    if (next && next.classList.contains("image-upload-status")) return next;
    var status = document.createElement("p");
    status.className = "image-upload-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    textarea.insertAdjacentElement("afterend", status);
    return status;
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart;
    var end = textarea.selectionEnd;
    var before = textarea.value.slice(0, start);
    // Images read best as their own paragraph-less line.
    if (before && !/\n$/.test(before)) text = "\n" + text;
    textarea.setRangeText(text + "\n", start, end, "end");
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function replacePlaceholder(textarea, placeholder, text) {
    var at = textarea.value.indexOf(placeholder);
    if (at === -1) {
      insertAtCursor(textarea, text);
      return;
    }
    var end = at + placeholder.length;
    // A failed upload takes its own line break with it.
    if (!text && textarea.value.charAt(end) === "\n") end += 1;
    var keepStart = textarea.selectionStart;
    var keepEnd = textarea.selectionEnd;
    textarea.setRangeText(text, at, end, "preserve");
    if (keepStart > at) {
      var delta = text.length - (end - at);
      textarea.setSelectionRange(keepStart + delta, keepEnd + delta);
    }
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function postForm(url, data, textarea) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(textarea), Accept: "application/json" },
    }).then(function (response) {
      return response
        .json()
        .catch(function () { return { error: "Upload failed (" + response.status + ")." }; })
        .then(function (body) {
          if (!response.ok) throw new Error(body.error || "Upload failed.");
          return body;
        });
    });
  }

  function uploadMultipart(textarea, file, alt) {
    var data = new FormData();
    data.append("file", file, file.name || "image");
    data.append("alt", alt);
    return postForm(textarea.getAttribute("data-image-upload-url"), data, textarea);
  }

  function uploadDirect(textarea, file, alt) {
    var start = new FormData();
    start.append("content_type", file.type);
    return postForm(textarea.getAttribute("data-image-direct-url"), start, textarea)
      .then(function (plan) {
        if (plan.method !== "post") return uploadMultipart(textarea, file, alt);
        var form = new FormData();
        Object.keys(plan.fields).forEach(function (key) {
          form.append(key, plan.fields[key]);
        });
        form.append("file", file); // S3 requires the file to be the last field
        // no-cors: the bucket needs no CORS rules; the confirm call below is
        // what checks that the object arrived intact.
        return fetch(plan.url, { method: "POST", body: form, mode: "no-cors" })
          .then(function () {
            var confirm = new FormData();
            confirm.append("token", plan.token);
            confirm.append("alt", alt);
            return postForm(plan.confirm_url, confirm, textarea);
          });
      });
  }

  function upload(textarea, file) {
    var alt = altFor(file);
    var label = (file.name || "image").replace(/[\[\]()]/g, "");
    var placeholder = "![Uploading " + label + "…](#upload-" + ++counter + ")";
    var status = statusLine(textarea);
    insertAtCursor(textarea, placeholder);
    status.textContent = "Uploading " + label + "…";
    var send = textarea.hasAttribute("data-image-direct-url") ? uploadDirect : uploadMultipart;
    return send(textarea, file, alt).then(
      function (image) {
        var html = textarea.getAttribute("data-image-upload-format") === "html";
        replacePlaceholder(textarea, placeholder, html ? image.html : image.markdown);
        status.textContent = "";
        textarea.dispatchEvent(new CustomEvent("image-upload:done", { detail: image }));
      },
      function (error) {
        replacePlaceholder(textarea, placeholder, "");
        status.textContent = label + ": " + error.message;
        textarea.dispatchEvent(
          new CustomEvent("image-upload:error", { detail: { message: error.message } })
        );
      }
    );
  }

  function imageFiles(list) {
    return Array.prototype.filter.call(list || [], function (file) {
      return /^image\//.test(file.type);
    });
  }

  document.addEventListener("paste", function (event) {
    var textarea = event.target.closest && event.target.closest(SELECTOR);
    if (!textarea || !event.clipboardData) return;
    var files = imageFiles(event.clipboardData.files);
    if (!files.length) return; // plain text pastes as usual
    event.preventDefault();
    files.forEach(function (file) { upload(textarea, file); });
  });

  document.addEventListener("dragover", function (event) {
    var textarea = event.target.closest && event.target.closest(SELECTOR);
    if (!textarea || !event.dataTransfer) return;
    if (Array.prototype.indexOf.call(event.dataTransfer.types, "Files") === -1) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });

  document.addEventListener("drop", function (event) {
    var textarea = event.target.closest && event.target.closest(SELECTOR);
    if (!textarea || !event.dataTransfer) return;
    var files = imageFiles(event.dataTransfer.files);
    if (!files.length) return;
    event.preventDefault();
    textarea.focus();
    files.forEach(function (file) { upload(textarea, file); });
  });
})();
