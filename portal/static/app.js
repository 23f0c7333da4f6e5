/* Trellis: the little JavaScript the pages use; every page works without it. */
(function () {
  "use strict";
  // Confirm what cannot be undone in a dialog instead of on a page of its own (web/confirm.py).
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-confirm]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-confirm"));
      if (dialog && typeof dialog.showModal === "function") {
        event.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("textarea, button[type=submit]");
        if (first) first.focus();
      }
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    // Copy a link or code to the clipboard: <button data-copy="#element-id">.
    var copier = event.target.closest("[data-copy]");
    if (copier && navigator.clipboard) {
      var source = document.querySelector(copier.getAttribute("data-copy"));
      navigator.clipboard.writeText(source.value || source.textContent.trim()).then(function () {
        copier.textContent = copier.getAttribute("data-copied") || copier.textContent;
      });
    }
  });
  // The navigation menu on phones: a <details> opens it without JavaScript; close it on Escape.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll("details.menu[open]").forEach(function (d) { d.removeAttribute("open"); });
    }
  });
})();
