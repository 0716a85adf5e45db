// Site-wide behaviour that needs JavaScript. Everything here enhances markup
// that already works (or reads fine) without it; no inline scripts (CSP).
(function () {
  "use strict";

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i += 1) {
      var pair = parts[i].trim().split("=");
      if (pair[0] === name) { return decodeURIComponent(pair.slice(1).join("=")); }
    }
    return "";
  }

  // The language switcher lives on cached, shared pages, so it cannot carry a
  // per-visitor CSRF token: fill it from the CSRF cookie just before sending.
  function languageSwitcher(form) {
    var select = form.querySelector("select");
    var sending = false;
    function send() {
      if (sending) { return; }
      sending = true;
      var field = form.querySelector("input[name=csrfmiddlewaretoken]");
      var token = readCookie("csrftoken");
      var ready = token ? Promise.resolve(token) : fetch(form.dataset.csrfUrl, { credentials: "same-origin" })
        .then(function () { return readCookie("csrftoken"); });
      ready.then(function (value) {
        field.value = value;
        HTMLFormElement.prototype.submit.call(form);
      }).catch(function () { sending = false; });
    }
    form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
    if (select) { select.addEventListener("change", send); }
  }

  // A copy button on every code block; the text comes from the <code> inside.
  function copyButtons(root) {
    var labels = document.documentElement.dataset;
    Array.prototype.forEach.call(root.querySelectorAll(".post-body pre"), function (pre) {
      if (pre.parentNode.classList.contains("code-block")) { return; }
      var wrapper = document.createElement("div");
      wrapper.className = "code-block";
      pre.parentNode.insertBefore(wrapper, pre);
      wrapper.appendChild(pre);
      pre.setAttribute("tabindex", "0");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "code-copy";
      button.textContent = labels.copyLabel || "Copy";
      button.setAttribute("aria-label", labels.copyCodeLabel || "Copy code");
      button.addEventListener("click", function () {
        var code = pre.querySelector("code") || pre;
        var text = code.innerText;
        var done = function () {
          button.textContent = labels.copiedLabel || "Copied";
          window.setTimeout(function () { button.textContent = labels.copyLabel || "Copy"; }, 2000);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
        } else {
          fallbackCopy(text);
          done();
        }
      });
      wrapper.appendChild(button);
    });
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing else to try */ }
    document.body.removeChild(area);
  }

  // A "#" link after each heading that has an id, to share a section.
  function headingAnchors(root) {
    var label = document.documentElement.dataset.anchorLabel || "Link to this section";
    Array.prototype.forEach.call(root.querySelectorAll(".post-body :is(h2, h3, h4)[id]"), function (heading) {
      if (heading.querySelector(".heading-anchor")) { return; }
      var link = document.createElement("a");
      link.className = "heading-anchor";
      link.href = "#" + encodeURIComponent(heading.id);
      link.setAttribute("aria-label", label + ": " + heading.textContent);
      link.textContent = "#";
      heading.appendChild(link);
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-language-form]"), languageSwitcher);
    copyButtons(document);
    headingAnchors(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
