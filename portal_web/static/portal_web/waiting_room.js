/* The waiting room (docs/rush.md). Self-hosted, no inline code (CSP).
 * - The "you are in line" page a shed visitor gets: tries the page again after Retry-After.
 * - A registration opening's queue: polls its status JSON as often as the server asks
 *   (`poll_seconds` in each answer: every second near the front, less often further back;
 *   data-poll-ms before the first answer) and updates the place, the estimated wait and the
 *   state without reloading; when the family is admitted it shows the way to the classes. The
 *   server writes every text (in the family's language).
 * - "Leave the line" sends DELETE to the API's queue (data-leave-url, the session and its CSRF
 *   token): the family's place, or its pass and checkout slot, goes to the next family at once.
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
  var MIN_MS = 1000;
  var MAX_MS = 60000;
  var stopped = false;
  var timer = null;

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
    var asked = parseFloat(data.poll_seconds);
    if (asked > 0) every = Math.min(Math.max(asked * 1000, MIN_MS), MAX_MS);
  }

  function later(delay) {
    if (stopped) return;
    timer = window.setTimeout(poll, delay);
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
      later(delay);
    };
    request.onerror = function () {
      later(every * 2);
    };
    request.send();
  }

  var leave = room.querySelector("[data-leave-url]");
  if (leave) {
    leave.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = leave.querySelector("input[name=csrfmiddlewaretoken]");
      var request = new XMLHttpRequest();
      request.open("DELETE", leave.getAttribute("data-leave-url"), true);
      request.setRequestHeader("Accept", "application/json");
      if (token) request.setRequestHeader("X-CSRFToken", token.value);
      request.onload = function () {
        if (request.status === 204) {
          stopped = true;
          if (timer !== null) window.clearTimeout(timer);
          window.location.reload();
        }
      };
      request.send();
    });
  }

  show(room.getAttribute("data-state"));
  later(every);
})();
