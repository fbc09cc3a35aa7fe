// The board editor in a real browser: a supervisor builds a board in the
// editor (with its preview following the form), opens it in a second page
// and sees live data; a threshold changed in the editor shows on the open
// board without a reload; two editors of one board conflict, and the
// second is told who changed it, with nothing of its form lost.
//
// The server runs as `wallboard serve --config` with a temporary
// configuration (a simulation source, a supervisor and an admin) and its
// SQLite database in the temporary state directory.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, launchBrowser, pollUntil, watchConsole } from './helpers.mjs';

const BIN = process.env.WALLBOARD_BIN;
const PASSWORD = 'correct horse battery';

function hashPassword(pw) {
  const r = spawnSync(BIN, ['hash-password'], { input: `${pw}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hash-password failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function startServe() {
  const dir = mkdtempSync(join(tmpdir(), 'wallboard-editor-'));
  const port = await freePort();
  const hash = hashPassword(PASSWORD);
  const file = join(dir, 'wallboard.yaml');
  writeFileSync(file, `
listen: "127.0.0.1:${port}"
state_dir: "${join(dir, 'data')}"
heartbeat: "2s"
sources:
  - {name: sim, type: simulation, sim_agents: 30, sim_queues: 3, sim_seed: 7}
auth:
  users:
    - {name: sue, password_hash: "${hash}", role: supervisor}
    - {name: ada, password_hash: "${hash}", role: admin}
boards:
  - id: floor
    title: "Floor"
`);
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
    base,
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

async function signIn(page, base, user, next) {
  await page.goto(`${base}${next}`);
  assert.equal(new URL(page.url()).pathname, '/login');
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${base}${next}`), page.click('[data-testid="login-submit"]')]);
}

describe('board editor', () => {
  let wb, browser, sue, ada, board, errors;
  before(async () => {
    wb = await startServe();
    browser = await launchBrowser();
    sue = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
    ada = await (await browser.newContext({ viewport: { width: 1600, height: 1000 } })).newPage();
    board = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    errors = [...watchConsole(sue), ...watchConsole(board)];
    await signIn(sue, wb.base, 'sue', '/editor');
    await signIn(ada, wb.base, 'ada', '/');
  });
  after(async () => {
    await browser?.close();
    await wb?.stop();
  });

  test('a board built in the editor, with its preview, is live in a second page', async () => {
    await sue.fill('[data-testid="field-id"]', 'team');
    await sue.fill('[data-testid="field-title"]', 'Team board');
    await sue.check('[data-testid="source-sim"]');
    await sue.uncheck('[data-testid="tile-offered"]');
    await sue.fill('[data-testid="tile-pos-available"]', '0');
    // The preview follows the form: the board's title and figures, with the
    // figures of now, rendered by the server.
    const preview = sue.frameLocator('[data-testid="preview"]');
    await pollUntil(async () => (await preview.locator('[data-testid="board-title"]').textContent()) === 'Team board',
      { timeoutMs: 10000, what: 'the preview to show the new title' });
    assert.equal(await preview.locator('#kpi-offered').count(), 0, 'the preview leaves out an unticked figure');
    assert.equal(await preview.locator('#kpis > div').first().getAttribute('id'), 'kpi-available', 'the preview puts the figure placed first first');

    await Promise.all([sue.waitForURL(`${wb.base}/boards/team/edit?saved=1`), sue.click('[data-testid="save"]')]);
    assert.match(await sue.locator('[data-testid="saved"]').textContent(), /Saved/);

    // A second page: the board, live.
    await signIn(board, wb.base, 'sue', '/boards/team');
    assert.equal(await board.locator('[data-testid="board-title"]').textContent(), 'Team board');
    await board.waitForFunction(() => document.querySelectorAll('.agent[data-state]').length >= 5, null, { timeout: 15000 });
    const before = await board.evaluate(() => [...document.querySelectorAll('.agent[data-state]')].map((a) => a.id + a.dataset.state + a.dataset.since).join());
    await pollUntil(async () => (await board.evaluate(() => [...document.querySelectorAll('.agent[data-state]')].map((a) => a.id + a.dataset.state + a.dataset.since).join())) !== before,
      { timeoutMs: 15000, what: 'the new board to change with the simulation' });
  });

  test('a threshold changed in the editor shows on the open board without a reload', async () => {
    await board.evaluate(() => { window.__notReloaded = true; });
    const warns = () => board.evaluate(() => [...document.querySelectorAll('.q-oldest')].map((e) => e.dataset.warn));
    assert.ok((await warns()).length > 0, 'the board has queue tiles');
    assert.ok((await warns()).every((w) => w === '0'), `no longest-wait threshold yet: ${await warns()}`);
    await sue.goto(`${wb.base}/boards/team/edit`);
    await sue.fill('[data-testid="th-longest_wait-warn"]', '7m');
    await Promise.all([sue.waitForURL(`${wb.base}/boards/team/edit?saved=1`), sue.click('[data-testid="save"]')]);
    await pollUntil(async () => (await warns()).every((w) => w === '420'), { timeoutMs: 5000, what: 'the open board to take the new threshold', describe: () => '' });
    assert.equal(await board.evaluate(() => window.__notReloaded), true, 'the board page did not reload');
  });

  test('two editors of one board: the second save is told who changed it, and keeps its form', async () => {
    await sue.goto(`${wb.base}/boards/team/edit`);
    await ada.goto(`${wb.base}/boards/team/edit`);
    await sue.fill('[data-testid="field-title"]', 'Sue named it');
    await Promise.all([sue.waitForURL(`${wb.base}/boards/team/edit?saved=1`), sue.click('[data-testid="save"]')]);
    await ada.fill('[data-testid="field-title"]', 'Ada named it');
    await ada.fill('[data-testid="th-waiting-warn"]', '4');
    await ada.click('[data-testid="save"]');
    await ada.waitForSelector('[data-testid="conflict"]');
    assert.match(await ada.locator('[data-testid="conflict"]').textContent(), /Changed by sue at \d\d:\d\d, reload/);
    assert.equal(await ada.inputValue('[data-testid="field-title"]'), 'Ada named it', 'the refused form keeps what was typed');
    assert.equal(await ada.inputValue('[data-testid="th-waiting-warn"]'), '4');
    // Sue's change stands, and her open board page took the new title.
    await pollUntil(async () => (await board.locator('[data-testid="board-title"]').textContent()) === 'Sue named it',
      { timeoutMs: 10000, what: 'the open board to show the new title' });
    // A field that breaks the rules is refused beside it.
    await ada.goto(`${wb.base}/boards/team/edit`);
    await ada.fill('[data-testid="th-waiting-warn"]', 'many');
    await ada.click('[data-testid="save"]');
    await ada.waitForSelector('[data-testid="error-thresholds.waiting.warn"]');
    assert.deepEqual(errors, []);
  });

  test('a deleted board says so on its open page', async () => {
    await sue.goto(`${wb.base}/boards/team/edit`);
    await Promise.all([sue.waitForURL(`${wb.base}/boards/team/delete`), sue.click('[data-testid="delete"]')]);
    await Promise.all([sue.waitForURL(`${wb.base}/`), sue.click('[data-testid="confirm-delete"]')]);
    await board.waitForSelector('[data-testid="board-removed"]', { timeout: 5000 });
    assert.equal(await board.locator('[data-testid="stream-banner"]').isHidden(), true);
  });
});
