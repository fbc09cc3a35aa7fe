// Readable from across the room: on every demo board and on a TV link, at
// 1920x1080 and 3840x2160, no text shown is smaller than 2% of the screen's
// height (22 px at 1080 lines: a 55" TV read from 4–6 m).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floorSettled, launchBrowser, startDemo } from './helpers.mjs';

// smallest runs in the page: the smallest font size of any visible text, and
// where it is.
function smallest() {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let min = Infinity;
  const where = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || el.closest('script, template, [hidden], #def-pop') || !el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.bottom <= 0 || r.top >= innerHeight) continue;
    const fs = parseFloat(getComputedStyle(el).fontSize);
    if (fs < min - 0.01) { min = fs; where.length = 0; }
    if (fs <= min + 0.01 && where.length < 5) where.push(`${el.className || el.tagName}: "${n.textContent.trim().slice(0, 30)}"`);
  }
  return { min, where, cards: document.querySelectorAll('.agent[id]').length };
}

describe('readable from across the room', () => {
  let demo;
  let browser;
  let boards;
  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    await floorSettled(demo);
    const page = await browser.newPage();
    await page.goto(demo.base + '/');
    boards = await page.$$eval('[data-testid="board-link"]', (as) => as.map((a) => a.getAttribute('href')));
    await page.close();
    boards.push(demo.tvURL.replace(demo.base, ''));
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('vendor measures carry labels and formats; queue tiles have one height', async () => {
    const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    const bad = [];
    for (const path of boards) {
      await page.goto(demo.base + path);
      await page.waitForSelector('.queue', { timeout: 15000 });
      const m = await page.evaluate(() => {
        const heights = [...document.querySelectorAll('.queue')].map((q) => Math.round(q.getBoundingClientRect().height));
        const raw = [...document.querySelectorAll('.queue dt, .queue .q-small')].map((e) => e.textContent.trim()).filter((t) => /^[a-z]+[A-Z]\w*$/.test(t));
        const measures = [...document.querySelectorAll('.queue .measure')].map((e) => [e.querySelector('dt').textContent, e.querySelector('dd').textContent, e.title]);
        return { heights, raw, measures };
      });
      if (new Set(m.heights).size > 1) bad.push(`${path}: tile heights ${m.heights}`);
      if (m.raw.length) bad.push(`${path}: raw field names ${m.raw}`);
      if (path === '/boards/dublin') {
        // The Avaya site's board lists contactsQueueing and oldestContactWaitTime.
        const byLabel = Object.fromEntries(m.measures.map(([l, v, t]) => [l, { v, t }]));
        assert.match(byLabel.Queueing?.v ?? '', /^\d+$/, JSON.stringify(m.measures));
        assert.match(byLabel['Oldest wait']?.v ?? '', /^\d+:\d\d$/, JSON.stringify(m.measures));
        assert.match(byLabel['Oldest wait'].t, /oldestContactWaitTime as reported by Dublin/);
      }
    }
    await page.close();
    assert.deepEqual(bad, []);
  });

  for (const [width, height] of [[1920, 1080], [3840, 2160]]) {
    test(`no text under 2% of ${height} lines on any board`, async () => {
      assert.ok(boards.length >= 6, `the demo's boards and a TV link: ${boards}`);
      const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const limit = height * 0.02;
      const bad = [];
      for (const path of boards) {
        await page.goto(demo.base + path);
        await page.waitForFunction(() => document.getElementById('agents-fit')?.style.getPropertyValue('--cols'), null, { timeout: 15000 });
        const m = await page.evaluate(smallest);
        console.log(`# ${width}x${height} ${path.replace(/\/tv\/.*/, '/tv/…')}: ${m.cards} cards, smallest text ${m.min.toFixed(1)} px (${m.where[0]})`);
        if (m.min < limit) bad.push(`${path}: ${m.min.toFixed(1)} px < ${limit.toFixed(1)} px: ${m.where.join('; ')}`);
      }
      await context.close();
      assert.deepEqual(bad, []);
    });
  }
});
