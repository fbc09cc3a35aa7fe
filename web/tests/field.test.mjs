// What nothing maps, in a real browser: a source of the demo is fed a
// reason code that no reason_labels entry names (the 8x8 emulator sends
// the code as it is), and /admin lists it for that source with the line of
// configuration that would label it and the latest example.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, pollUntil, startDemo, watchConsole } from './helpers.mjs';

describe('values no mapping knows', () => {
  let demo;
  let browser;

  before(async () => {
    [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('/admin shows an unlabelled 8x8 reason code with the option that maps it', async () => {
    const code = '801=4242';
    const key = `newReasonCodeUser=${code}`;
    const state = await pollUntil(async () => {
      const s = await demo.state();
      return s.agents.some((a) => a.source === 'uk-sapi' && a.state !== 'logged_out') ? s : null;
    }, { timeoutMs: 15000, what: 'a logged-in uk-sapi agent', describe: () => 'none' });
    const agent = state.agents.find((a) => a.source === 'uk-sapi' && a.state !== 'logged_out');
    const before = state.sources.find((s) => s.name === 'uk-sapi');
    assert.deepEqual(before.unmapped[key], undefined, 'the code is unknown only once sent');

    await demo.action({ source: 'uk-sapi', agent: agent.id, state: 'not_ready', reason: code });
    const src = await pollUntil(async () => {
      const s = (await demo.state()).sources.find((x) => x.name === 'uk-sapi');
      return s.unmapped[key] >= 1 ? s : null;
    }, { timeoutMs: 10000, what: `${key} in /api/v1/state`, describe: () => 'not there' });
    assert.ok(src.unmapped[key] >= 1);

    const page = await browser.newPage();
    const errors = watchConsole(page);
    const resp = await page.goto(`${demo.base}/admin`);
    assert.equal(resp.status(), 200);
    const row = page.locator(`tr.admin-unmapped[data-source="uk-sapi"][data-key="${key}"]`);
    await row.waitFor({ timeout: 5000 });
    assert.ok(await row.isVisible(), 'the row is visible');
    assert.equal(await row.locator('[data-testid="config-key"]').innerText(), `reason_labels: {"${code}": "<label>"}`);
    assert.ok(Number(await row.locator('[data-testid="count"]').innerText()) >= 1);
    assert.match(await row.locator('code.excerpt').innerText(), /"newReasonCodeUser":"801=4242"/);
    // Only that source lists it.
    assert.equal(await page.locator(`tr.admin-unmapped[data-key="${key}"]`).count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
