// The secondary pages in the viewer's language (issue 19, point 8): a
// browser set to German (Accept-Language: de) sees the console, its
// drill-downs and the admin page in German, <html lang="de">, numbers in
// German, and the console's live rows stay German. The demo's Glasgow board
// is rendered in de, fr and es (langs); Dublin only in English.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { floorSettled, launchBrowser, startDemo, watchConsole } from './helpers.mjs';

describe('pages in the browser\'s language', () => {
  let demo;
  let browser;
  let ctx;
  let page;
  let errors;
  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
    await floorSettled(demo);
    ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'de-DE' });
    page = await ctx.newPage();
    errors = watchConsole(page);
  });
  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const texts = (sel) => page.$$eval(sel, (els) => els.map((e) => e.textContent.replace(/\s+/g, ' ').trim()));

  test('the console in German, and its live rows too', async () => {
    const resp = await page.goto(`${demo.base}/boards/glasgow/console`);
    assert.equal(resp.status(), 200);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await page.textContent('[data-testid="console-title"]'), 'Agenten und Warteschlangen');
    assert.deepEqual(await texts('[data-testid="app-nav"] a'), ['Boards', 'Board', 'Konsole', 'Tag', 'Einstellungen']);
    assert.deepEqual(await texts('.agents-table .row.head [role=columnheader]'), ['Agent', 'Status', 'Grund', 'Zeit im Status', 'Warteschlangen']);
    assert.deepEqual((await texts('#filters label')).map((l) => l.split(' ')[0]), ['Warteschlange', 'Status', 'Grund', 'Mindestens']);
    assert.deepEqual(await texts('.cq >> nth=0 >> thead th'), ['', 'Heute', '60 Min.', '30 Min.', '15 Min.']);
    assert.deepEqual(await texts('.cq >> nth=0 >> tbody th'), ['Angeboten', 'Angenommen', 'Aufgelegt', 'Servicelevel', 'Ø Bearbeitung']);
    assert.match(await page.getAttribute('.cq td.def >> nth=0', 'title'), /^Angeboten heute \(seit Mitternacht/);
    assert.ok((await texts('.cq .q-small')).includes('wartend'));
    const sls = await page.$$eval('.cq:first-of-type tbody tr:nth-child(4) td', (els) => els.map((e) => e.textContent));
    assert.equal(sls.length, 4, 'service level today and in three windows');
    for (const sl of sls) {
      assert.match(sl, /^(\d+\u00a0%|–)$/, `a German percentage: ${JSON.stringify(sl)}`);
    }
    // The state counts (console.js) in German.
    await page.waitForFunction(() => document.getElementById('state-counts').textContent !== '');
    assert.doesNotMatch(await page.textContent('#state-counts'), /available|ringing|on a contact|not ready/);
    // A change arrives over the console's German stream.
    const agent = (await demo.state()).agents.find((a) => a.source === 'sim' && a.state !== 'logged_out');
    await demo.action({ source: 'sim', agent: agent.id, state: 'not_ready', reason: 'Pause' });
    await page.waitForFunction((id) => document.getElementById(id)?.querySelector('.c-state')?.textContent === 'Nicht bereit · Pause',
      `agent-sim-${agent.id}`, { timeout: 5000 });
  });

  test('a queue\'s drill-down and an agent\'s day in German', async () => {
    const q = await page.getAttribute('.cq .q-name a', 'href');
    await page.goto(demo.base + q);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.match(await page.textContent('[data-testid="console-title"]'), /^Warteschlange /);
    const a = await page.getAttribute('#console-rows > [role=row] a', 'href');
    await page.goto(demo.base + a);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.deepEqual(await texts('.day-figures dt'), ['Heute bearbeitet', 'Ø Bearbeitungszeit']);
    assert.deepEqual(await texts('[data-testid="segments"] thead th'), ['Von', 'Bis', 'Status', 'Dauer']);
    assert.equal((await texts('[data-testid="timeline-axis"] .tick')).at(-1), 'jetzt');
  });

  test('the admin page in German, its numbers too', async () => {
    await page.goto(`${demo.base}/admin`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await page.textContent('h1'), 'Betrieb');
    const heads = await texts('main h2');
    for (const h of ['Snapshot', 'Quellen', 'Werte ohne Zuordnung', 'Mitschnitte', 'Ton der TV-Bildschirme']) assert.ok(heads.includes(h), `${h} in ${heads}`);
    assert.deepEqual((await texts('[data-testid="admin-sources"] thead th')).slice(0, 3), ['Quelle', 'Typ', 'Status']);
    assert.ok((await texts('[data-testid="app-nav"] a')).includes('Verwaltung'));
    for (const n of await texts('[data-testid="admin-sources"] [data-testid="messages"]')) {
      assert.match(n, /^\d{1,3}(\.\d{3})*$/, `German grouping: ${n}`);
    }
    assert.match(await page.textContent('[data-testid="admin-snapshot"]'), /^Alle .* und beim Beenden/);
  });

  test('a board not rendered in German keeps its console in its own language', async () => {
    await page.goto(`${demo.base}/boards/dublin/console`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await page.textContent('[data-testid="console-title"]'), 'Agents and queues');
    // … while the pages that are no board's follow the browser.
    await page.goto(`${demo.base}/boards/dublin/settings`);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await page.textContent('h1'), 'Dublin: Einstellungen');
  });

  test('no console errors', () => {
    assert.deepEqual(errors, []);
  });
});
