// A TV left on a board survives a server restart: the page notices the
// stream is down, reconnects by itself to the new process on the same port,
// and shows the new process's state without reloading.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  boardAgentsFromState, diffAgents, domID, launchBrowser, pageAgents, pickAgent, pollUntil, startDemo, trackStream,
} from './helpers.mjs';

let browser;
const demos = [];
after(async () => {
  await browser?.close();
  for (const d of demos) await d.stop();
});

test('the board recovers from a server restart without reloading', async () => {
  let first;
  [first, browser] = await Promise.all([startDemo(), launchBrowser()]);
  demos.push(first);
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await trackStream(context);
  const page = await context.newPage();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });
  await page.goto(first.boardURL);
  await page.waitForFunction(() => window.__sse?.open >= 1 && window.__sse.messages >= 1, null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelectorAll('[id^="agent-"][data-state]').length >= 10, null, { timeout: 15000 });
  await page.evaluate(() => { window.__marker = 1; });
  assert.equal(await page.locator('#stream-banner').isHidden(), true);
  const oldAgents = await pageAgents(page);

  // Stop the server: the page says its data is stale.
  const stoppedAt = Date.now();
  const { code, signal } = await first.stop();
  assert.ok(code === 0 || signal === 'SIGTERM', `demo exited with ${code} / ${signal}`);
  await page.locator('#stream-banner').waitFor({ state: 'visible', timeout: 5000 });
  console.log(`# stream banner shown ${Date.now() - stoppedAt} ms after stop`);
  assert.match(await page.locator('#stream-banner').textContent(), /Live updates interrupted/);
  assert.match(await page.locator('#stream-asof').textContent(), /^\d\d:\d\d:\d\d$/);

  // A new process on the same port: new event ids, a fresh simulation.
  const second = await startDemo({ port: first.port });
  demos.push(second);
  const restartedAt = Date.now();
  await page.locator('#stream-banner').waitFor({ state: 'hidden', timeout: 15000 });
  console.log(`# stream banner hidden ${Date.now() - restartedAt} ms after the new process was ready`);
  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page was not reloaded');
  assert.equal(navigations, 1, 'the page did not navigate');
  assert.ok(await page.evaluate(() => window.__sse.open) >= 2, 'the stream reconnected');

  // The board shows the new process's model (retried across the churn of
  // the simulation, whose changes reach the page a few hundred ms later).
  let matched;
  await pollUntil(async () => {
    const [state, got] = await Promise.all([second.state(), pageAgents(page)]);
    const want = boardAgentsFromState(state);
    const d = diffAgents(want, got);
    matched = got;
    return { ok: d.length === 0 && want.size > 0, d: d.slice(0, 8), want: want.size, got: got.size };
  }, { timeoutMs: 15000, intervalMs: 150, what: "the board to show the new process's agents" });
  assert.notDeepEqual(matched, oldAgents, 'the board changed from what the old process showed');
  for (const s of await page.$$eval('[id^="source-"]', (els) => els.map((e) => e.getAttribute('data-status')))) assert.equal(s, 'live');
  const queues = await page.$$eval('[id^="queue-"][data-waiting]', (els) => els.map((e) => e.id).sort());
  assert.deepEqual(queues, (await second.state()).queues.map((q) => domID('queue', q.source, q.id)).sort());

  // And it is live: a new change appears.
  const agent = pickAgent(await second.state());
  const reason = `After restart ${Date.now().toString(36)}`;
  const t0 = performance.now();
  await second.action({ source: agent.source, agent: agent.id, state: 'not_ready', reason });
  await page.waitForFunction(([id, reason]) => {
    const el = document.getElementById(id);
    return el?.getAttribute('data-state') === 'not_ready' && el.textContent.includes(reason);
  }, [domID('agent', agent.source, agent.id), reason], { timeout: 3000 });
  console.log(`# change after restart visible after ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(await page.evaluate(() => window.__marker), 1);
  assert.equal(await page.locator('#stream-banner').isHidden(), true);
});
