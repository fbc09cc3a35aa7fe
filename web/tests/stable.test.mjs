// The wall never jumps, and its levels have shapes of their own: every card,
// tile, figure and row keeps its box while thresholds are crossed (waiting,
// longest wait, service level, not ready, wrap-up), while a ticker is shown
// and while the stream banner is up; warn and alarm marks use shapes no state
// uses, with a pattern on the card, so they read without colour.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { boardAgentsFromState, floorSettled, launchBrowser, pollUntil, startDemo } from './helpers.mjs';

// boxes runs in the page: the box of everything that makes up the board, by
// a stable key, and the membership (card and tile ids in order). The header
// row keeps its box; inside it, a ticker shares the row with the sources.
function boxes() {
  const sel = ['.top', 'h1', '.now', '#kpis', '.kpi', '#queues', '.queue', '.q-stat', '.fig', '#agents-fit', '#agents', '.agent'];
  const out = {};
  for (const s of sel) {
    document.querySelectorAll(s).forEach((el, i) => {
      const owner = el.closest('[id]');
      const key = `${s}#${el.id || `${owner ? owner.id : ''}:${i}`}`;
      const r = el.getBoundingClientRect();
      out[key] = [r.x, r.y, r.width, r.height].map((v) => Math.round(v * 10) / 10);
    });
  }
  const members = [...document.querySelectorAll('.agent[id], .queue[id]')].map((e) => e.id).join(',');
  const levels = {};
  for (const el of document.querySelectorAll('.lvl-warn, .lvl-alarm')) {
    const kind = el.classList.contains('agent') ? 'agent' : el.classList.contains('kpi') ? 'kpi' : el.classList.contains('queue') ? 'queue'
      : el.classList.contains('q-oldest') ? 'oldest' : el.classList.contains('q-waiting') ? 'waiting' : el.classList.contains('fig') ? 'fig' : 'other';
    levels[`${kind}-${el.classList.contains('lvl-alarm') ? 'alarm' : 'warn'}`] = true;
  }
  return { out, members, levels, fitted: !!document.getElementById('agents-fit').style.getPropertyValue('--cols') };
}

function moved(a, b) {
  const out = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (!a[k] || !b[k]) out.push(`${k}: ${a[k] ? 'gone' : 'appeared'}`);
    else if (a[k].some((v, i) => Math.abs(v - b[k][i]) > 0.5)) out.push(`${k}: ${a[k]} -> ${b[k]}`);
  }
  return out;
}

describe('stable board', () => {
  let demo;
  let browser;
  const pages = [];

  before(async () => {
    [demo, browser] = await Promise.all([startDemo({ args: ['--short-thresholds'] }), launchBrowser()]);
    await floorSettled(demo);
    for (const [width, height] of [[1920, 1080], [3840, 2160]]) {
      const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(demo.boardURL);
      pages.push({ page, width, height });
    }
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('nothing moves when values, levels, the ticker or the stream banner change', async () => {
    const want = boardAgentsFromState(await demo.state()).size;
    // A settled baseline: every card in, the grid fitted, two equal samples.
    const base = [];
    for (const p of pages) {
      let prev = null;
      const b = await pollUntil(async () => {
        const cur = await p.page.evaluate(boxes);
        const n = cur.members.split(',').filter((id) => id.startsWith('agent-')).length;
        const ok = cur.fitted && n === want && prev && prev.members === cur.members && moved(prev.out, cur.out).length === 0;
        prev = cur;
        return { ok, cur };
      }, { timeoutMs: 15000, intervalMs: 1100, what: `a settled board at ${p.width}x${p.height}`, describe: (v) => v?.cur?.members });
      base.push(b.cur);
    }

    // Push every threshold across its level (the demo's thresholds are
    // seconds with --short-thresholds): the sim site's agents go not ready
    // (one to wrap-up), and calls queue up with nobody to take them.
    const state = await demo.state();
    const simAgents = state.agents.filter((a) => a.source === 'sim' && a.state !== 'logged_out');
    const simQueue = state.queues.find((q) => q.source === 'sim');
    assert.ok(simAgents.length >= 2 && simQueue, 'the sim site has agents and a queue');
    for (const [i, a] of simAgents.entries()) {
      await demo.action({ source: 'sim', agent: a.id, state: i === 0 ? 'wrap_up' : 'not_ready', reason: 'Stable test' });
    }
    for (let i = 0; i < 6; i++) await demo.action({ source: 'sim', queue: simQueue.id });

    const seen = {};
    let compared = 0;
    let rebased = 0;
    const problems = [];
    const sample = async () => {
      for (const [i, p] of pages.entries()) {
        const cur = await p.page.evaluate(boxes);
        Object.assign(seen, cur.levels);
        if (cur.members !== base[i].members) {
          // An agent of another site logged in or out: the grid may reflow.
          base[i] = cur;
          rebased++;
          continue;
        }
        compared++;
        for (const m of moved(base[i].out, cur.out)) problems.push(`${p.width}x${p.height}: ${m}`);
      }
    };
    const deadline = Date.now() + 16000;
    while (Date.now() < deadline) {
      await sample();
      await delay(300);
    }

    // A ticker message and the stream banner take no room of their own.
    const settings = await pages[0].page.context().newPage();
    await settings.goto(`${demo.base}/boards/floor/settings`);
    await settings.fill('[data-testid="ticker-input"]', 'Fire drill at 15:00: the stairs, not the lifts. A long message that cannot fit the header row at all.');
    await Promise.all([settings.waitForNavigation(), settings.click('[data-testid="ticker-save"]')]);
    await settings.close();
    for (const p of pages) {
      await p.page.waitForFunction(() => !document.getElementById('ticker').hasAttribute('data-empty'), null, { timeout: 5000 });
    }
    await sample();
    for (const p of pages) await p.page.evaluate(() => { document.getElementById('stream-banner').hidden = false; });
    await sample();
    for (const p of pages) await p.page.evaluate(() => { document.getElementById('stream-banner').hidden = true; });

    console.log(`# ${compared} samples compared, ${rebased} rebased on a change of membership; levels seen: ${Object.keys(seen).sort().join(' ')}`);
    for (const lvl of ['agent-warn', 'agent-alarm', 'kpi-alarm', 'queue-alarm', 'waiting-alarm', 'oldest-alarm']) {
      assert.ok(seen[lvl], `level ${lvl} was reached during the test (seen: ${Object.keys(seen).join(' ')})`);
    }
    assert.ok(compared >= 20, `${compared} samples compared`);
    assert.deepEqual(problems.slice(0, 15), [], `${problems.length} moves`);
  });

  test('warn and alarm have shapes and patterns no state uses', async () => {
    const { page } = pages[0];
    const sig = await page.evaluate(() => {
      const grid = document.createElement('div');
      grid.className = 'agents';
      grid.style.cssText = 'position:absolute;left:-5000px;top:0;width:2000px';
      document.body.appendChild(grid);
      const card = (cls) => {
        const c = document.createElement('div');
        c.className = `agent ${cls}`;
        c.innerHTML = '<span class="shape"></span><span class="a-name">N</span><span class="a-state">S</span><span class="a-clock clock">0:01</span>';
        grid.appendChild(c);
        return c;
      };
      const shapeOf = (st) => {
        const s = getComputedStyle(card(`s-${st}`).querySelector('.shape'));
        return [s.clipPath, s.borderRadius, s.transform, s.backgroundImage, s.borderStyle].join('|');
      };
      const markOf = (el) => {
        const s = getComputedStyle(el, '::after');
        return { shape: [s.clipPath, s.borderRadius, s.transform, s.backgroundImage, 'none'].join('|'), paint: s.backgroundColor, w: s.width };
      };
      const states = {};
      for (const st of ['available', 'offered', 'busy', 'wrap_up', 'not_ready', 'logged_out']) states[st] = shapeOf(st);
      const plain = card('s-not_ready');
      const warn = card('s-not_ready lvl-warn');
      const alarm = card('s-not_ready lvl-alarm');
      const look = (el) => { const s = getComputedStyle(el); return { outline: s.outlineStyle, bg: s.backgroundImage, bgc: s.backgroundColor }; };
      const out = { states, plain: { ...markOf(plain), ...look(plain) }, warn: { ...markOf(warn), ...look(warn) }, alarm: { ...markOf(alarm), ...look(alarm) } };
      // A KPI tile's mark.
      const kpi = document.querySelector('.kpi').cloneNode(true);
      kpi.id = '';
      kpi.classList.remove('lvl-warn', 'lvl-alarm');
      grid.appendChild(kpi);
      out.kpiWarn = (kpi.classList.add('lvl-warn'), markOf(kpi).shape);
      kpi.classList.remove('lvl-warn');
      out.kpiPlainPaint = markOf(kpi).paint;
      grid.remove();
      return out;
    });
    const stateShapes = new Set(Object.values(sig.states));
    assert.equal(stateShapes.size, 6, `every state has its own shape: ${JSON.stringify(sig.states)}`);
    for (const lvl of ['warn', 'alarm']) {
      assert.ok(!stateShapes.has(sig[lvl].shape), `${lvl} mark ${sig[lvl].shape} is no state's shape`);
      assert.notEqual(sig[lvl].paint, 'rgba(0, 0, 0, 0)', `${lvl} mark is painted`);
      assert.notEqual(sig[lvl].w, '0px', `${lvl} mark has a size`);
    }
    assert.notEqual(sig.warn.shape, sig.alarm.shape, 'warn and alarm marks differ');
    assert.equal(sig.kpiWarn, sig.warn.shape, 'a figure uses the same warn mark as a card');
    assert.equal(sig.plain.paint, 'rgba(0, 0, 0, 0)', 'no mark without a level (its place stays reserved)');
    assert.equal(sig.kpiPlainPaint, 'rgba(0, 0, 0, 0)');
    assert.equal(sig.plain.w, sig.warn.w, 'the mark takes the same room with or without a level');
    // Patterns: warn a dashed outline, alarm a solid outline over stripes.
    assert.equal(sig.plain.outline, 'none');
    assert.equal(sig.warn.outline, 'dashed');
    assert.equal(sig.alarm.outline, 'solid');
    assert.match(sig.alarm.bg, /repeating-linear-gradient/);
    assert.equal(sig.warn.bgc, sig.plain.bgc, 'a not-ready card over its threshold is not amber on amber');
  });
});
