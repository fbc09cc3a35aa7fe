// Theme, brand, clock and language (cmd/wallboard/demo.go): Leeds is light
// with a 12-hour clock; a TV link of Dublin is in German; every board
// carries the demo's brand.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floorSettled, launchBrowser, startDemo } from './helpers.mjs';

describe('look and language', () => {
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

  const luminance = (rgb) => {
    const [r, g, b] = rgb.match(/\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  };

  test('a light board with a 12-hour clock, and the brand', async () => {
    await page.goto(`${demo.base}/boards/leeds`);
    await page.waitForFunction(() => /\d/.test(document.getElementById('now').textContent));
    const m = await page.evaluate(() => ({
      bg: getComputedStyle(document.body).backgroundColor, text: getComputedStyle(document.body).color,
      clock: document.getElementById('now').textContent, lang: document.documentElement.lang,
      brand: document.querySelector('[data-testid="brand-name"]')?.textContent,
      rule: getComputedStyle(document.querySelector('.top')).borderBottomColor,
    }));
    assert.ok(luminance(m.bg) > 0.8 && luminance(m.text) < 0.2, `light: ${m.bg} / ${m.text}`);
    assert.match(m.clock, /^(1[0-2]|[1-9]):\d\d:\d\d (AM|PM)$/);
    assert.equal(m.lang, 'en');
    assert.equal(m.brand, 'Demo CC');
    assert.equal(m.rule, 'rgb(47, 129, 247)');
    await page.goto(`${demo.base}/boards/floor`);
    const dark = await page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor, clock: document.getElementById('now').textContent }));
    assert.ok(luminance(dark.bg) < 0.2, 'the other boards stay dark');
    assert.match(dark.clock, /^\d\d:\d\d:\d\d$/, '24-hour by default');
  });

  test('a TV link in German: words, numbers, <html lang>', async () => {
    const url = /In German:\s+(\S+)/.exec(demo.stdout)[1];
    await page.goto(url);
    await page.waitForSelector('.agent[id]');
    const m = await page.evaluate(() => ({
      lang: document.documentElement.lang,
      labels: [...document.querySelectorAll('.kpi-label')].map((e) => e.textContent.trim()),
      states: [...new Set([...document.querySelectorAll('.agent .a-state')].map((e) => e.textContent.split(' · ')[0].trim()))],
      sl: document.querySelector('#kpi-service_level .kpi-value').textContent,
      small: [...document.querySelectorAll('.q-small')].map((e) => e.textContent.trim()),
      banner: document.getElementById('stream-banner').textContent.replace(/\s+/g, ' ').trim(),
    }));
    assert.equal(m.lang, 'de');
    assert.deepEqual(m.labels.slice(0, 3), ['Wartend', 'Längste Wartezeit', 'Servicelevel']);
    for (const s of m.states) assert.ok(['Verfügbar', 'Klingelt', 'Im Gespräch', 'Nachbearbeitung', 'Nicht bereit'].includes(s), `state ${s}`);
    assert.match(m.sl, /^(\d+\u00a0%|–)$/, `German percent: ${JSON.stringify(m.sl)}`);
    assert.ok(m.small.includes('wartend'));
    assert.match(m.banner, /^Live-Daten unterbrochen/);
    // Dublin's own page stays English.
    await page.goto(`${demo.base}/boards/dublin`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.textContent('#kpi-waiting .kpi-label'), 'Waiting');
  });

  test('a viewer\'s browser language picks the board\'s rendering in it, live', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'fr-FR' });
    const p = await ctx.newPage();
    await p.goto(`${demo.base}/boards/glasgow`);
    await p.waitForSelector('.agent[id]');
    assert.equal(await p.evaluate(() => document.documentElement.lang), 'fr');
    assert.equal(await p.textContent('#kpi-waiting .kpi-label'), 'En attente');
    const agent = (await demo.state()).agents.find((a) => a.source === 'sim' && a.state !== 'logged_out');
    await demo.action({ source: 'sim', agent: agent.id, state: 'not_ready', reason: 'Pause' });
    await p.waitForFunction((id) => document.getElementById(id)?.querySelector('.a-state')?.textContent === 'Indisponible · Pause',
      `agent-sim-${agent.id}`, { timeout: 5000 });
    // ?lang= chooses too; a language the board is not rendered in falls back to its own.
    await p.goto(`${demo.base}/boards/glasgow?lang=es`);
    assert.equal(await p.textContent('#kpi-waiting .kpi-label'), 'En espera');
    await p.goto(`${demo.base}/boards/dublin`);
    assert.equal(await p.evaluate(() => document.documentElement.lang), 'en', 'Dublin renders English only');
    // The board list follows the browser's language too.
    await p.goto(`${demo.base}/`);
    const list = await p.evaluate(() => ({
      lang: document.documentElement.lang, h1: document.querySelector('h1').textContent,
      nav: [...document.querySelectorAll('[data-testid="app-nav"] a')].map((a) => a.textContent),
      heads: [...document.querySelectorAll('[data-testid="board-list"] thead th')].map((th) => th.textContent).filter(Boolean),
    }));
    assert.equal(list.lang, 'fr');
    assert.equal(list.h1, 'Tableaux');
    assert.deepEqual(list.nav, ['Tableaux', 'Administration']);
    assert.deepEqual(list.heads.slice(0, 3), ['Tableau', 'En attente', 'Niveau de service']);
    await ctx.close();
  });
});
