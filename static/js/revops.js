// Small behaviours on top of htmx. Pages work without this file.
(function () {
  "use strict";
  // After htmx swaps a results table or a tab, move focus there so keyboard and
  // screen-reader users land on the new content rather than at the top.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "tab-panel") {
      var panel = document.getElementById("tab-panel");
      if (panel) { panel.setAttribute("tabindex", "-1"); panel.focus({ preventScroll: true }); }
    }
  });
  // Leave empty filter fields out of list requests, so the address bar (and a
  // bookmarked or shared link) only carries the filters actually in use.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.verb !== "get" || !event.detail.formData) { return; }
    var form = event.detail.formData;
    Array.from(form.keys()).forEach(function (key) {
      if (form.getAll(key).every(function (value) { return value === ""; })) { form.delete(key); }
    });
  });
  // Exception queue: "select all on this page" ticks every row; ticking a row
  // or "select all matching" keeps the two choices apart. "/" focuses search.
  document.addEventListener("change", function (event) {
    var box = event.target;
    var form = box.form;
    if (!form || box.type !== "checkbox") { return; }
    if (box.hasAttribute("data-select-all")) {
      form.querySelectorAll('input[name="ids"]').forEach(function (row) { row.checked = box.checked; });
    } else if (box.name === "ids" && !box.checked) {
      var all = form.querySelector("[data-select-all]");
      if (all) { all.checked = false; }
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) { return; }
    var search = document.querySelector("[data-search-shortcut]");
    if (search) { event.preventDefault(); search.focus(); search.select(); }
  });
  // A failed htmx request (network or server) says so instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    window.alert("The page could not be updated (HTTP " + status + "). Reload and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    window.alert("The server could not be reached. Check your connection and try again.");
  });
})();
