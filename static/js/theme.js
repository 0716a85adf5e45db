// Light/dark theme: follows the system unless the visitor picked one.
// Loaded in <head> (not deferred) so the chosen theme applies before paint.
(function () {
  "use strict";
  var KEY = "bdg-theme";
  var root = document.documentElement;
  var stored = null;
  try { stored = window.localStorage.getItem(KEY); } catch (e) { stored = null; }
  if (stored === "light" || stored === "dark") { root.setAttribute("data-theme", stored); }

  function current() {
    var chosen = root.getAttribute("data-theme");
    if (chosen) { return chosen; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.setAttribute("aria-pressed", current() === "dark" ? "true" : "false");
      button.addEventListener("click", function () {
        var next = current() === "dark" ? "light" : "dark";
        root.setAttribute("data-theme", next);
        button.setAttribute("aria-pressed", next === "dark" ? "true" : "false");
        try { window.localStorage.setItem(KEY, next); } catch (e) { /* private mode */ }
      });
    });
  });
})();
