// wallboard page script: clocks that tick from timestamps, threshold levels
// that follow them, an agent grid sized to fit the screen, and a watchdog that
// keeps a TV on a live stream without anyone touching it.
(function () {
  'use strict';

  var offset = 0;          // server clock minus this browser's clock, in ms
  var lastData = Date.now(); // when the stream last delivered anything
  var opened = false;      // the stream has connected at least once
  var up = false;
  var loadedAt = Date.now();
  var stream = document.getElementById('stream');
  var heartbeat = stream ? parseInt(stream.getAttribute('data-heartbeat-ms'), 10) || 15000 : 15000;

  function serverNow() { return Date.now() + offset; }

  // data-now has whole seconds and stays in the page until the health strip
  // is swapped again: use it only when it is new, and only to correct a real
  // skew, so the clocks never step back.
  var lastNowAttr = '';
  function syncFrom(el) {
    var s = el && el.getAttribute('data-now');
    if (!s || s === lastNowAttr) return;
    lastNowAttr = s;
    var t = Date.parse(s);
    if (t && Math.abs(t - Date.now() - offset) > 1500) offset = t - Date.now();
  }

  function pad(n) { return n < 10 ? '0' + n : '' + n; }

  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s >= 3600) return Math.floor(s / 3600) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
    return Math.floor(s / 60) + ':' + pad(s % 60);
  }

  // The board's clock: 24-hour, or 12-hour with AM/PM (data-clock="12h").
  var nowEl = document.getElementById('now');
  var twelve = nowEl && nowEl.getAttribute('data-clock') === '12h';
  function hhmmss(ms) {
    var d = new Date(ms);
    var h = d.getHours();
    if (twelve) return (h % 12 || 12) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + (h < 12 ? ' AM' : ' PM');
    return pad(h) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  // level sets lvl-warn / lvl-alarm on el from its data-warn / data-alarm
  // seconds against the elapsed time.
  function level(el, elapsedMs) {
    var warn = parseInt(el.getAttribute('data-warn'), 10) || 0;
    var alarm = parseInt(el.getAttribute('data-alarm'), 10) || 0;
    var s = elapsedMs / 1000;
    el.classList.toggle('lvl-alarm', alarm > 0 && s >= alarm);
    el.classList.toggle('lvl-warn', warn > 0 && s >= warn && !(alarm > 0 && s >= alarm));
  }

  // flag marks an agent whose time in state passed its reason alert
  // (data-flag seconds): class "flagged" and data-flagged="true".
  function flag(el, elapsedMs) {
    var after = parseInt(el.getAttribute('data-flag'), 10) || 0;
    var on = after > 0 && elapsedMs / 1000 >= after;
    if (el.classList.contains('flagged') !== on) el.classList.toggle('flagged', on);
    if (on) el.setAttribute('data-flagged', 'true'); else if (el.hasAttribute('data-flagged')) el.removeAttribute('data-flagged');
  }
  window.wallboardOffset = function () { return offset; };

  // agentClock brings one card's clock, level and flag up to now.
  function agentClock(a, now) {
    var since = Date.parse(a.getAttribute('data-since'));
    if (!since) return;
    var c = a.querySelector('.clock');
    var text = clock(now - since);
    if (c && c.textContent !== text) c.textContent = text; // no needless DOM writes
    level(a, now - since);
    flag(a, now - since);
  }

  // waitClock does the same for a longest-wait figure.
  function waitClock(w, now) {
    var oldest = Date.parse(w.getAttribute('data-oldest'));
    var el = w.querySelector('.clock') || w.querySelector('.kpi-value');
    if (!oldest) { w.classList.remove('lvl-warn', 'lvl-alarm'); return; }
    var wt = clock(now - oldest);
    if (el && el.textContent !== wt) el.textContent = wt;
    level(w, now - oldest);
  }

  function tick() {
    var now = serverNow();
    var agents = document.querySelectorAll('.agent[data-since]');
    for (var i = 0; i < agents.length; i++) agentClock(agents[i], now);
    var waits = document.querySelectorAll('[data-oldest]');
    for (var j = 0; j < waits.length; j++) waitClock(waits[j], now);
    var n = document.getElementById('now');
    if (n) n.textContent = hhmmss(now);
    fit();
    watchdog();
    kiosk();
    sound();
  }

  // fit chooses the agent grid's columns so that every card fits the space
  // left on screen, as large as possible, with no scrolling. It runs on the
  // clock tick (once a second) and when the card count changes.
  var lastFit = '';
  function fit() {
    // The sizes live on a wrapper the stream never swaps, so a grid swapped
    // in by the stream inherits them at once.
    var g = document.getElementById('agents-fit');
    if (!g) return;
    // Every cell of the grid: the cards, and group headers (group_by).
    var n = g.getElementsByClassName('agent').length ? g.getElementsByClassName('agents')[0].childElementCount : 0;
    var W = g.clientWidth, H = g.clientHeight;
    var key = n + 'x' + W + 'x' + H;
    if (key === lastFit || n === 0 || W === 0 || H === 0) return;
    lastFit = key;
    var gap = Math.max(4, Math.round(Math.min(W, H) * 0.008));
    var aspect = 5.5; // a card reads best about 5 times as wide as tall (a name and a clock in text of at least --t)
    var best = null, full = null;
    for (var c = 1; c <= n; c++) {
      var r = Math.ceil(n / c);
      var w = (W - gap * (c - 1)) / c;
      var h = (H - gap * (r - 1)) / r;
      var eh = Math.min(w / aspect, h);
      if (!best || eh > best.eh) best = { c: c, r: r, eh: eh, h: h };
      if (c * r === n && (!full || eh > full.eh)) full = { c: c, r: r, eh: eh, h: h };
    }
    // A grid with no hole (8 cards as 4x2, not 3x3 less one) when its cards
    // are nearly as large.
    if (full && full.eh >= best.eh * 0.8) best = full;
    // The smallest text on a board (app.css --t): 1.15% of a 16:9 width, 2%
    // of the height. A card too short for two lines of it shows one.
    var t = 1.15 * Math.min(window.innerWidth / 100, window.innerHeight * 0.0178);
    var fs = Math.max(t, Math.min(best.eh * 0.3, 64));
    g.style.setProperty('--cols', best.c);
    g.style.setProperty('--rows', best.r);
    g.style.setProperty('--gap', gap + 'px');
    g.style.setProperty('--card-fs', fs.toFixed(1) + 'px');
    g.classList.toggle('compact', best.h < fs * 2.75);
  }

  function showStreamBanner(show) {
    var b = document.getElementById('stream-banner');
    if (!b) return;
    if (show && !removed) {
      var asof = document.getElementById('stream-asof');
      if (asof && b.hidden) asof.textContent = hhmmss(lastData + offset);
      b.hidden = false;
      document.body.classList.add('stale');
    } else {
      b.hidden = true;
      document.body.classList.remove('stale');
    }
  }

  // The SSE extension reconnects a stream that dropped by itself. It never
  // retries a first connect that got something other than an event stream
  // (a proxy's 502), and a stream can die silently; then the page reloads,
  // but only once /healthz answers, so a TV never lands on an error page.
  var checking = false;
  var removed = false;
  function watchdog() {
    if (!stream || removed) return; // the editor's preview has no stream
    var silent = Date.now() - lastData;
    var dead = (!opened && Date.now() - loadedAt > heartbeat / 2 + 5000) || silent > 2 * heartbeat + 5000;
    if (silent > heartbeat + 3000 || !up) showStreamBanner(opened || Date.now() - loadedAt > 3000);
    if (!dead || checking) return;
    checking = true;
    fetch('/healthz', { cache: 'no-store' }).then(function (r) {
      if (r.ok) { window.location.reload(); } else { checking = false; }
    }, function () { checking = false; });
  }

  document.addEventListener('htmx:sse:after:connection', function () {
    opened = true; up = true; lastData = Date.now(); showStreamBanner(false);
  });
  document.addEventListener('htmx:sse:after:message', function () {
    lastData = Date.now(); up = true; showStreamBanner(false);
    syncFrom(document.getElementById('health'));
    boardState();
  });

  // The board's definition changed (the editor, the API): its stream resets,
  // which redraws figures, thresholds, queues and agents in place. The reset
  // carries a hash of what only a page load shows (title, look, language):
  // when that differs from the page's, reload once /healthz answers. A
  // removed board says so and its stream stops for good.
  var stateEl = document.getElementById('board-state');
  var pageGen = stateEl ? stateEl.getAttribute('data-gen') : null;
  var reloading = false;
  function boardState() {
    var el = document.getElementById('board-state');
    if (!el || removed) return;
    if (el.getAttribute('data-removed')) {
      removed = true;
      showStreamBanner(false);
      if (stream && stream.parentNode) stream.parentNode.removeChild(stream);
      document.body.classList.add('removed');
      return;
    }
    var gen = el.getAttribute('data-gen');
    if (pageGen && gen && gen !== pageGen && !reloading) {
      reloading = true;
      fetch('/healthz', { cache: 'no-store' }).then(function (r) {
        if (r.ok) { window.location.reload(); } else { reloading = false; }
      }, function () { reloading = false; });
    }
  }
  // Cards and tiles the stream swaps in carry the server's rendering of their
  // clocks; bring just those up to now, before they are painted, rather than
  // every card on the page after every message.
  if (window.MutationObserver) {
    new MutationObserver(function (muts) {
      var now = serverNow();
      for (var i = 0; i < muts.length; i++) {
        var added = muts[i].addedNodes;
        for (var j = 0; j < added.length; j++) {
          var n = added[j];
          if (n.nodeType !== 1) continue;
          if (n.matches('.agent[data-since]')) agentClock(n, now);
          else n.querySelectorAll('.agent[data-since]').forEach(function (a) { agentClock(a, now); });
          if (n.matches('[data-oldest]')) waitClock(n, now);
          n.querySelectorAll('[data-oldest]').forEach(function (w) { waitClock(w, now); });
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  }
  document.addEventListener('heartbeat', function (e) {
    lastData = Date.now();
    var t = e.detail && parseInt(e.detail.data, 10);
    if (t) offset = t - Date.now();
  });
  // A stream refused with 404 after it ran: the TV link was revoked or the
  // board removed. The server answered, so reload into its page that says
  // which, rather than show a frozen board.
  // Before each reconnect, a HEAD of the stream (cheap: the server checks
  // the link or board and answers without a body) finds that out at once,
  // instead of after the reconnect's back-off.
  var gone = false;
  function goneReload() { if (!gone) { gone = true; window.location.reload(); } }
  document.addEventListener('htmx:sse:error', function (e) {
    up = false; showStreamBanner(true);
    if (e.detail && (e.detail.status === 404 || e.detail.status === 410)) goneReload();
  });
  document.addEventListener('htmx:sse:before:connection', function (e) {
    var c = e.detail && e.detail.connection;
    if (gone || !c || !c.attempt || !c.url || !window.fetch) return;
    fetch(c.url, { method: 'HEAD', cache: 'no-store' }).then(function (r) {
      if (r.status === 404 || r.status === 410) goneReload();
    }, function () { /* the server is down: the reconnect waits for it */ });
  });
  document.addEventListener('htmx:sse:close', function () { up = false; showStreamBanner(true); });
  window.addEventListener('resize', function () { lastFit = ''; fit(); });

  // Kiosk screens (the #screen element of kiosk.templ): rotate to the next
  // board once /healthz answers (never onto an error page), shift the
  // picture a few pixels now and then, and dim it at night.
  var screen = document.getElementById('screen');
  function screenAttr(name) { return screen ? screen.getAttribute(name) || '' : ''; }
  var rotateMs = parseInt(screenAttr('data-rotate-ms'), 10) || 0;
  var shiftMs = parseInt(screenAttr('data-shift-ms'), 10) || 0;
  var nextURL = screenAttr('data-next');
  var rotating = false;
  var shiftStep = -1;

  function minutes(hhmm) {
    var m = /^(\d\d):(\d\d)$/.exec(hhmm);
    return m ? parseInt(m[1], 10) * 60 + parseInt(m[2], 10) : -1;
  }

  // nowMinutes is the time of day, in the board's time zone when it has one.
  function nowMinutes() {
    var d = new Date(serverNow());
    var tz = screenAttr('data-tz');
    if (tz && window.Intl) {
      try {
        var parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(d);
        var h = 0, mi = 0;
        for (var i = 0; i < parts.length; i++) {
          if (parts[i].type === 'hour') h = parseInt(parts[i].value, 10);
          if (parts[i].type === 'minute') mi = parseInt(parts[i].value, 10);
        }
        return h * 60 + mi;
      } catch (e) { /* an unknown zone: the browser's own */ }
    }
    return d.getHours() * 60 + d.getMinutes();
  }

  function kiosk() {
    if (!screen) return;
    if (nextURL && rotateMs > 0 && !rotating && Date.now() - loadedAt >= rotateMs) {
      rotating = true;
      fetch('/healthz', { cache: 'no-store' }).then(function (r) {
        if (r.ok) { window.location.replace(nextURL); } else { rotating = false; }
      }, function () { rotating = false; });
    }
    if (shiftMs > 0) document.body.classList.add('shift');
    // The position follows the clock, not the page's age, so a screen that
    // rotates (reloads) more often than it shifts still moves.
    var step = shiftMs > 0 ? Math.floor(serverNow() / shiftMs) % 8 : -1;
    if (step >= 0 && step !== shiftStep) {
      shiftStep = step;
      var a = step * Math.PI / 4;
      document.body.style.setProperty('--sx', Math.round(3 * Math.cos(a)) + 'px');
      document.body.style.setProperty('--sy', Math.round(3 * Math.sin(a)) + 'px');
    }
    var from = minutes(screenAttr('data-dim-from')), to = minutes(screenAttr('data-dim-to'));
    if (from >= 0 && to >= 0) {
      var now = nowMinutes();
      var dim = from <= to ? (now >= from && now < to) : (now >= from || now < to);
      document.body.style.setProperty('--dim', screenAttr('data-brightness') || '0.4');
      document.body.classList.toggle('dimmed', dim);
    }
  }

  // Definitions: every figure with class "def" explains itself in its title
  // (hover); a click or Enter opens the same words in a popover.
  function definition(el) {
    var pop = document.getElementById('def-pop');
    if (!pop) {
      pop = document.createElement('div');
      pop.id = 'def-pop';
      pop.className = 'def-pop';
      pop.setAttribute('role', 'tooltip');
      document.body.appendChild(pop);
    }
    if (!el) { pop.hidden = true; return; }
    pop.textContent = el.getAttribute('title') || '';
    pop.hidden = false;
    var r = el.getBoundingClientRect();
    pop.style.left = Math.max(4, Math.min(r.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - 340)) + 'px';
    pop.style.top = (r.bottom + window.scrollY + 6) + 'px';
  }
  document.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('.def[title]');
    if (el || !(e.target.closest && e.target.closest('#def-pop'))) definition(el);
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') definition(null);
    if (e.key === 'Enter' && e.target.classList && e.target.classList.contains('def')) definition(e.target);
  });

  // Sound on kiosk screens whose link has it: a beep when a queue goes into
  // alarm. Browsers start audio only after a tap, so the screen asks for one
  // and tells the server whether its sound is on or blocked (admin page).
  var soundURL = screenAttr('data-sound-url');
  var audio = null, soundState = '', alarmed = {}, beeps = 0;
  function report(state) {
    if (state === soundState) return;
    soundState = state;
    document.body.setAttribute('data-sound', state);
    var btn = document.getElementById('sound-enable');
    if (btn) btn.hidden = state !== 'blocked';
    fetch(soundURL, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ state: state }),
      credentials: 'omit', cache: 'no-store' }).catch(function () { soundState = ''; });
  }
  function setupSound() {
    if (!soundURL) return;
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { report('unsupported'); return; }
    audio = new AC();
    var btn = document.createElement('button');
    btn.id = 'sound-enable';
    btn.type = 'button';
    btn.className = 'sound-enable';
    btn.textContent = screenAttr('data-sound-label') || 'Tap to enable sound'; // in the board's language
    btn.hidden = true;
    btn.setAttribute('data-testid', 'sound-enable');
    btn.addEventListener('click', function () {
      audio.resume().then(function () { report(audio.state === 'running' ? 'enabled' : 'blocked'); });
    });
    document.body.appendChild(btn);
    audio.onstatechange = function () { report(audio.state === 'running' ? 'enabled' : 'blocked'); };
    report(audio.state === 'running' ? 'enabled' : 'blocked');
  }
  function beep() {
    var o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = 880;
    g.gain.value = 0.2;
    o.connect(g); g.connect(audio.destination);
    o.start(); o.stop(audio.currentTime + 0.4);
  }
  // sound beeps once for each queue that goes into alarm (any of its
  // figures), not again while it stays there: a second queue's alarm beeps
  // although the first is still in alarm.
  function sound() {
    if (!audio) return;
    var now = {}, fresh = false;
    var els = document.querySelectorAll('#queues .lvl-alarm');
    for (var i = 0; i < els.length; i++) {
      var q = els[i].closest('[data-testid="queue-tile"]');
      var id = q ? q.id : 'queues';
      if (!alarmed[id]) fresh = true;
      now[id] = true;
    }
    if (fresh) {
      beeps++;
      document.body.setAttribute('data-alarm-beeps', beeps);
      if (audio.state === 'running') beep();
    }
    alarmed = now;
  }

  setupSound();
  syncFrom(document.getElementById('health'));
  tick();
  setInterval(tick, 1000);
})();
