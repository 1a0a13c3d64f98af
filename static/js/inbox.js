// The inbox refreshes its list every minute (hx-trigger on #inbox-list), but never while someone is
// typing or choosing in one of its forms: a refresh would throw away what they typed.
document.addEventListener("htmx:beforeRequest", function (event) {
  var list = event.detail.elt;
  if (!list || !list.hasAttribute || !list.hasAttribute("data-inbox-refresh")) return;
  var active = document.activeElement;
  var busy = active && list.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
  var open = list.querySelector("details[open]");
  if (busy || open) event.preventDefault();
});
