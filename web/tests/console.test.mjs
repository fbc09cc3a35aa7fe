// The supervisor's console in a real browser: the agents table keeps its
// sort and filter while the stream swaps rows (a row moves when its agent
// changes, the scroll position stays), reason alerts flag an agent on the
// console and the board and sort it to the top, definitions open on a
// click, and the queue and agent pages show what they focus on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, domID, launchBrowser, pickAgent, pollUntil, startDemo, watchConsole } from './helpers.mjs';

const ORDER = { not_ready: 0, wrap_up: 1, offered: 2, busy: 3, available: 4 };

describe('supervisor console', () => {
  let demo;
  let browser;
  let context;
  let page;
  let errors;
  const touched = new Set();

  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 500 } });
    page = await context.newPage();
    errors = watchConsole(page);
    const resp = await page.goto(`${demo.base}/boards/floor/console`);
    assert.equal(resp.status(), 200);
    await page.waitForFunction(() => document.querySelectorAll('#console-rows > [role=row]').length >= 20, null, { timeout: 15000 });
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  // rows reads the table as shown: visible rows in DOM order.
  const rows = () => page.$$eval('#console-rows > [role=row]', (els) => els.filter((e) => !e.hidden).map((e) => ({
    id: e.id, state: e.getAttribute('data-state'), name: e.getAttribute('data-name'), flagged: e.classList.contains('flagged'),
  })));

  async function change(state, reason = '') {
    const a = pickAgent(await demo.state(), touched);
    touched.add(a.id);
    await demo.action({ source: 'sim', agent: a.id, state, reason });
    return domID('agent', 'sim', a.id);
  }

  test('sort by state survives live updates; the changed row moves, the scroll stays', async () => {
    await page.click('[data-sort="state"]');
    await page.evaluate(() => window.scrollTo(0, 200));
    const y0 = await page.evaluate(() => window.scrollY);
    assert.ok(y0 > 0, 'the table is long enough to scroll');
    const id = await change('not_ready', 'Coaching');
    await page.waitForFunction((i) => document.getElementById(i)?.getAttribute('data-state') === 'not_ready', id, { timeout: 5000 });
    await page.waitForTimeout(50); // the swap's message handler has run
    const r = await rows();
    const keys = r.map((x) => ORDER[x.state] ?? 9);
    for (let i = 1; i < keys.length; i++) {
      if (r[i].flagged !== r[i - 1].flagged) continue; // flagged agents first
      assert.ok(keys[i - 1] <= keys[i], `row ${i} (${r[i].id} ${r[i].state}) after ${r[i - 1].id} ${r[i - 1].state}`);
    }
    const pos = r.findIndex((x) => x.id === id);
    assert.ok(pos >= 0 && r.slice(0, pos).every((x) => x.flagged || x.state === 'not_ready'), `changed row at ${pos} is among not-ready rows`);
    assert.equal(await page.evaluate(() => window.scrollY), y0, 'scroll position kept');
    assert.equal(await page.getAttribute('[data-sort="state"]', 'aria-sort'), 'ascending');
  });

  test('a state filter holds across live updates', async () => {
    await page.selectOption('[data-testid="filter-state"]', 'not_ready');
    const id = await change('not_ready', 'Training');
    await page.waitForFunction((i) => { const e = document.getElementById(i); return e && e.getAttribute('data-state') === 'not_ready' && !e.hidden; }, id, { timeout: 5000 });
    await demo.action({ source: 'sim', agent: id.replace(/^agent-sim-/, ''), state: 'available' });
    // The simulation may offer it a call at once: any state but not_ready will do.
    await page.waitForFunction((i) => { const e = document.getElementById(i); return e && e.getAttribute('data-state') !== 'not_ready'; }, id, { timeout: 5000 });
    await page.waitForTimeout(50);
    assert.equal(await page.evaluate((i) => document.getElementById(i).hidden, id), true, 'an agent leaving the filter is hidden');
    for (const r of await rows()) assert.equal(r.state, 'not_ready', `${r.id} shown under the not-ready filter`);
    assert.match(await page.textContent('#state-counts'), /not ready/);
    await page.selectOption('[data-testid="filter-state"]', '');
  });

  test('a reason alert flags the agent on the console and the board, first in the table', async () => {
    await page.click('[data-sort="name"]');
    const id = await change('not_ready', 'Alert drill'); // the demo flags it after 2s
    await page.waitForFunction((i) => document.getElementById(i)?.getAttribute('data-flagged') === 'true', id, { timeout: 8000 });
    await page.waitForTimeout(50);
    const r = await rows();
    assert.ok(r[0].flagged, `first row ${r[0].id} is flagged`);
    assert.ok(r.slice(0, r.findIndex((x) => !x.flagged)).some((x) => x.id === id), `${id} among the flagged rows at the top`);
    const board = await context.newPage();
    await board.goto(demo.boardURL);
    await board.waitForFunction((i) => { const e = document.getElementById(i); return e && e.classList.contains('flagged') && e.getAttribute('data-flagged') === 'true'; }, id, { timeout: 5000 });
    await board.close();
  });

  test('a figure explains itself on a click', async () => {
    const cell = page.locator('.cq td.def').first();
    const title = await cell.getAttribute('title');
    assert.match(title, /^Offered today/);
    await cell.click();
    await pollUntil(() => page.evaluate(() => { const p = document.getElementById('def-pop'); return p && !p.hidden && p.textContent; }), { what: 'popover' });
    assert.equal(await page.textContent('#def-pop'), title);
  });

  test('queue drill-down and agent day', async () => {
    const q = await page.getAttribute('.cq .q-name a', 'href');
    const qp = await context.newPage();
    const w = watchConsole(qp);
    assert.equal((await qp.goto(demo.base + q)).status(), 200);
    await qp.waitForTimeout(1500); // a reset and some live frames
    assert.equal(await qp.locator('.cq').count(), 1, 'only the focused queue');
    assert.deepEqual(await qp.$$eval('.cq thead th', (t) => t.map((x) => x.textContent)), ['', 'Today', '60 min', '30 min', '15 min']);
    const focus = await qp.getAttribute('body', 'data-focus');
    for (const r of await qp.$$eval('#console-rows > [role=row]', (els) => els.filter((e) => !e.hidden).map((e) => e.getAttribute('data-queues')))) {
      assert.ok(r.split(' ').includes(focus), `row of queues ${r} shown on ${focus}`);
    }
    const a = await page.getAttribute('#console-rows > [role=row] a', 'href');
    assert.equal((await qp.goto(demo.base + a)).status(), 200);
    await qp.waitForTimeout(1000);
    assert.equal(await qp.locator('#console-rows > [role=row]').count(), 1, 'only the agent');
    assert.ok(await qp.locator('[data-testid="segment"]').count() >= 1, 'a timeline');
    assert.deepEqual(w, []);
    await qp.close();
  });

  test('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});

describe('kiosk sound', () => {
  let demo;
  let browser;

  before(async () => {
    // A browser that, like a TV's, plays sound only after a tap.
    [demo, browser] = await Promise.all([startDemo(),
      chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--autoplay-policy=document-user-activation-required'] })]);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const adminSound = async (page) => {
    await page.goto(`${demo.base}/admin`);
    return page.getAttribute('[data-kiosk="demo-tv-sound"]', 'data-sound', { timeout: 2000 }).catch(() => null);
  };

  test('blocked sound asks for a tap, says so on the admin page, and beeps on a queue alarm once enabled', async () => {
    const url = /With sound:\s+(\S+)/.exec(demo.stdout)[1];
    const tv = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await tv.newPage();
    const errors = watchConsole(page);
    await page.goto(url);
    await page.waitForFunction(() => document.body.getAttribute('data-sound') === 'blocked', null, { timeout: 5000 });
    assert.ok(await page.isVisible('[data-testid="sound-enable"]'), 'the tap-to-enable button shows');
    const admin = await browser.newPage(); // loopback: the demo's admin
    await pollUntil(() => adminSound(admin).then((s) => s === 'blocked'), { what: 'admin shows blocked', timeoutMs: 5000 });
    assert.match(await admin.textContent('[data-testid="admin-sound"]'), /tap the screen once/);

    await page.click('[data-testid="sound-enable"]');
    await page.waitForFunction(() => document.body.getAttribute('data-sound') === 'enabled', null, { timeout: 5000 });
    assert.equal(await page.isVisible('[data-testid="sound-enable"]'), false, 'the button goes away');
    await pollUntil(() => adminSound(admin).then((s) => s === 'enabled'), { what: 'admin shows enabled', timeoutMs: 5000 });

    // Eight calls into one queue of the simulation, with its agents not
    // ready so none is answered: the waiting alarm (6).
    const st = await demo.state();
    const q = st.queues.find((x) => x.source === 'sim');
    for (const a of st.agents.filter((x) => x.source === 'sim')) {
      await demo.action({ source: 'sim', agent: a.id, state: 'not_ready', reason: 'Training' });
    }
    const before = Number(await page.getAttribute('body', 'data-alarm-beeps') || 0);
    for (let i = 0; i < 8; i++) await demo.action({ source: 'sim', queue: q.id });
    await page.waitForFunction((b) => Number(document.body.getAttribute('data-alarm-beeps') || 0) > b, before, { timeout: 8000 });
    assert.deepEqual(errors, []);
    await tv.close();
  });
});
