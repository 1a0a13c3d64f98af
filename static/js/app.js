// The pages' behaviour, from this site only: the Content-Security-Policy allows no inline script,
// no inline event handler and no eval (README, production settings). Loaded on every page (base.html).
(function () {
  "use strict";

  // A select that submits its form when changed (the language switch, the dealership pickers).
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // A live part refreshed by htmx every few seconds is not refreshed while the user is in one of its
  // fields (the supervisor floor's reassign selects).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail && event.detail.elt;
    if (element && element.hasAttribute("data-refresh-unless-focused") && element.querySelector(":focus")) {
      event.preventDefault();
    }
  });

  // Positions computed on the server (the program's timeline marks), set through the CSSOM.
  function place(root) {
    root.querySelectorAll("[data-left]").forEach(function (mark) { mark.style.left = mark.dataset.left + "%"; });
  }

  // The contact rules' department order: up and down buttons keep the hidden field in step.
  function departmentOrder() {
    var list = document.getElementById("department-order");
    var field = document.getElementById("id_department_order");
    if (!list || !field) return;
    function sync() {
      var items = Array.prototype.slice.call(list.querySelectorAll("li"));
      items.forEach(function (li, i) { li.querySelector(".rank").textContent = i + 1; });
      field.value = items.map(function (li) { return li.dataset.code; }).join(",");
    }
    list.addEventListener("click", function (event) {
      var li = event.target.closest("li");
      if (!li) return;
      if (event.target.classList.contains("up") && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
      if (event.target.classList.contains("down") && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
      sync();
    });
    sync();
  }

  // The template editor's variable picker: a click inserts {{ name }} where the cursor was.
  function variablePicker() {
    var picker = document.getElementById("picker");
    if (!picker) return;
    var last = document.getElementById("id_script_en");
    // Any script text area of the form, the A/B variants' too (added later): the last one focused.
    var form = document.getElementById("template-form") || document;
    form.addEventListener("focusin", function (event) {
      if (event.target.tagName === "TEXTAREA") last = event.target;
    });
    picker.addEventListener("click", function (event) {
      var name = event.target.dataset && event.target.dataset.variable;
      if (!name || !last) return;
      var text = "{{ " + name + " }}";
      var at = last.selectionStart == null ? last.value.length : last.selectionStart;
      var end = last.selectionEnd == null ? at : last.selectionEnd;
      last.value = last.value.slice(0, at) + text + last.value.slice(end);
      last.focus();
      last.selectionStart = last.selectionEnd = at + text.length;
    });
  }

  // The template editor's script A/B block: add a blank variant from its <template>, remove one.
  function scriptVariants() {
    var variants = document.getElementById("variants");
    var add = document.getElementById("add-variant");
    if (!variants || !add) return;
    var share = document.querySelector(".ab-share");
    var shown = function () { if (share) share.hidden = !variants.querySelector(".variant"); };
    add.addEventListener("click", function () {
      variants.appendChild(document.getElementById("variant-blank").content.cloneNode(true));
      shown();
    });
    variants.addEventListener("click", function (event) {
      if (!event.target.classList.contains("remove-variant")) return;
      event.target.closest(".variant").remove();
      shown();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    place(document);
    departmentOrder();
    variablePicker();
    scriptVariants();
  });
  document.addEventListener("htmx:afterSettle", function (event) { place(event.target); });

  /* Keyboard shortcuts of the queue and the call screen; bound once, so pages swapped in by htmx reuse them. */
  if (!window.clmKeys) {
    window.clmKeys = true;
    var closePanels = function () {
      document.querySelectorAll("#outcome-form .panel").forEach(function (p) { p.hidden = true; });
      document.querySelectorAll("#outcome-form button[data-panel]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    };
    var openPanel = function (name) {
      closePanels();
      var panel = document.getElementById("panel-" + name);
      var button = document.querySelector('#outcome-form button[data-panel="' + name + '"]');
      if (!panel) return;
      panel.hidden = false;
      if (button) button.setAttribute("aria-pressed", "true");
      var first = panel.querySelector("input:not([type=hidden]), select, textarea, button.save");
      if (first) first.focus();
    };
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("#outcome-form button[data-panel]");
      if (button) { event.preventDefault(); openPanel(button.dataset.panel); return; }
      var cancel = event.target.closest && event.target.closest("#outcome-form button.cancel");
      if (cancel) { event.preventDefault(); closePanels(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      var target = event.target;
      var form = document.getElementById("outcome-form");
      if (target.matches && target.matches("input, textarea, select")) {
        if (form && (target.form === form)) {
          if (event.key === "Escape") { closePanels(); target.blur(); return; }
          if (event.key === "Enter" && target.tagName !== "TEXTAREA") {
            /* Enter never records "reached" by accident: it saves the open panel, or does nothing. */
            event.preventDefault();
            var panel = target.closest(".panel");
            if (panel && !panel.hidden) panel.querySelector("button.save").click();
          }
        }
        return;
      }
      if (event.key === "Escape") { closePanels(); return; }
      var undo = document.getElementById("undo-last");
      if (undo && event.code === "KeyU") { event.preventDefault(); undo.click(); return; }
      if (form) {
        /* M (the key, whatever the layout) puts the cursor in the mileage: a call needs no mouse but Dial */
        var mileage = document.getElementById("id_odometer_km");
        if (mileage && event.code === "KeyM") { event.preventDefault(); mileage.focus(); mileage.select(); return; }
        var button = form.querySelector('button[data-key="' + event.key + '"]');
        if (button && !button.disabled) { event.preventDefault(); button.click(); }
        return;
      }
      var next = document.getElementById("next-call");
      if (next && event.code === "KeyN" && !next.disabled) { event.preventDefault(); next.click(); }
    });
  }
})();
