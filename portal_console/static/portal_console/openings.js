/* The console's waiting rooms page (portal_console/openings_views.py): every poll_seconds, fetch
   /console/openings/status.json and update each opening's figures and state in place. A change
   the page cannot show in place (an opening added or removed, paused or resumed elsewhere, so
   the button must change) reloads the page. Self-hosted, no inline script (CSP). */
(function () {
  "use strict";
  var root = document.querySelector("[data-wr-root]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-wr-url");
  var seconds = parseInt(root.getAttribute("data-wr-poll"), 10) || 2;
  var labels = {};
  var tpl = document.querySelector("template[data-wr-labels]");
  if (tpl) {
    Array.prototype.forEach.call(tpl.content.querySelectorAll("[data-state]"), function (el) {
      labels[el.getAttribute("data-state")] = el.textContent;
    });
  }
  var live = document.querySelector("[data-wr-live]");
  var asOf = document.querySelector("[data-wr-asof]");
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);

  function stateOf(o) {
    if (!o.in_effect) { return "ended"; }
    if (o.paused) { return "paused"; }
    if (o.opened && o.all_full) { return "full"; }
    return o.opened ? "open" : "before";
  }

  function apply(data) {
    var sections = root.querySelectorAll("[data-wr-opening]");
    if (sections.length !== data.openings.length) { window.location.reload(); return; }
    data.openings.forEach(function (o) {
      var section = root.querySelector('[data-wr-opening="' + o.id + '"]');
      if (!section) { window.location.reload(); return; }
      var form = section.querySelector("input[name=paused]");
      if (form && (form.value === "0") !== o.paused) { window.location.reload(); return; }
      Array.prototype.forEach.call(section.querySelectorAll("[data-wr-field]"), function (dd) {
        var value = o[dd.getAttribute("data-wr-field")];
        if (value !== undefined && value !== null) { dd.textContent = format.format(value); }
      });
      var state = section.querySelector("[data-wr-state]");
      var label = labels[stateOf(o)];
      if (state && label && state.textContent !== label) { state.textContent = label; }
    });
    if (live && asOf) {
      asOf.setAttribute("datetime", data.as_of);
      asOf.textContent = data.as_of_display;
      live.hidden = false;
    }
    seconds = data.poll_seconds || seconds;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
}());
