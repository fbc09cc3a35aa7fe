// Small boards are laid out on purpose: a one-queue board does not repeat its
// headline row in a tile, two queues keep their figures beside their counts
// (not spread across the screen), and a few agents fill their grid with no
// hole when a layout without one is nearly as large.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floorSettled, launchBrowser, pollUntil, startDemo } from './helpers.mjs';

function look() {
  const vis = (e) => e.checkVisibility() && e.getBoundingClientRect().width > 0;
  const tiles = [...document.querySelectorAll('.queue')].map((q) => {
    const r = q.getBoundingClientRect();
    const figs = [...q.querySelectorAll('.fig, .q-stat')].filter(vis).map((f) => f.getBoundingClientRect());
    return {
      id: q.id, width: r.width, height: r.height,
      shown: [...q.querySelectorAll('.fig dt, .q-small')].filter(vis).map((e) => e.textContent.trim()),
      spread: figs.length ? Math.max(...figs.map((f) => f.right)) - Math.min(...figs.map((f) => f.left)) : 0,
    };
  });
  const g = document.getElementById('agents-fit');
  const cols = +g.style.getPropertyValue('--cols');
  const rows = +g.style.getPropertyValue('--rows');
  const cards = document.getElementById('agents').childElementCount; // cards and group headers
  const kpis = [...document.querySelectorAll('.kpi-label')].map((e) => e.textContent.trim());
  return { tiles, cols, rows, cards, kpis, vw: innerWidth };
}

describe('small boards', () => {
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

  const open = async (path) => {
    await page.goto(demo.base + path);
    return pollUntil(async () => {
      const m = await page.evaluate(look);
      return { ...m, ok: m.cols > 0 && m.cards > 0 && m.tiles.length > 0 };
    }, { what: `${path} laid out` });
  };

  test('a one-queue board shows its queue without repeating the headline row', async () => {
    const m = await open('/boards/glasgow');
    assert.equal(m.tiles.length, 1, 'the demo\'s Glasgow site has one queue');
    const [t] = m.tiles;
    assert.deepEqual(t.shown.filter((s) => ['waiting', 'longest', 'SL', 'Abd', 'Ans', 'Off', 'AHT'].includes(s)), [],
      `the tile repeats none of the headline figures (${m.kpis}): shows ${t.shown}`);
    assert.ok(t.height < 100, `a slim strip: ${t.height} px`);
  });

  test('two queues keep their figures together', async () => {
    const m = await open('/boards/dublin');
    assert.equal(m.tiles.length, 2);
    for (const t of m.tiles) {
      assert.ok(t.shown.includes('SL') && t.shown.includes('waiting'), `${t.id} shows its own figures: ${t.shown}`);
      assert.ok(t.spread <= t.width && t.spread < m.vw * 0.5, `${t.id}: figures span ${t.spread.toFixed(0)} px of a ${t.width.toFixed(0)} px tile`);
    }
  });

  test('a few agents fill their grid without a hole', async () => {
    for (const path of ['/boards/glasgow', '/boards/dublin', '/boards/austin']) {
      const m = await open(path);
      const holes = m.cols * m.rows - m.cards;
      console.log(`# ${path}: ${m.cards} cards as ${m.cols}x${m.rows}`);
      assert.ok(holes < m.cols, `${path}: no empty row (${m.cards} cards as ${m.cols}x${m.rows})`);
      if ([4, 6, 8, 9, 10, 12].includes(m.cards)) assert.equal(holes, 0, `${path}: ${m.cards} cards as ${m.cols}x${m.rows}`);
    }
  });
});
