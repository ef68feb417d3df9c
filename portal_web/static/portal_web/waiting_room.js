/* The waiting room (docs/rush.md). Self-hosted, no inline code (CSP).
 * - The "you are in line" page a shed visitor gets: tries the page again after Retry-After.
 * - A registration opening's queue: polls its status JSON every 2 s (data-poll-ms) and updates
 *   the place, the estimated wait and the state without reloading; when the family is admitted
 *   it shows the way to the classes. The server writes every text (in the family's language).
 */
(function () {
  "use strict";

  var busy = document.querySelector("[data-retry-after]");
  if (busy) {
    var seconds = parseInt(busy.getAttribute("data-retry-after"), 10) || 5;
    window.setTimeout(function () {
      window.location.replace(busy.getAttribute("data-next") || window.location.href);
    }, seconds * 1000);
  }

  var room = document.querySelector("[data-status-url]");
  if (!room) return;
  var url = room.getAttribute("data-status-url");
  var every = parseInt(room.getAttribute("data-poll-ms"), 10) || 2000;
  var stopped = false;

  function set(name, value) {
    var nodes = room.querySelectorAll('[data-field="' + name + '"]');
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = value === null || value === undefined ? "" : String(value);
    }
  }

  function show(state) {
    var nodes = room.querySelectorAll("[data-when]");
    for (var i = 0; i < nodes.length; i++) {
      var states = nodes[i].getAttribute("data-when").split(" ");
      nodes[i].hidden = states.indexOf(state) === -1;
    }
  }

  function apply(data) {
    room.setAttribute("data-state", data.state);
    set("message", data.message);
    set("position", data.position);
    set("ahead", data.ahead);
    set("wait", data.wait_text);
    set("pass-expires", data.pass_expires_text);
    show(data.state);
    if (data.state === "closed") stopped = true;
  }

  function poll() {
    if (stopped) return;
    var request = new XMLHttpRequest();
    request.open("GET", url, true);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      var delay = every;
      if (request.status === 200) {
        try {
          apply(JSON.parse(request.responseText));
        } catch (e) {
          delay = every * 2;
        }
      } else {
        var retry = parseInt(request.getResponseHeader("Retry-After"), 10);
        delay = retry > 0 ? retry * 1000 : every * 2;
      }
      window.setTimeout(poll, delay);
    };
    request.onerror = function () {
      window.setTimeout(poll, every * 2);
    };
    request.send();
  }

  window.setTimeout(poll, every);
})();
