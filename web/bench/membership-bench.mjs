// Browser benchmark of logins and logouts: on a 500-agent demo board in
// Chromium, FLIPS agents (default 20) each log out and back in, 1.2 s apart,
// and for each change the page's longest frame (the gap between two
// requestAnimationFrame callbacks) is kept. Prints the median, p90 and max.
// PROFILE=1 also prints the functions with the most self time. By hand:
//
//   WALLBOARD_BIN=/tmp/wallboard node web/bench/membership-bench.mjs
import { setTimeout as delay } from 'node:timers/promises';
import { launchBrowser, startDemo } from '../tests/helpers.mjs';
const flips = Number(process.env.FLIPS || 20);
const demo = await startDemo({ args: ['--agents', '500', '--queues', '20'] });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(demo.boardURL);
  await page.waitForFunction(() => document.querySelectorAll('[id^="agent-"][data-state]').length >= 400, null, { timeout: 60000 });
  await page.evaluate(() => {
    window.__gaps = []; let last = performance.now();
    const tick = (t) => { window.__gaps.push(t - last); last = t; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  const state = await demo.state();
  const ids = state.agents.filter((a) => a.source === 'sim' && a.state !== 'logged_out').map((a) => a.id);
  const post = (agent, st) => fetch(`${demo.base}/demo/action`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ source: 'sim', agent, state: st, reason: '' }) });
  const maxes = [];
  const cdp = await page.context().newCDPSession(page);
  if (process.env.PROFILE) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); await cdp.send('Profiler.start'); }
  for (let i = 0; i < flips; i++) {
    for (const st of ['logged_out', 'available']) {
      await page.evaluate(() => { window.__gaps = []; });
      await post(ids[i % ids.length], st);
      await delay(1200);
      maxes.push(await page.evaluate(() => Math.max(...window.__gaps)));
    }
  }
  if (process.env.PROFILE) {
    const { profile } = await cdp.send('Profiler.stop');
    const self = new Map(); const dt = profile.timeDeltas || []; const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => { const f = byId.get(id).callFrame; const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`; self.set(key, (self.get(key) || 0) + (dt[i] || 0) / 1000); });
    for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${v.toFixed(0).padStart(6)} ms  ${k}`);
  }
  maxes.sort((a, b) => a - b);
  const med = maxes[Math.floor(maxes.length / 2)];
  console.log(JSON.stringify({ flips: maxes.length, medianMaxFrameGapMs: +med.toFixed(1), p90: +maxes[Math.floor(maxes.length * 0.9)].toFixed(1), max: +maxes[maxes.length - 1].toFixed(1), cards: await page.evaluate(() => document.querySelectorAll('.agent').length) }));
} finally { await browser.close(); await demo.stop(); }
