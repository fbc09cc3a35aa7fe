// Trends on the wall, in a real browser: every queue tile carries its trend
// (an element trend-{source}-{id} holding inline SVG, with words), and each
// tile's trend changes once the simulation moves its queue.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { domID, launchBrowser, startDemo, watchConsole } from './helpers.mjs';

const CALLS = 8; // calls queued at once into each queue

describe('queue trends', () => {
  let demo;
  let browser;
  let page;
  let consoleErrors;

  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    consoleErrors = watchConsole(page);
    const resp = await page.goto(demo.boardURL);
    assert.equal(resp.status(), 200);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const trendOf = (id) => page.$eval(`#${id}`, (el) => ({
    html: el.innerHTML,
    peak: Number(el.getAttribute('data-wait-peak')),
    svgs: el.querySelectorAll('svg[role="img"]').length,
    labels: [...el.querySelectorAll('svg')].map((s) => s.getAttribute('aria-label')),
    captions: [...el.querySelectorAll('figcaption')].map((c) => c.textContent.trim()),
    inTile: el.closest('[data-testid="queue-tile"]')?.id ?? '',
  }));

  test('every queue tile carries its trend as inline SVG with words', async () => {
    const state = await demo.state();
    assert.ok(state.queues.length >= 4, `the demo has queues (${state.queues.length})`);
    for (const q of state.queues) {
      const id = domID('trend', q.source, q.id);
      await page.waitForSelector(`#${id}`, { timeout: 10000 });
      const t = await trendOf(id);
      assert.equal(t.inTile, domID('queue', q.source, q.id), `${id} sits in its queue's tile`);
      assert.equal(t.svgs, 2, `${id}: waiting and service level`);
      assert.match(t.labels[0], /^Waiting over the last 60 minutes: peak \d+, now \d+$/);
      assert.match(t.labels[1], /^Service level through the day: /);
      assert.match(t.captions[0], /^60m: \d+$/);
      assert.match(t.captions[1], /^SL /);
    }
  });

  test("each tile's trend changes after the simulation moves its queue", async () => {
    const state = await demo.state();
    const before = new Map();
    for (const q of state.queues) {
      const id = domID('trend', q.source, q.id);
      before.set(id, { ...(await trendOf(id)), q });
    }
    for (const { q } of before.values()) {
      for (let i = 0; i < CALLS; i++) await demo.action({ source: q.source, queue: q.id });
    }
    const deadline = Date.now() + 30000;
    const pending = new Set(before.keys());
    while (pending.size > 0 && Date.now() < deadline) {
      for (const id of [...pending]) {
        const t = await trendOf(id);
        // The peak of the hour rises (the calls are answered as agents come
        // free, and some vendors report them later: not all 8 wait at once).
        if (t.peak > before.get(id).peak && t.html !== before.get(id).html) pending.delete(id);
      }
      if (pending.size > 0) await delay(250);
    }
    const left = await Promise.all([...pending].map(async (id) => ({ id, before: before.get(id).peak, now: (await trendOf(id)).peak })));
    assert.deepEqual(left, [], `trends whose peak did not rise within 30 s of ${CALLS} calls queued`);
    assert.deepEqual(consoleErrors, [], 'no console errors');
  });

  test('the day view: charts, table, date picker and CSV', async () => {
    const state = await demo.state();
    const day = await browser.newPage({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
    try {
      const resp = await day.goto(`${demo.base}/boards/floor/day`);
      assert.equal(resp.status(), 200);
      const sections = await day.$$eval('[data-testid="day-queue"]', (els) => els.map((e) => e.id).sort());
      assert.deepEqual(sections, state.queues.map((q) => domID('day', q.source, q.id)).sort(), 'one section per queue of the board');
      const first = day.locator('[data-testid="day-queue"]').first();
      assert.equal(await first.locator('svg.day-chart[role="img"]').count(), 2, 'volume and service-level charts');
      // Today has the open interval at least, with the calls queued above.
      const rows = await first.locator('[data-testid="day-row"]').count();
      assert.ok(rows >= 1, `rows of intervals: ${rows}`);
      const offered = Number(await first.locator('[data-testid="day-total"] td').first().textContent());
      assert.ok(offered >= 1, `the day's offered ${offered}`);
      assert.ok(await first.locator('rect.b-offered').count() >= 1, 'offered bars');

      // CSV download of the board's day.
      const [download] = await Promise.all([day.waitForEvent('download'), day.click('[data-testid="day-csv"]')]);
      const path = await download.path();
      const { readFile } = await import('node:fs/promises');
      const csv = (await readFile(path, 'utf8')).trim().split('\n');
      assert.match(csv[0], /^source,queue,start,end,offered,answered,abandoned,answered_in_sl,handle_seconds,max_wait_seconds,complete/);
      assert.ok(csv.length >= 2, 'rows in the CSV');

      // The date picker: the day before.
      const yesterday = await day.getAttribute('[data-testid="day-prev"]', 'href');
      const date = yesterday.replace('?date=', '');
      await day.fill('[data-testid="day-date"]', date);
      await Promise.all([day.waitForURL(new RegExp(`date=${date}`)), day.click('.day-picker button')]);
      assert.match(await day.textContent('[data-testid="day-title"]'), new RegExp(date));
      assert.equal(await day.locator('[data-testid="day-row"]').count(), 0, 'nothing was recorded the day before the demo');
    } finally {
      await day.close();
    }
  });
});
