// The board in a real browser: what it shows on load, how fast a change in the
// simulation reaches it, that its clocks tick by themselves, and that the
// kiosk TV link shows the same board.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  STATES, boardAgentsFromState, diffAgents, domID, floorSettled, launchBrowser, pageAgents, pickAgent, pollUntil,
  rfcSeconds, startDemo, trackStream, watchConsole,
} from './helpers.mjs';

const MIN_AGENTS = 20; // the demo has 40 agents; most are logged in within seconds

describe('board page', () => {
  let demo;
  let browser;
  let context;
  let page;
  let consoleErrors;
  const touched = new Set(); // agents set to not_ready by a test, so later tests pick others

  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await trackStream(context);
    page = await context.newPage();
    consoleErrors = watchConsole(page);
    const resp = await page.goto(demo.boardURL);
    assert.equal(resp.status(), 200);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('loads with agents, queues, live sources and no errors', async () => {
    assert.equal(await page.title(), 'Contact centre floor · wallboard');
    assert.equal(await page.locator('[data-testid="board-title"]').textContent(), 'Contact centre floor');

    // Agents log in over the first seconds of the simulation.
    await page.waitForFunction((n) => document.querySelectorAll('[id^="agent-"][data-state]').length >= n, MIN_AGENTS, { timeout: 15000 });
    const agents = await page.$$eval('[id^="agent-"][data-state]', (els) => els.map((e) => ({
      id: e.id, state: e.getAttribute('data-state'), since: e.getAttribute('data-since'), name: e.querySelector('.a-name')?.textContent ?? '',
    })));
    assert.ok(agents.length >= MIN_AGENTS, `${agents.length} agents`);
    for (const a of agents) {
      assert.match(a.id, /^agent-[A-Za-z0-9_-]+$/);
      assert.ok(STATES.has(a.state), `${a.id}: state ${a.state}`);
      assert.notEqual(a.state, 'logged_out', `${a.id}: logged-out agents are not shown`);
      assert.match(a.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, `${a.id}: data-since`);
      assert.ok(Math.abs(Date.parse(a.since) - Date.now()) < 10 * 60 * 1000, `${a.id}: data-since ${a.since} is near now`);
      assert.ok(a.name.trim().length > 0, `${a.id}: has a name`);
    }
    assert.equal(new Set(agents.map((a) => a.id)).size, agents.length, 'agent ids are unique');

    const queues = await page.$$eval('[id^="queue-"][data-waiting]', (els) => els.map((e) => ({ id: e.id, waiting: e.getAttribute('data-waiting') })));
    const state = await demo.state();
    assert.equal(queues.length, state.queues.length, 'one tile per queue');
    for (const q of queues) {
      assert.match(q.id, /^queue-[A-Za-z0-9_-]+$/);
      assert.match(q.waiting, /^\d+$/, `${q.id}: data-waiting`);
    }
    for (const q of state.queues) {
      assert.ok(queues.some((t) => t.id === domID('queue', q.source, q.id)), `queue ${q.source}/${q.id} has a tile`);
    }

    const sources = await page.$$eval('[id^="source-"]', (els) => els.map((e) => ({ id: e.id, status: e.getAttribute('data-status') })));
    assert.deepEqual(sources.map((s) => s.id).sort(), state.sources.map((s) => `source-${s.name}`).sort());
    for (const s of sources) assert.equal(s.status, 'live', `${s.id}`);

    // The stream connected: the banner stays hidden.
    await page.waitForFunction(() => window.__sse && window.__sse.open >= 1 && window.__sse.messages >= 1, null, { timeout: 10000 });
    assert.match(await page.locator('#stream').getAttribute('hx-sse:connect'), /^\/boards\/floor\/events(\?.*)?$/);
    assert.equal(await page.locator('#stream-banner').isHidden(), true);
    assert.deepEqual(consoleErrors, []);
  });

  test('a change in the simulation shows within a second', async () => {
    const before = await demo.state();
    const agent = pickAgent(before, touched);
    touched.add(agent.id);
    const id = domID('agent', agent.source, agent.id);
    const reason = `Drill ${Date.now().toString(36)}`;
    await page.locator(`#${id}`).waitFor({ state: 'attached', timeout: 5000 });

    const t0 = performance.now();
    await demo.action({ source: agent.source, agent: agent.id, state: 'not_ready', reason });
    await page.waitForFunction(([id, reason]) => {
      const el = document.getElementById(id);
      return el && el.getAttribute('data-state') === 'not_ready' && el.textContent.includes(reason);
    }, [id, reason], { polling: 'raf', timeout: 5000 });
    const ms = performance.now() - t0;
    console.log(`# change visible after ${ms.toFixed(0)} ms`);
    assert.ok(ms < 1000, `change took ${ms.toFixed(0)} ms`);

    const after = await demo.state();
    const a = after.agents.find((x) => x.source === agent.source && x.id === agent.id);
    assert.equal(a.state, 'not_ready');
    assert.equal(a.reason, reason);
    assert.equal(await page.locator(`#${id}`).getAttribute('data-since'), rfcSeconds(a.state_since));
    assert.match(await page.locator(`#${id} .a-state`).textContent(), new RegExp(`Not ready.*${reason}`));
  });

  test('an agent logging out and in leaves and rejoins the grid in its place', async () => {
    await floorSettled(demo);
    const agent = pickAgent(await demo.state(), touched);
    touched.add(agent.id);
    const id = domID('agent', agent.source, agent.id);
    await page.locator(`#${id}`).waitFor({ state: 'attached', timeout: 5000 });
    await demo.action({ source: agent.source, agent: agent.id, state: 'logged_out', reason: '' });
    await page.locator(`#${id}`).waitFor({ state: 'detached', timeout: 5000 });
    await demo.action({ source: agent.source, agent: agent.id, state: 'available', reason: '' });
    await page.locator(`#${id}`).waitFor({ state: 'attached', timeout: 5000 });
    // Back between the cards that sort before and after it by name.
    const [prev, name, next] = await page.$eval(`#${id}`, (el) => [
      el.previousElementSibling?.querySelector('.a-name')?.textContent ?? '',
      el.querySelector('.a-name').textContent,
      el.nextElementSibling?.querySelector('.a-name')?.textContent ?? '\uffff',
    ]);
    assert.ok(prev <= name && name <= next, `"${name}" sits between "${prev}" and "${next}"`);
    assert.equal(await page.$eval(`#${id}`, (el) => el.parentElement.id), 'agents');
    // And the whole grid agrees with the state API, card for card.
    await pollUntil(async () => {
      const d = diffAgents(boardAgentsFromState(await demo.state()), await pageAgents(page));
      return d.length === 0 ? { ok: true } : { ok: false, d };
    }, { timeoutMs: 5000, what: 'page equal to the state API', describe: (v) => v.d.join('; ') });
    assert.deepEqual(consoleErrors, []);
  });

  test('clocks tick in the browser from data-since', async () => {
    // While agents log in the stream re-sends the whole grid many times a
    // second; watch the page's own ticking once the floor has settled.
    await floorSettled(demo);
    // A not_ready set by hand holds for a minute, so data-since stays put.
    const agent = pickAgent(await demo.state(), touched);
    touched.add(agent.id);
    const id = domID('agent', agent.source, agent.id);
    const reason = `Clock ${Date.now().toString(36)}`;
    await demo.action({ source: agent.source, agent: agent.id, state: 'not_ready', reason });
    await page.waitForFunction(([id, reason]) => document.getElementById(id)?.textContent.includes(reason), [id, reason], { timeout: 5000 });

    // Sample the card's clock every 50 ms for a while, with the browser's
    // time and the card's data-since. The stream keeps delivering other
    // agents' changes meanwhile, and may re-render the whole grid (agents
    // logging in or out), so note whether the card is still the same node:
    // a change on the same node is the page's own clock ticking.
    const WATCH_MS = 4200;
    const seen = await page.evaluate(([id, ms]) => new Promise((resolve) => {
      let node = document.getElementById(id);
      const sample = () => {
        const el = document.getElementById(id);
        const r = { text: el.querySelector('.clock').textContent, since: el.getAttribute('data-since'), now: Date.now(), inPlace: el === node };
        node = el;
        return r;
      };
      const log = [sample()];
      const t = setInterval(() => {
        const r = sample();
        if (r.text !== log.at(-1).text || !r.inPlace) log.push(r);
      }, 50);
      setTimeout(() => { clearInterval(t); log.push(sample()); resolve(log); }, ms);
    }), [id, WATCH_MS]);

    const seconds = (text) => {
      const m = /^(?:(\d+):)?(\d+):(\d\d)$/.exec(text.trim());
      assert.ok(m, `clock text ${JSON.stringify(text)} is [h:]m:ss`);
      return (Number(m[1] || 0) * 3600) + Number(m[2]) * 60 + Number(m[3]);
    };
    const trace = seen.map((r) => `+${r.now - seen[0].now}ms ${r.text}${r.inPlace ? '' : ' (re-rendered)'}`).join(', ');
    assert.ok(seen.every((r) => r.since === seen[0].since), `data-since stayed ${seen[0].since}`);
    let changes = 0;
    let inPlace = 0;
    let lastChange = seen[0].now;
    for (let i = 0; i < seen.length; i++) {
      const r = seen[i];
      const got = seconds(r.text);
      const want = (r.now - Date.parse(r.since)) / 1000;
      assert.ok(Math.abs(got - want) <= 2, `clock ${r.text} (${got} s) vs now - data-since ${want.toFixed(1)} s; ${trace}`);
      if (i > 0) {
        const prev = seconds(seen[i - 1].text);
        assert.ok(got >= prev, `the clock went back from ${seen[i - 1].text} to ${r.text}; ${trace}`);
        if (got > prev) {
          changes++;
          if (r.inPlace) inPlace++;
          assert.ok(r.now - lastChange <= 2500, `the clock stood still for ${r.now - lastChange} ms; ${trace}`);
          lastChange = r.now;
        }
      }
    }
    assert.ok(seen.at(-1).now - lastChange <= 2500, `the clock stood still for ${seen.at(-1).now - lastChange} ms at the end; ${trace}`);
    assert.ok(changes >= 3, `the clock changed ${changes} times in ${WATCH_MS} ms; ${trace}`);
    assert.ok(inPlace >= 2, `the page itself advanced the clock ${inPlace} times; ${trace}`);
  });

  test('the kiosk TV link shows the same board without a session', async () => {
    const tvContext = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    try {
      assert.deepEqual(await tvContext.cookies(), []);
      const tv = await tvContext.newPage();
      const errors = watchConsole(tv);
      const resp = await tv.goto(demo.tvURL);
      assert.equal(resp.status(), 200);
      assert.equal(tv.url(), demo.tvURL, 'no redirect to a sign-in page');
      assert.equal(await tv.title(), await page.title());
      assert.equal(await tv.locator('[data-testid="board-title"]').textContent(), 'Contact centre floor');
      assert.equal(await tv.evaluate(() => document.body.classList.contains('kiosk')), true);
      const path = new URL(demo.tvURL).pathname;
      assert.ok((await tv.locator('#stream').getAttribute('hx-sse:connect')).startsWith(`${path}/events`));

      // Both pages follow the same model: their agents and queues agree with
      // each other and with the API (retried across the simulation's churn).
      await pollUntil(async () => {
        const [a, b, state] = await Promise.all([pageAgents(page), pageAgents(tv), demo.state()]);
        const want = boardAgentsFromState(state);
        const d = [...diffAgents(want, b).map((s) => `tv ${s}`), ...diffAgents(want, a).map((s) => `board ${s}`)];
        return { ok: d.length === 0 && b.size >= MIN_AGENTS, d, n: b.size };
      }, { timeoutMs: 10000, intervalMs: 150, what: 'the TV board to match the board and the API' });
      const queues = (p) => p.$$eval('[id^="queue-"][data-waiting]', (els) => els.map((e) => e.id).sort());
      assert.deepEqual(await queues(tv), await queues(page));
      for (const s of await tv.$$eval('[id^="source-"]', (els) => els.map((e) => e.getAttribute('data-status')))) assert.equal(s, 'live');
      assert.equal(await tv.locator('#stream-banner').isHidden(), true);

      // The TV's stream is live too: a change reaches it.
      const agent = pickAgent(await demo.state(), touched);
      touched.add(agent.id);
      const reason = `TV ${Date.now().toString(36)}`;
      await demo.action({ source: agent.source, agent: agent.id, state: 'not_ready', reason });
      await tv.waitForFunction(([id, reason]) => document.getElementById(id)?.textContent.includes(reason),
        [domID('agent', agent.source, agent.id), reason], { timeout: 3000 });
      assert.deepEqual(await tvContext.cookies(), [], 'the TV link sets no session');
      assert.deepEqual(errors, []);
    } finally {
      await tvContext.close();
    }
  });
});
