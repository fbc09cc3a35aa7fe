// The secondary pages are one application: margins, navigation between the
// board list, a board, its console and settings and the admin page, styled
// tables, a board list with each board's state and TV links, an agent's
// timeline with an axis and patterns (not colour alone), the queue settings
// said once, and sites by their display names for supervisors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floorSettled, launchBrowser, startDemo } from './helpers.mjs';

describe('secondary pages', () => {
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

  test('margins, navigation and styled tables on every page', async () => {
    const pages = {
      '/': ['Boards', 'Admin'],
      '/admin': ['Boards', 'Admin'],
      '/boards/floor/settings': ['Boards', 'Board', 'Console', 'Day', 'Settings'],
      '/boards/floor/console': ['Boards', 'Board', 'Console', 'Day', 'Settings'],
      '/boards/floor/console/agents/sim/ag001': ['Boards', 'Board', 'Console', 'Day', 'Settings'],
    };
    for (const [path, want] of Object.entries(pages)) {
      await page.goto(demo.base + path);
      const m = await page.evaluate(() => {
        const h1 = document.querySelector('h1').getBoundingClientRect();
        const nav = [...document.querySelectorAll('[data-testid="app-nav"] a')].map((a) => [a.textContent.trim(), a.getAttribute('href')]);
        const tables = [...document.querySelectorAll('table')].map((t) => {
          const th = t.querySelector('th');
          const s = getComputedStyle(t);
          return { collapse: s.borderCollapse, pad: th ? parseFloat(getComputedStyle(th).paddingLeft) + parseFloat(getComputedStyle(th).paddingRight) : 0 };
        });
        return { h1Left: h1.left, nav, tables };
      });
      assert.ok(m.h1Left >= 16, `${path}: the title sits ${m.h1Left} px from the edge`);
      assert.deepEqual(m.nav.map(([l]) => l), want, `${path}: navigation`);
      for (const [label, href] of m.nav) assert.ok(href.startsWith('/'), `${path}: ${label} -> ${href}`);
      for (const t of m.tables) {
        assert.equal(t.collapse, 'collapse', `${path}: a styled table`);
        assert.ok(t.pad >= 8, `${path}: table cells have room (${t.pad} px)`);
      }
    }
  });

  test('the board list shows each board now and its TV links', async () => {
    await page.goto(demo.base + '/');
    const rows = await page.$$eval('[data-testid="board-list"] tbody tr', (trs) => trs.map((tr) => ({
      board: tr.dataset.board,
      waiting: tr.querySelector('[data-testid="board-waiting"]').textContent.trim(),
      sl: tr.querySelector('[data-testid="board-sl"]').textContent.trim(),
      sources: tr.querySelector('[data-testid="board-sources"]').dataset.status,
      tvs: tr.querySelector('[data-testid="board-tvs"]').textContent.replace(/\s+/g, ' ').trim(),
    })));
    assert.deepEqual(rows.map((r) => r.board), ['floor', 'glasgow', 'london', 'leeds', 'dublin', 'austin']);
    for (const r of rows) {
      assert.match(r.waiting, /^\d+$/);
      assert.match(r.sl, /^(\d+%|–)$/);
      assert.equal(r.sources, 'live');
    }
    assert.equal(rows[0].tvs, 'demo-tv, demo-tv-sound');
    assert.doesNotMatch(await page.content(), new RegExp(demo.tvURL.split('/tv/')[1]), 'no TV token on the page');
  });

  test('an agent\'s timeline has an axis and a pattern per state', async () => {
    await page.goto(demo.base + '/boards/floor/console/agents/sim/ag001');
    const t = await page.evaluate(() => ({
      ticks: [...document.querySelectorAll('[data-testid="timeline-axis"] .tick')].map((e) => e.textContent.trim()),
      legend: [...document.querySelectorAll('[data-testid="timeline-legend"] li')].map((li) => [li.className, getComputedStyle(li.querySelector('.swatch')).backgroundImage]),
    }));
    assert.match(t.ticks[0], /^\d\d:\d\d$/);
    assert.equal(t.ticks.at(-1), 'now');
    assert.ok(t.legend.length >= 1, 'a legend');
    const patterns = t.legend.filter(([c]) => c !== 's-available').map(([, bg]) => bg);
    for (const p of patterns) assert.notEqual(p, 'none', `every state but available has a pattern: ${JSON.stringify(t.legend)}`);
    assert.equal(new Set(patterns).size, patterns.length, 'each state its own pattern');
  });

  test('the console says the queue settings once and names sites, not sources', async () => {
    await page.goto(demo.base + '/boards/floor/console');
    const c = await page.evaluate(() => ({
      once: [...document.querySelectorAll('[data-testid="queue-settings-once"]')].filter((e) => e.checkVisibility()).length,
      each: [...document.querySelectorAll('[data-testid="queue-settings"]')].filter((e) => e.checkVisibility()).length,
      srcs: [...document.querySelectorAll('.cq .q-src')].map((e) => e.textContent.trim()),
      pills: [...document.querySelectorAll('.source .src-name')].map((e) => e.textContent.trim()),
    }));
    assert.equal(c.once, 1);
    assert.equal(c.each, 0);
    const sites = new Set(['Glasgow', 'London', 'Leeds', 'Dublin', 'Dublin statistics', 'Austin']);
    for (const s of [...c.srcs, ...c.pills]) assert.ok(sites.has(s), `${s} is a site's display name`);
    // Admins keep the source names.
    await page.goto(demo.base + '/admin');
    const names = await page.$$eval('[data-testid="admin-sources"] tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
    assert.deepEqual(names, ['sim', 'uk-sapi', 'uk-events', 'axp-floor', 'axp-stats', 'ns']);
  });
});
