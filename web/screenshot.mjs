// Takes the README's screenshot: starts `wallboard demo`, lets the simulated
// floor run for a while, and captures /boards/floor at 1920x1080.
//
//   node web/screenshot.mjs [seconds=90] [output=web/screenshot.png]
//
// Uses the binary in WALLBOARD_BIN, or builds one with `go build`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { launchBrowser, startDemo } from './tests/helpers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.argv[2] ?? 90);
const out = resolve(process.argv[3] ?? join(root, 'web/screenshot.png'));
if (!Number.isFinite(seconds) || seconds < 0) {
  console.error('usage: node web/screenshot.mjs [seconds] [output.png]');
  process.exit(2);
}

let tmp;
if (!process.env.WALLBOARD_BIN) {
  tmp = mkdtempSync(join(tmpdir(), 'wallboard-shot-'));
  process.env.WALLBOARD_BIN = join(tmp, 'wallboard');
  console.error('building the wallboard binary…');
  execFileSync('go', ['build', '-o', process.env.WALLBOARD_BIN, './cmd/wallboard'], { cwd: root, stdio: 'inherit' });
}

const [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1 });
  await page.goto(demo.boardURL);
  console.error(`letting the simulated floor run for ${seconds} s…`);
  await delay(seconds * 1000);
  // A board that is live and has caught up: stream up, every source live.
  await page.locator('#stream-banner').waitFor({ state: 'hidden', timeout: 10000 });
  await page.waitForFunction(() => [...document.querySelectorAll('[id^="source-"]')].every((e) => e.getAttribute('data-status') === 'live'),
    null, { timeout: 10000 });
  await page.screenshot({ path: out });
  const rel = relative(process.cwd(), out);
  console.log(rel && !rel.startsWith('..') ? rel : out);
} finally {
  await browser.close();
  await demo.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}
