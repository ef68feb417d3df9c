/* The class list widget of {{ origin_json|safe|cut:'"' }}. Paste on your website:
 *   <script src="{{ origin_json|safe|cut:'"' }}/embed.js" data-program="Gymnastics" async></script>
 * Attributes (all optional): data-program, data-location, data-level, data-instructor,
 * data-term (names or ids), data-kind (class, camp, event), data-day (mon..sun), data-age,
 * data-time-of-day, data-has-openings, data-q, data-limit (1-100), data-lang (en, es),
 * data-target (a CSS selector of the element to fill; default: right after this script),
 * data-style="none" (no built-in styles).
 * No cookies are read or written; "Enroll" opens the portal on its own site. */
(function () {
  "use strict";
  var ORIGIN = {{ origin_json|safe }};
  var MESSAGES = {{ messages_json|safe }};
  var DEFAULT_LANG = {{ default_lang_json|safe }};
  var FILTERS = ["program", "location", "level", "instructor", "term", "kind", "day", "age",
    "time-of-day", "has-openings", "q", "limit", "lang"];
  var STYLE_ID = "cp-embed-style";
  var CSS = ".cp-embed{font:inherit;color:inherit}" +
    ".cp-embed__list{list-style:none;margin:0;padding:0;display:grid;gap:1rem;" +
    "grid-template-columns:repeat(auto-fill,minmax(16rem,1fr))}" +
    ".cp-embed__item{border:1px solid currentColor;border-radius:8px;padding:1rem}" +
    ".cp-embed__item h3{margin:0 0 .5rem;font-size:1.1rem}" +
    ".cp-embed__item p{margin:.25rem 0}" +
    ".cp-embed__enroll{display:inline-block;margin-top:.5rem;padding:.5rem 1rem;" +
    "border:2px solid currentColor;border-radius:8px;font-weight:600;min-height:44px;" +
    "box-sizing:border-box}" +
    ".cp-embed a:focus-visible{outline:3px solid currentColor;outline-offset:2px}" +
    ".cp-embed__sr{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;" +
    "overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (Object.prototype.hasOwnProperty.call(attrs, key)) { node.setAttribute(key, attrs[key]); }
    }
    if (text !== undefined && text !== null) { node.appendChild(document.createTextNode(String(text))); }
    return node;
  }

  function money(amount, currency, lang) {
    try {
      return new Intl.NumberFormat(lang, { style: "currency", currency: currency }).format(amount / 100);
    } catch (e) {
      return (amount / 100).toFixed(2) + " " + currency;
    }
  }

  function dateText(iso, lang) {
    var parts = String(iso).split("-");
    var d = new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2]));
    try {
      return new Intl.DateTimeFormat(lang, { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" }).format(d);
    } catch (e) {
      return iso;
    }
  }

  function render(container, data, lang) {
    var labels = data.labels;
    container.textContent = "";
    container.setAttribute("aria-busy", "false");
    var list = el("ul", { "class": "cp-embed__list", "aria-label": labels.list_label });
    data.results.forEach(function (item) {
      var li = el("li", { "class": "cp-embed__item" });
      var headingId = "cp-embed-" + item.id + "-" + Math.random().toString(36).slice(2, 8);
      li.appendChild(el("h3", { id: headingId }, item.name));
      var s = item.schedule;
      var days = s.days.map(function (d) { return labels.days[d] || d; }).join(", ");
      li.appendChild(el("p", null, days + " " + s.start_time + "–" + s.end_time));
      li.appendChild(el("p", null, dateText(s.start_date, lang) + " – " + dateText(s.end_date, lang)));
      if (item.location) { li.appendChild(el("p", null, item.location.name)); }
      if (item.ages && (item.ages.min !== null || item.ages.max !== null)) {
        var lo = item.ages.min === null ? "" : item.ages.min;
        var hi = item.ages.max === null ? "+" : "–" + item.ages.max;
        li.appendChild(el("p", null, labels.ages + ": " + lo + hi));
      }
      if (item.levels && item.levels.length) {
        li.appendChild(el("p", null, item.levels.map(function (l) { return l.name; }).join(", ")));
      }
      if (item.price.tuition) { li.appendChild(el("p", null, money(item.price.tuition, item.price.currency, lang))); }
      var a = item.availability;
      var seats = a.status === "FULL" ? labels.full :
        (a.openings === null ? labels.open : a.openings + " " + labels.openings);
      li.appendChild(el("p", null, seats));
      var link = el("a", { "class": "cp-embed__enroll", href: item.url, "aria-describedby": headingId },
        a.status === "FULL" ? labels.waitlist : labels.enroll);
      li.appendChild(link);
      list.appendChild(li);
    });
    if (!data.results.length) { container.appendChild(el("p", null, labels.none)); }
    else { container.appendChild(list); }
    container.appendChild(el("p", null)).appendChild(el("a", { href: data.search_url }, labels.see_all));
  }

  function failed(container, lang) {
    var words = MESSAGES[lang] || MESSAGES.en;
    container.textContent = "";
    container.setAttribute("aria-busy", "false");
    container.appendChild(el("p", null, words.failed + " "));
    container.appendChild(el("p", null)).appendChild(el("a", { href: ORIGIN + "/classes/" }, words.portal));
  }

  function mount(script) {
    if (script.getAttribute("data-cp-embed") === "done") { return; }
    var target = script.getAttribute("data-target");
    if (target && !document.querySelector(target) && document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { mount(script); });
      return;
    }
    script.setAttribute("data-cp-embed", "done");
    var lang = script.getAttribute("data-lang") || DEFAULT_LANG;
    if (!MESSAGES[lang]) { lang = DEFAULT_LANG; }
    if (script.getAttribute("data-style") !== "none" && !document.getElementById(STYLE_ID)) {
      var style = el("style", { id: STYLE_ID });
      style.appendChild(document.createTextNode(CSS));
      (document.head || document.documentElement).appendChild(style);
    }
    var container = target ? document.querySelector(target) : null;
    if (!container) {
      container = el("div");
      script.parentNode.insertBefore(container, script.nextSibling);
    }
    container.classList.add("cp-embed");
    container.setAttribute("aria-live", "polite");
    container.setAttribute("aria-busy", "true");
    container.textContent = (MESSAGES[lang] || MESSAGES.en).loading;
    var query = [];
    FILTERS.forEach(function (name) {
      var value = script.getAttribute("data-" + name);
      if (value) { query.push(encodeURIComponent(name.replace(/-/g, "_")) + "=" + encodeURIComponent(value)); }
    });
    if (!script.getAttribute("data-lang")) { query.push("lang=" + encodeURIComponent(lang)); }
    var url = ORIGIN + "/embed/offerings.json" + (query.length ? "?" + query.join("&") : "");
    fetch(url, { credentials: "omit", mode: "cors" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { render(container, data, data.language || lang); })
      .catch(function () { failed(container, lang); });
  }

  function mountAll() {
    var current = document.currentScript;
    if (current && current.src && current.src.indexOf(ORIGIN + "/embed.js") === 0) {
      mount(current);
      return;
    }
    var scripts = document.querySelectorAll("script[src]");
    for (var i = 0; i < scripts.length; i++) {
      if (scripts[i].src.indexOf(ORIGIN + "/embed.js") === 0) { mount(scripts[i]); }
    }
  }

  if (document.readyState === "loading" && !document.currentScript) {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
