// Who sees what, in a real browser: a supervisor signs in and sees the board
// live under the strict Content-Security-Policy (no violations, SSE swaps
// still work); a TV link works with no sign-in and no cookies; a portal on an
// allowed origin frames the board while another origin is refused; a ticker
// set by a supervisor appears on an open kiosk page.
//
// The server runs as `wallboard serve --config` with a temporary
// configuration: a simulation source, two accounts (hashed with the binary's
// own `hash-password`), a board that an allowed portal may frame, with a TV
// link, and a private board.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { freePort, launchBrowser, pollUntil, trackStream, watchConsole } from './helpers.mjs';

const BIN = process.env.WALLBOARD_BIN;

const PASSWORD = 'correct horse battery';
const TV_TOKEN = 'tv-lobby-0123456789abcdef0123456789abcdef';
const TV_WALL = 'tv-wall-0123456789abcdef0123456789abcdef';

function hashPassword(pw) {
  const r = spawnSync(BIN, ['hash-password'], { input: `${pw}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hash-password failed: ${r.stderr}`);
  return r.stdout.trim();
}

// startServe writes the configuration and runs `wallboard serve` on it until
// /readyz answers 200.
async function startServe({ allowedOrigin }) {
  const dir = mkdtempSync(join(tmpdir(), 'wallboard-sec-'));
  const port = await freePort();
  const hash = hashPassword(PASSWORD);
  const cfg = `
listen: "127.0.0.1:${port}"
state_dir: "${join(dir, 'data')}"
heartbeat: "2s"
sources:
  - {name: sim, type: simulation, sim_agents: 30, sim_queues: 3, sim_seed: 7}
auth:
  users:
    - {name: sue, password_hash: "${hash}", role: supervisor}
    - {name: vic, password_hash: "${hash}", role: viewer}
boards:
  - id: floor
    title: "Floor"
    embed_origins: ["${allowedOrigin}"]
    kiosk:
      - {name: lobby, token: "${TV_TOKEN}", names: initials}
      - {name: wall, token: "${TV_WALL}", rotate: [private], rotate_every: 5s, pixel_shift: 10s,
         dim: {from: "00:00", to: "23:59", brightness: 0.5}}
  - id: private
    title: "Private"
    access: {users: [sue]}
`;
  const file = join(dir, 'wallboard.yaml');
  writeFileSync(file, cfg);
  const child = spawn(BIN, ['serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  await pollUntil(async () => {
    if (child.exitCode !== null) throw new Error(`wallboard serve exited: ${stderr}`);
    try {
      const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      return r.status === 200;
    } catch {
      return false;
    }
  }, { timeoutMs: 20000, what: 'wallboard serve to be ready', describe: () => stderr.slice(-1000) });
  return {
    base, port,
    get stderr() { return stderr; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// portal serves one page that frames src, on its own loopback port.
async function startPortal(host, src) {
  const port = await freePort();
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><title>Intranet</title><h1>Intranet portal</h1>
<iframe id="board" src="${src}" width="1280" height="720"></iframe>`);
  });
  await new Promise((resolve) => srv.listen(port, '127.0.0.1', resolve));
  return { url: `http://${host}:${port}/`, origin: `http://${host}:${port}`, close: () => new Promise((r) => srv.close(r)) };
}

// cspWatch records Content-Security-Policy violations in every page (and
// frame) of the context.
async function cspWatch(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
}

async function signIn(page, base, user, next = '/boards/floor') {
  const resp = await page.goto(`${base}${next}`);
  assert.equal(new URL(page.url()).pathname, '/login', `an anonymous visit to ${next} goes to the sign-in page (status ${resp.status()})`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${base}${next}`), page.click('[data-testid="login-submit"]')]);
}

// waitForSwap waits until the stream swaps something into the board.
async function waitForSwap(page) {
  await page.waitForFunction(() => document.querySelectorAll('[id^="agent-"][data-state]').length >= 5, null, { timeout: 15000 });
  await page.evaluate(() => {
    window.__swapped = 0;
    new MutationObserver((ms) => { for (const m of ms) if (m.type === 'childList') window.__swapped += m.addedNodes.length; })
      .observe(document.querySelector('main'), { childList: true, subtree: true });
  });
  await page.waitForFunction(() => window.__swapped > 0, null, { timeout: 20000 });
}

describe('security in the browser', () => {
  let wb;
  let browser;
  let allowed;
  let refused;

  before(async () => {
    // The allowed portal's port is chosen first: the configuration names it.
    const allowedPort = await freePort();
    const allowedOrigin = `http://127.0.0.1:${allowedPort}`;
    [wb, browser] = await Promise.all([startServe({ allowedOrigin }), launchBrowser()]);
    const src = `${wb.base}/tv/${TV_TOKEN}?embed=1`;
    // The allowed portal on the port the configuration names; the refused
    // one on another port (another origin).
    allowed = await (async () => {
      const srv = http.createServer((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!DOCTYPE html><title>Intranet</title><h1>Intranet portal</h1><iframe id="board" src="${src}" width="1280" height="720"></iframe>`);
      });
      await new Promise((resolve) => srv.listen(allowedPort, '127.0.0.1', resolve));
      return { url: `${allowedOrigin}/`, close: () => new Promise((r) => srv.close(r)) };
    })();
    refused = await startPortal('127.0.0.1', src);
  });

  after(async () => {
    await browser?.close();
    await allowed?.close();
    await refused?.close();
    await wb?.stop();
  });

  test('a supervisor signs in and sees the board live, with no CSP violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await trackStream(context);
    await cspWatch(context);
    const page = await context.newPage();
    const errors = watchConsole(page);
    await signIn(page, wb.base, 'sue');
    assert.equal(await page.locator('[data-testid="board-title"]').textContent(), 'Floor');
    assert.match(await page.locator('[data-testid="userbar"]').textContent(), /sue · supervisor/);
    await page.waitForFunction(() => window.__sse && window.__sse.open >= 1 && window.__sse.messages >= 1, null, { timeout: 10000 });
    await waitForSwap(page); // deltas are swapped in under the policy
    // Full names on the signed-in board.
    const names = await page.$$eval('.a-name', (els) => els.map((e) => e.textContent));
    assert.ok(names.some((n) => /\s/.test(n)), `full names: ${names.slice(0, 5)}`);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'wallboard_session');
    assert.ok(session && session.httpOnly && session.sameSite === 'Lax', JSON.stringify(cookies));
    // The private board is hers; a viewer gets 403 for it (below).
    assert.equal((await page.goto(`${wb.base}/boards/private`)).status(), 200);
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(errors, []);
    // Sign-out (a form POST with the CSRF token) ends the session.
    await page.goto(`${wb.base}/boards/floor`);
    await Promise.all([page.waitForURL(`${wb.base}/login`), page.click('[data-testid="sign-out"]')]);
    await page.goto(`${wb.base}/boards/floor`);
    assert.equal(new URL(page.url()).pathname, '/login');
    await context.close();
  });

  test('a viewer may not open a board that is not theirs', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, wb.base, 'vic');
    assert.equal((await page.goto(`${wb.base}/boards/private`)).status(), 403);
    await context.close();
  });

  test('the kiosk link works without sign-in or cookies, with initials only', async () => {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await trackStream(context);
    await cspWatch(context);
    const page = await context.newPage();
    const errors = watchConsole(page);
    const resp = await page.goto(`${wb.base}/tv/${TV_TOKEN}`);
    assert.equal(resp.status(), 200);
    assert.equal(await page.evaluate(() => document.body.classList.contains('kiosk')), true);
    await page.waitForFunction(() => window.__sse && window.__sse.messages >= 1, null, { timeout: 10000 });
    await waitForSwap(page);
    const names = await page.$$eval('.a-name', (els) => els.map((e) => e.textContent));
    assert.ok(names.length >= 5 && names.every((n) => /^[A-Z0-9]{0,3}$/.test(n)), `initials only: ${names.slice(0, 8)}`);
    assert.deepEqual(await context.cookies(), [], 'a TV gets no cookies');
    assert.deepEqual(await page.evaluate(() => window.__csp), []);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('an allowed portal frames the board; another origin is refused', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(allowed.url);
    const frame = await pollUntil(() => page.frames().find((f) => f.url().startsWith(`${wb.base}/tv/`)), { what: 'the board frame' });
    await frame.waitForSelector('[id^="agent-"][data-state]', { timeout: 15000 });
    assert.equal(await frame.evaluate(() => document.body.classList.contains('embed')), true);
    assert.equal(await frame.locator('[data-testid="board-title"]').isHidden(), true, 'no page chrome when embedded');
    // Works with third-party cookies blocked: the kiosk token needs none.
    assert.deepEqual(await context.cookies(), []);

    const other = await context.newPage();
    const blocked = [];
    other.on('console', (m) => { if (/frame-ancestors|Refused to frame/i.test(m.text())) blocked.push(m.text()); });
    await other.goto(refused.url);
    await pollUntil(() => blocked.length > 0, { what: 'Chromium to refuse the frame', timeoutMs: 10000 });
    const child = other.frames().find((f) => f !== other.mainFrame());
    const content = child ? await child.evaluate(() => document.querySelectorAll('[id^="agent-"]').length).catch(() => -1) : -1;
    assert.ok(content <= 0, `the refused frame shows no board (agents: ${content})`);
    await context.close();
  });

  test('a TV rotates to the next board by itself, shifts its picture and dims at night', async () => {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    await page.goto(`${wb.base}/tv/${TV_WALL}`);
    assert.equal(await page.locator('[data-testid="board-title"]').textContent(), 'Floor');
    assert.equal(await page.evaluate(() => document.body.classList.contains('dimmed')), true, 'dimmed all day');
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).filter), 'brightness(0.5)');
    await page.waitForURL(`${wb.base}/tv/${TV_WALL}?screen=1`, { timeout: 10000 });
    assert.equal(await page.locator('[data-testid="board-title"]').textContent(), 'Private');
    // The picture moves every 10 s (by the clock, across the rotation's
    // reloads) and never makes the page scroll.
    const seen = new Set();
    await pollUntil(async () => {
      try {
        const [sx, sy, w, h] = await page.evaluate(() => [document.body.style.getPropertyValue('--sx'), document.body.style.getPropertyValue('--sy'),
          document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
        assert.deepEqual([w, h], [1920, 1080], 'the shift never makes the page scroll');
        if (/^-?[0-3]px$/.test(sx.trim()) && /^-?[0-3]px$/.test(sy.trim())) seen.add(`${sx},${sy}`);
      } catch (e) {
        if (e.code === 'ERR_ASSERTION') throw e;
        // the page is rotating: look again
      }
      return seen.size >= 2;
    }, { timeoutMs: 25000, intervalMs: 250, what: 'two pixel-shift positions', describe: () => [...seen].join(' ') });
    await context.close();
  });

  test('a ticker set by a supervisor appears on an open kiosk page', async () => {
    const tvContext = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    await trackStream(tvContext);
    const tv = await tvContext.newPage();
    await tv.goto(`${wb.base}/tv/${TV_TOKEN}`);
    await tv.waitForFunction(() => window.__sse && window.__sse.open >= 1, null, { timeout: 10000 });
    assert.equal(await tv.locator('#ticker').isHidden(), true);

    const supContext = await browser.newContext();
    const sup = await supContext.newPage();
    await signIn(sup, wb.base, 'sue', '/boards/floor/settings');
    const message = `Fire drill at 15:00 (${Date.now()})`;
    await sup.fill('[data-testid="ticker-input"]', message);
    const setAt = Date.now();
    await Promise.all([sup.waitForURL(/\/settings\?saved=1$/), sup.click('[data-testid="ticker-save"]')]);
    await tv.waitForFunction((m) => document.querySelector('#ticker')?.textContent.includes(m), message, { timeout: 5000 });
    console.log(`# ticker on the kiosk ${Date.now() - setAt} ms after the supervisor saved it`);
    assert.equal(await tv.locator('#ticker').isVisible(), true);
    await delay(10);
    await tvContext.close();
    await supContext.close();
  });
  test('a redirect target with a tab stays on this site after sign-in', async () => {
    // Chromium drops the tab: /<TAB>/evil.example would become //evil.example.
    const context = await browser.newContext();
    const page = await context.newPage();
    const left = [];
    page.on('request', (r) => { if (!r.url().startsWith(wb.base)) left.push(r.url()); });
    await page.goto(`${wb.base}/login?next=${encodeURIComponent('/\t/evil.example')}`);
    await page.fill('#username', 'vic');
    await page.fill('#password', PASSWORD);
    await page.click('[data-testid="login-submit"]');
    await pollUntil(async () => left.length > 0 || !page.url().startsWith(`${wb.base}/login`), { timeoutMs: 10000, what: 'the sign-in to go somewhere' });
    assert.deepEqual(left, [], 'requests to another site');
    await page.waitForLoadState();
    assert.equal(new URL(page.url()).origin, wb.base, `after sign-in: ${page.url()}`);
    assert.equal(new URL(page.url()).pathname, '/');
    await context.close();
  });

  test('an open board stream ends when its session signs out elsewhere', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await trackStream(context);
    const board = await context.newPage();
    await signIn(board, wb.base, 'sue');
    await board.waitForFunction(() => window.__sse && window.__sse.open >= 1, null, { timeout: 10000 });
    // A second tab of the same session signs out.
    const other = await context.newPage();
    await other.goto(`${wb.base}/boards/private`);
    await Promise.all([other.waitForURL(`${wb.base}/login`), other.click('[data-testid="sign-out"]')]);
    const signedOutAt = Date.now();
    // The stream ends and its reconnect is refused (401: an error, not a
    // sign-in page taken for a stream).
    const opened = await board.evaluate(() => window.__sse.open);
    await board.waitForFunction(() => window.__sse.errors >= 1, null, { timeout: 5000 });
    console.log(`# board stream ended ${Date.now() - signedOutAt} ms after sign-out`);
    assert.equal(await board.evaluate(() => window.__sse.open), opened, 'the stream reconnected after sign-out');
    await context.close();
  });
});
