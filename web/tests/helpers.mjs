// Shared helpers for the browser tests: start and stop `wallboard demo` on a
// free loopback port, talk to its API, and launch Debian's chromium through
// playwright-core (nothing here downloads a browser).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';


export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

// The states of the normalized model (CONTRACT.md).
export const STATES = new Set(['available', 'offered', 'busy', 'wrap_up', 'not_ready', 'logged_out', 'unknown']);

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

// freePort asks the kernel for a free loopback port, then releases it for the
// demo to take.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// startDemo runs `wallboard demo` on 127.0.0.1:port (a free one unless given),
// waits for its banner (board URL, TV link, API token) and for /readyz 200.
export async function startDemo(opts = {}) {
  // A free port can be taken by another process before the demo binds it:
  // then try another one (only when no port was asked for).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDemoOnce(opts);
    } catch (e) {
      if (opts.port || attempt >= 3 || !/address already in use/.test(e.message)) throw e;
    }
  }
}

async function startDemoOnce({ port, args = [], timeoutMs = 30000 } = {}) {
  const bin = process.env.WALLBOARD_BIN;
  if (!bin) throw new Error('WALLBOARD_BIN must name a built wallboard binary (web/test.sh sets it)');
  port ??= await freePort();
  const base = `http://127.0.0.1:${port}`;
  const startedAt = Date.now();
  const child = spawn(bin, ['demo', '--listen', `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  let stopping = false;
  exited.then((e) => {
    exitInfo = e;
    if (!stopping) {
      // A demo that dies under a test explains the test's failure: say so.
      process.stderr.write(`# wallboard demo on ${base} exited unexpectedly (${JSON.stringify(e)}); its stderr ends:\n${stderr.slice(-2000)}\n`);
    }
  });

  const demo = {
    port, base, child, startedAt,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    token: '', tvURL: '', boardURL: `${base}/boards/floor`,
    exited,
    async stop() { stopping = true; return stopDemo(demo); },
    api: (path) => api(demo, path),
    state: () => api(demo, '/api/v1/state'),
    action: (body) => demoAction(demo, body),
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitInfo) {
      throw new Error(`wallboard demo exited early (${JSON.stringify(exitInfo)})\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    const tok = /Bearer ([A-Za-z0-9_-]+)/.exec(stdout);
    const tv = /TV link:\s+(\S+)/.exec(stdout);
    if (tok && tv && (await ready(base))) {
      demo.token = tok[1];
      demo.tvURL = tv[1];
      return demo;
    }
    if (Date.now() > deadline) {
      await demo.stop();
      throw new Error(`wallboard demo on ${base} was not ready within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    }
    await delay(100);
  }
}

async function ready(base) {
  try {
    const r = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

// stopDemo sends SIGTERM and waits for the process to exit (SIGKILL after 10 s).
export async function stopDemo(demo) {
  const { child } = demo;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10000);
    try {
      return await demo.exited;
    } finally {
      clearTimeout(t);
    }
  }
  return demo.exited;
}

export async function api(demo, path) {
  const r = await fetch(demo.base + path, { headers: { Authorization: `Bearer ${demo.token}` }, signal: AbortSignal.timeout(5000) });
  if (r.status !== 200) throw new Error(`GET ${path}: HTTP ${r.status}: ${await r.text()}`);
  return r.json();
}

export async function demoAction(demo, body) {
  const r = await fetch(`${demo.base}/demo/action`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  if (r.status !== 200 && r.status !== 204) throw new Error(`POST /demo/action ${JSON.stringify(body)}: HTTP ${r.status}: ${text}`);
  return text;
}

// domID is the id of an agent's or queue's element (CONTRACT.md).
export function domID(kind, source, id) {
  return `${kind}-${source}-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

// rfcSeconds turns an RFC 3339 time with a fraction into the whole-second form
// the page carries in data-since.
export function rfcSeconds(s) {
  return s ? s.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, '') : '';
}

// boardAgents is what /boards/floor (all sources) should show according to
// the API: every agent not logged out, by element id, with state and since.
export function boardAgentsFromState(state) {
  const m = new Map();
  for (const a of state.agents) {
    if (a.state === 'logged_out') continue;
    m.set(domID('agent', a.source, a.id), { state: a.state, since: rfcSeconds(a.state_since) });
  }
  return m;
}

// pageAgents reads every agent element on the page: id -> {state, since}.
export async function pageAgents(page) {
  const list = await page.$$eval('[id^="agent-"][data-state]', (els) =>
    els.map((e) => [e.id, { state: e.getAttribute('data-state'), since: e.getAttribute('data-since') }]));
  return new Map(list);
}

// diffAgents lists how two id -> {state, since} maps differ (empty when equal).
export function diffAgents(want, got) {
  const out = [];
  for (const [id, w] of want) {
    const g = got.get(id);
    if (!g) out.push(`${id}: missing on page (want ${w.state} since ${w.since})`);
    else if (g.state !== w.state || g.since !== w.since) out.push(`${id}: page ${g.state} since ${g.since}, API ${w.state} since ${w.since}`);
  }
  for (const [id, g] of got) if (!want.has(id)) out.push(`${id}: on page (${g.state}) but not in API`);
  return out;
}

// pickAgent chooses a logged-in agent of source "sim" that is not already
// not_ready, from a state answer.
export function pickAgent(state, exclude = new Set()) {
  const cands = state.agents.filter((a) => a.source === 'sim' && a.state !== 'logged_out' && !exclude.has(a.id));
  const best = cands.find((a) => a.state !== 'not_ready') || cands[0];
  if (!best) throw new Error(`no logged-in agent of source sim: ${JSON.stringify(state.agents.map((a) => [a.source, a.id, a.state]))}`);
  return best;
}

// pollUntil calls fn until it returns a truthy value or timeoutMs passes;
// then it throws with the last value described by describe().
export async function pollUntil(fn, { timeoutMs = 5000, intervalMs = 100, what = 'condition', describe = (v) => JSON.stringify(v) } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last && last.ok !== false) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${describe(last)}`);
    await delay(intervalMs);
  }
}

// watchConsole collects console errors and uncaught page errors.
export function watchConsole(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

// trackStream counts, in every page of the context, the SSE extension's
// connections, messages and errors in window.__sse.
export async function trackStream(context) {
  await context.addInitScript(() => {
    const s = (window.__sse = { open: 0, messages: 0, errors: 0, closes: 0 });
    document.addEventListener('htmx:sse:after:connection', () => { s.open++; });
    document.addEventListener('htmx:sse:after:message', () => { s.messages++; });
    document.addEventListener('htmx:sse:error', () => { s.errors++; });
    document.addEventListener('htmx:sse:close', () => { s.closes++; });
  });
}

// floorSettled waits until the number of logged-in agents has not changed for
// quietMs (the simulation logs most agents in during its first seconds) and
// returns it.
export async function floorSettled(demo, { quietMs = 2000, timeoutMs = 20000 } = {}) {
  let n = -1;
  let since = Date.now();
  const r = await pollUntil(async () => {
    const cur = boardAgentsFromState(await demo.state()).size;
    if (cur !== n) { n = cur; since = Date.now(); }
    return { ok: Date.now() - since >= quietMs, n };
  }, { timeoutMs, intervalMs: 250, what: 'the number of logged-in agents to settle' });
  return r.n;
}
