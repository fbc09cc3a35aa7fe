// The board fits a TV: at 1080p and at 4K the page does not scroll, every
// agent card lies on screen, and names stay readable.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { boardAgentsFromState, floorSettled, launchBrowser, pollUntil, startDemo } from './helpers.mjs';

// measure runs in the page: what scrolls, and which cards or names do not fit.
function measure(minCard) {
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const de = document.documentElement;
  const bad = [];
  if (de.scrollWidth !== vw || de.scrollHeight !== vh) bad.push(`document ${de.scrollWidth}x${de.scrollHeight} in a ${vw}x${vh} viewport`);
  if (document.body.scrollHeight > vh || document.body.scrollWidth > vw) bad.push(`body scrolls: ${document.body.scrollWidth}x${document.body.scrollHeight}`);
  const cards = [...document.querySelectorAll('[id^="agent-"][data-state]')];
  let minH = Infinity;
  let minNameW = Infinity;
  for (const c of cards) {
    const r = c.getBoundingClientRect();
    minH = Math.min(minH, r.height);
    if (r.left < 0 || r.top < 0 || r.right > vw + 0.5 || r.bottom > vh + 0.5) bad.push(`${c.id} at ${r.left},${r.top}-${r.right},${r.bottom}`);
    if (r.height <= minCard) bad.push(`${c.id} is ${r.height.toFixed(1)} px tall`);
    // The name is not clipped to nothing: it has a readable box inside its card.
    const n = c.querySelector('.a-name');
    const nr = n.getBoundingClientRect();
    minNameW = Math.min(minNameW, nr.width);
    if (!n.textContent.trim() || nr.width < minCard || nr.height < minCard / 2.5 || nr.right > r.right + 0.5 || nr.bottom > r.bottom + 0.5) {
      bad.push(`${c.id} name "${n.textContent}" box ${nr.width.toFixed(1)}x${nr.height.toFixed(1)}`);
    }
  }
  // The grid was sized for the cards it holds: no row of squeezed cards.
  const heights = cards.map((c) => c.getBoundingClientRect().height);
  if (heights.length && Math.max(...heights) - Math.min(...heights) > 1) {
    bad.push(`cards differ in height: ${Math.min(...heights).toFixed(1)} to ${Math.max(...heights).toFixed(1)} px (grid ${document.getElementById('agents').getAttribute('style')})`);
  }
  return { bad: bad.slice(0, 10), cards: cards.length, minH, minNameW };
}

describe('layout', () => {
  let demo;
  let browser;
  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    // Measure a full floor: wait for the agents' logins to be over.
    await floorSettled(demo);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  for (const [width, height] of [[1920, 1080], [3840, 2160]]) {
    test(`fits ${width}x${height} without scrolling`, async () => {
      const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
      try {
        const page = await context.newPage();
        await page.goto(demo.boardURL);
        await page.waitForFunction(() => document.querySelectorAll('[id^="agent-"][data-state]').length >= 20, null, { timeout: 15000 });
        const scale = width / 1920;

        // The page script sizes the grid once a second, after agents come and
        // go. Measure once every logged-in agent has a card (most log in within
        // the simulation's first seconds) and the grid has caught up with them.
        const m = await pollUntil(async () => {
          const want = boardAgentsFromState(await demo.state()).size;
          const r = await page.evaluate(measure, 20 * scale);
          return { ...r, want, ok: r.bad.length === 0 && r.cards === want };
        }, { timeoutMs: 10000, intervalMs: 250, what: `a layout that fits ${width}x${height} with every agent` });
        assert.equal(m.cards, m.want, 'every logged-in agent has a card');
        console.log(`# ${width}x${height}: ${m.cards} cards, smallest ${m.minH.toFixed(1)} px tall, narrowest name ${m.minNameW.toFixed(1)} px`);
        assert.ok(m.cards >= 20);
      } finally {
        await context.close();
      }
    });
  }
});
