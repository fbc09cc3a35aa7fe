// Board options in the demo (cmd/wallboard/demo.go): Glasgow sorts problems
// first and shows targets, abandon rate, speed of answer and agents by state;
// Austin groups its agents by queue.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { domID, floorSettled, launchBrowser, pollUntil, startDemo } from './helpers.mjs';

describe('board options', () => {
  let demo;
  let browser;
  let page;
  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    await floorSettled(demo);
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('targets beside figures, abandon rate, speed of answer, agents by state', async () => {
    await page.goto(`${demo.base}/boards/glasgow`);
    await page.waitForSelector('.agent[id]');
    const k = await page.evaluate(() => {
      const txt = (sel) => document.querySelector(sel)?.textContent.trim() ?? null;
      return {
        slTarget: txt('#kpi-service_level .kpi-target'), waitTarget: txt('#kpi-waiting .kpi-target'),
        abd: txt('#kpi-abandon_rate .kpi-value'), abdTarget: txt('#kpi-abandon_rate .kpi-target'),
        asa: txt('#kpi-asa .kpi-value'), asaLabel: txt('#kpi-asa .kpi-label'),
        states: [...document.querySelectorAll('#kpi-agents_by_state .st')].map((e) => [e.dataset.state, +e.textContent]),
        cards: [...document.querySelectorAll('.agent[id]')].map((e) => e.dataset.state),
      };
    });
    assert.equal(k.slTarget, 'target 80%');
    assert.equal(k.waitTarget, 'target < 3');
    assert.equal(k.abdTarget, 'target ≤ 5%');
    assert.match(k.abd, /^(\d+%|–)$/);
    assert.match(k.asa, /^(\d+:\d\d|–)$/);
    assert.equal(k.asaLabel, 'Avg answer');
    assert.deepEqual(k.states.map(([s]) => s), ['available', 'offered', 'busy', 'wrap_up', 'not_ready']);
    const byState = Object.fromEntries(k.states);
    for (const [s, n] of Object.entries(byState)) {
      assert.equal(n, k.cards.filter((c) => c === s).length, `${s}: tile ${n}, cards ${k.cards.join(',')}`);
    }
  });

  test('problems first: the longest not ready leads the grid', async () => {
    await page.goto(`${demo.base}/boards/glasgow`);
    await page.waitForSelector('.agent[id]');
    const state = await demo.state();
    const sim = state.agents.filter((a) => a.source === 'sim' && a.state !== 'logged_out' && a.state !== 'not_ready');
    assert.ok(sim.length >= 3, 'three sim agents to play with');
    const order = () => page.$$eval('.agent[id]', (els) => els.map((e) => e.id));
    const [a, b] = [sim[sim.length - 1], sim[sim.length - 2]].map((x) => domID('agent', 'sim', x.id));
    await demo.action({ source: 'sim', agent: sim[sim.length - 1].id, state: 'not_ready', reason: 'Sort test' });
    await pollUntil(async () => (await order())[0] === a, { what: `${a} first`, describe: () => '' });
    await demo.action({ source: 'sim', agent: sim[sim.length - 2].id, state: 'not_ready', reason: 'Sort test' });
    const o = await pollUntil(async () => { const x = await order(); return { ok: x[1] === b, x }; }, { what: `${b} second` });
    assert.equal(o.x[0], a, 'the one not ready longer stays first');
    await demo.action({ source: 'sim', agent: sim[sim.length - 1].id, state: 'available' });
    await pollUntil(async () => (await order())[0] === b, { what: `${b} first once ${a} is available` });
  });

  test('grouped by queue: each card under its queue', async () => {
    await page.goto(`${demo.base}/boards/austin`);
    await page.waitForSelector('.agent[id]');
    const g = await page.evaluate(() => {
      let group = null;
      const out = [];
      for (const el of document.getElementById('agents').children) {
        if (el.classList.contains('group')) group = el.textContent.trim();
        else out.push({ id: el.id, group, queues: el.title });
      }
      return { cards: out, groups: [...document.querySelectorAll('#agents .group')].map((e) => e.textContent.trim()) };
    });
    assert.ok(g.groups.length >= 1);
    assert.deepEqual([...g.groups].sort(), g.groups, 'groups in order');
    assert.equal(new Set(g.groups).size, g.groups.length, 'each group once');
    for (const c of g.cards) {
      assert.ok(c.group && c.queues.split(', ').includes(c.group) || c.group === 'No queue', `${c.id} (${c.queues}) under ${c.group}`);
    }
  });
});
