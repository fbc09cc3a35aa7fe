// wallboard console script: sorts and filters the agents table in the
// browser, so both survive the stream swapping rows by id (a row moves when
// its agent changes; the scroll position stays put). Flagged agents (a
// reason alert, set by wallboard.js) sort to the top. Queue and agent pages
// keep only the elements they focus on, and an agent's day is fetched again
// when that agent changes.
(function () {
  'use strict';

  var body = document.body;
  var mode = body.getAttribute('data-mode') || 'agents';
  var focus = body.getAttribute('data-focus') || '';
  var form = document.getElementById('filters');
  var sortKey = 'since';
  var sortDir = -1; // longest in state first
  var stateOrder = { not_ready: 0, wrap_up: 1, offered: 2, busy: 3, available: 4 };

  function rows() {
    var g = document.getElementById('console-rows');
    return g ? Array.prototype.slice.call(g.children) : [];
  }

  function filters() {
    if (!form) return { queue: '', state: '', reason: '', min: 0 };
    return {
      queue: form.elements.queue.value,
      state: form.elements.state.value,
      reason: form.elements.reason.value.trim().toLowerCase(),
      min: (parseFloat(form.elements.min.value) || 0) * 60000
    };
  }

  function since(r) { return Date.parse(r.getAttribute('data-since')) || 0; }

  function key(r) {
    switch (sortKey) {
      case 'name': return (r.getAttribute('data-name') || '').toLowerCase();
      case 'state': return stateOrder[r.getAttribute('data-state')] !== undefined ? stateOrder[r.getAttribute('data-state')] : 9;
      case 'reason': return (r.getAttribute('data-reason') || '').toLowerCase();
      case 'queues': return (r.querySelector('.c-queues') || {}).textContent || '';
      default: return -since(r); // time in state: an earlier since is longer
    }
  }

  function compare(a, b) {
    var fa = a.classList.contains('flagged') ? 0 : 1, fb = b.classList.contains('flagged') ? 0 : 1;
    if (fa !== fb) return fa - fb; // reason alerts first, whatever the sort
    var ka = key(a), kb = key(b);
    if (ka < kb) return -sortDir;
    if (ka > kb) return sortDir;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  // prune keeps what a focused page shows: the queue page its queue's
  // panel, the agent page its agent's row (resets send the whole board).
  function prune() {
    if (mode === 'queue' || mode === 'agent') {
      var panels = document.querySelectorAll('#console-queues > .cq');
      for (var i = 0; i < panels.length; i++) {
        if (mode === 'agent' || panels[i].id !== focus) panels[i].remove();
      }
    }
    if (mode === 'agent') {
      var rs = rows();
      for (var j = 0; j < rs.length; j++) if (rs[j].id !== focus) rs[j].remove();
    }
  }

  var lastOrder = '';
  function apply() {
    prune();
    var f = filters();
    var now = Date.now() + (window.wallboardOffset ? window.wallboardOffset() : 0);
    var rs = rows();
    var counts = {};
    for (var i = 0; i < rs.length; i++) {
      var r = rs[i];
      var st = r.getAttribute('data-state');
      var show = (!f.queue || (' ' + r.getAttribute('data-queues') + ' ').indexOf(' ' + f.queue + ' ') >= 0) &&
        (!f.state || st === f.state) &&
        (!f.reason || (r.getAttribute('data-reason') || '').toLowerCase().indexOf(f.reason) >= 0) &&
        (!f.min || now - since(r) >= f.min);
      if (r.hidden === show) r.hidden = !show;
      if (show) counts[st] = (counts[st] || 0) + 1;
    }
    var sorted = rs.slice().sort(compare);
    var order = sorted.map(function (r) { return r.id; }).join(' ');
    if (order !== lastOrder || sorted.some(function (r, k) { return rs[k] !== r; })) {
      lastOrder = order;
      var x = window.scrollX, y = window.scrollY;
      var g = document.getElementById('console-rows');
      // Move only rows that are out of place, so most rows never leave the DOM.
      for (var k = 0; k < sorted.length; k++) {
        if (g.children[k] !== sorted[k]) g.insertBefore(sorted[k], g.children[k] || null);
      }
      window.scrollTo(x, y);
    }
    var c = document.getElementById('state-counts');
    if (c) {
      var parts = [];
      // The words come in the page's language (data-labels, console_view.go).
      var labels = { available: 'available', offered: 'ringing', busy: 'on a contact', wrap_up: 'wrap-up', not_ready: 'not ready' };
      try { labels = JSON.parse(c.getAttribute('data-labels')) || labels; } catch (err) { /* keep English */ }
      var order = ['available', 'offered', 'busy', 'wrap_up', 'not_ready'];
      for (var o = 0; o < order.length; o++) if (counts[order[o]]) parts.push(counts[order[o]] + ' ' + labels[order[o]]);
      c.textContent = parts.join(' · ');
    }
    var heads = document.querySelectorAll('[data-sort]');
    for (var h = 0; h < heads.length; h++) {
      var on = heads[h].getAttribute('data-sort') === sortKey;
      heads[h].setAttribute('aria-sort', on ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    }
  }

  document.addEventListener('click', function (e) {
    var h = e.target.closest && e.target.closest('[data-sort]');
    if (!h) return;
    var k = h.getAttribute('data-sort');
    if (k === sortKey) sortDir = -sortDir; else { sortKey = k; sortDir = k === 'since' ? -1 : 1; }
    apply();
  });
  if (form) {
    form.addEventListener('input', apply);
    form.addEventListener('change', apply);
    form.addEventListener('submit', function (e) { e.preventDefault(); });
  }

  // The agent page: fetch the day again when the agent's row changes.
  var dayEl = document.getElementById('agent-day');
  var lastRow = '';
  var fetching = false;
  function refreshDay() {
    if (!dayEl || mode !== 'agent') return;
    var r = document.getElementById(focus);
    var sig = r ? r.getAttribute('data-state') + '|' + r.getAttribute('data-since') : '';
    if (!lastRow) { lastRow = sig; return; }
    if (sig === lastRow || fetching) return;
    lastRow = sig;
    fetching = true;
    fetch(dayEl.getAttribute('data-url'), { cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      return res.ok ? res.text() : null;
    }).then(function (html) {
      fetching = false;
      if (html !== null) dayEl.innerHTML = html;
    }, function () { fetching = false; });
  }

  document.addEventListener('htmx:sse:after:message', function () { apply(); refreshDay(); });
  setInterval(apply, 1000); // time-in-state filters and flags change with time
  apply();
  refreshDay();
})();
