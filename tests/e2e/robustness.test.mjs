// The returning-visit fast path, bad input, blocked storage and activation order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, load, quiet, hits, banner, decisionCookie, receiptMade, DEMO_CONFIG, GATED, ALL_GATED, WASM } from './helpers.mjs';

// A config whose bytes are not all ASCII: the loader's fingerprint must agree with the core's on UTF-8.
const unicodeConfig = DEMO_CONFIG.replace('Demo Shop Ltd', 'Démo Shöp GmbH – 日本');
const wrongTypes = DEMO_CONFIG.replace('"id": "replay"', '"id": 42');
const typoPage = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script>
<script>window.ran = [];</script>
<script type="text/plain" data-category="analytcs" src="/tags/analytics.js"></script>
<script type="text/plain" data-category="marketing">window.ran.push('marketing')</script>
<title>typo</title></head><body><p>A tag with a typo in its purpose.</p></body></html>`;
// Activation order and attributes: a slow external script, then inline, then a module, each must run
// in document order with its attributes kept.
const orderPage = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script>
<script>window.order = [];</script>
<script type="text/plain" data-category="analytics" src="/fixtures/slow.js" nonce="n0nce" crossorigin="anonymous" referrerpolicy="no-referrer"></script>
<script type="text/plain" data-category="analytics">window.order.push('inline-after-slow')</script>
<script type="text/plain" data-category="analytics" data-type="module">window.order.push('module:' + typeof import.meta.url)</script>
<title>order</title></head><body></body></html>`;

let env;
before(async () => {
  env = await setup({
    '/fixtures/unicode.json': { body: unicodeConfig },
    '/fixtures/bad-json.json': { body: DEMO_CONFIG.slice(0, 200) },
    '/fixtures/wrong-types.json': { body: wrongTypes },
    '/fixtures/typo.html': { body: typoPage, type: 'text/html' },
    '/fixtures/order.html': { body: orderPage, type: 'text/html' },
    '/fixtures/slow.js': { body: "window.order.push('slow-external')", delay: 400 },
  });
});
after(() => env.close());

async function acceptAll(page) {
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await banner(page).waitFor({ state: 'detached' });
}

test('returning visitor: no banner, and the allowed tags run before the wasm is even requested', async () => {
  // (Once the decision's receipt is made: a pending receipt is a reason to load the wasm, tested below.)
  for (const config of ['/assent.json', '/fixtures/unicode.json']) {
    const { context, page, log } = await openPage(env);
    const url = `${env.base}/?region=DE&config=${config}`;
    await load(page, url);
    await acceptAll(page);
    await receiptMade(page);
    log.requests.length = 0;
    await load(page, url);
    assert.equal(await banner(page).count(), 0, 'no banner');
    await page.waitForFunction(() => window.demoRuns.analytics === 1 && window.demoRuns.marketing === 1);
    assert.deepEqual(hits(log, [WASM, '/assent/assent_client.js']), [],
      `${config}: the loader applied the stored decision alone (its fingerprint agrees with the core's)`);
    const fromLoader = await page.evaluate(() => window.assent.consent());
    assert.equal(fromLoader.method, 'accept_all');
    assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), true);
    // Asking for the preferences now loads the wasm, after the tags ran.
    await page.evaluate(() => window.assent.showPreferences());
    await page.getByRole('dialog', { name: 'Privacy preferences' }).waitFor();
    assert.deepEqual(await page.evaluate(() => window.assent.consent()), fromLoader,
      'the loader (reading the stored form) and the wasm (running the core) report the same decision');
    const order = log.requests.filter((p) => [...GATED.analytics, ...GATED.marketing, WASM].includes(p));
    assert.ok(order.indexOf(WASM) > order.indexOf('/tags/analytics.js'), `order: ${order.join(', ')}`);
    assert.ok(order.indexOf(WASM) > order.indexOf('/tags/marketing.js'), `order: ${order.join(', ')}`);
    await context.close();
  }
});

for (const [name, config, expected] of [
  ['bad JSON', '/fixtures/bad-json.json', /assent: config is not valid JSON/],
  ['wrong types', '/fixtures/wrong-types.json', /assent: config: purposes\[3\]\.id: expected a string, found the number 42/],
  ['a missing config file', '/fixtures/missing.json', /assent: could not load config \/fixtures\/missing\.json: HTTP 404/],
]) {
  test(`a broken config (${name}) leaves every optional tag blocked and names the problem`, async () => {
    const { context, page, log } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${config}`);
    assert.ok(log.consoleErrors.some((e) => expected.test(e)), `console: ${log.consoleErrors.join(' / ')}`);
    assert.deepEqual(hits(log, ALL_GATED), []);
    assert.equal(await page.evaluate(() => window.demoRuns.necessary), 1, 'necessary still runs');
    // The API refuses to record anything rather than guess.
    await page.evaluate(() => window.assent.acceptAll());
    await quiet(log);
    assert.deepEqual(hits(log, ALL_GATED), []);
    assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false);
    assert.equal(await decisionCookie(context), undefined);
    assert.deepEqual(log.pageErrors, [], 'no uncaught exception');
    await context.close();
  });
}

test('a tag naming an unknown purpose stays blocked, even after Accept all, and the console names it', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/typo.html`);
  assert.ok(log.consoleErrors.some((e) => e.includes('unknown purpose `analytcs` in data-category="analytcs"')),
    log.consoleErrors.join(' / '));
  await acceptAll(page);
  await page.waitForFunction(() => window.ran.includes('marketing'));
  await quiet(log);
  assert.deepEqual(hits(log, ['/tags/analytics.js']), []);
  // Returning visit: the stored decision does not cover `analytcs`, so the core decides (and reports) again.
  log.requests.length = 0;
  log.consoleErrors.length = 0;
  await load(page, `${env.base}/fixtures/typo.html`);
  assert.deepEqual(hits(log, ['/tags/analytics.js']), []);
  assert.ok(log.consoleErrors.some((e) => e.includes('analytcs')));
  await context.close();
});

test('storage that throws still lets the banner work for this page view', async () => {
  const { context, page, log } = await openPage(env, {
    initScript: () => {
      const fail = () => { throw new DOMException('The operation is insecure.', 'SecurityError'); };
      Object.defineProperty(Document.prototype, 'cookie', { get: fail, set: fail, configurable: true });
      Object.defineProperty(window, 'localStorage', { get: fail, configurable: true });
      Object.defineProperty(window, 'sessionStorage', { get: fail, configurable: true });
    },
  });
  await load(page, `${env.base}/?region=DE`);
  await banner(page).waitFor();
  assert.deepEqual(hits(log, ALL_GATED), []);
  await acceptAll(page);
  await page.waitForFunction(() => window.demoRuns.analytics === 1 && window.demoRuns.marketing === 1);
  assert.ok(log.consoleWarnings.some((w) => w.includes('cookies are blocked')), log.consoleWarnings.join(' / '));
  assert.deepEqual(log.pageErrors, []);
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), true, 'holds for this page view');
  await context.close();
});

test('activation keeps document order and the original attributes, and runs each element once', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/order.html`);
  await acceptAll(page);
  await page.waitForFunction(() => window.order.length === 3);
  await page.evaluate(() => window.assent.rescan());
  await quiet(log);
  assert.deepEqual(await page.evaluate(() => window.order),
    ['slow-external', 'inline-after-slow', 'module:string']);
  const attrs = await page.evaluate(() => {
    const s = document.querySelector('script[src="/fixtures/slow.js"]');
    return [s.type, s.nonce, s.crossOrigin, s.referrerPolicy, s.getAttribute('data-category'), s.getAttribute('data-assent')];
  });
  assert.deepEqual(attrs, ['', 'n0nce', 'anonymous', 'no-referrer', 'analytics', 'ran']);
  await context.close();
});

test('a decision whose receipt was never made (the page went away first) gets it on the next visit', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  await acceptAll(page);
  await receiptMade(page);
  const receipt = await page.evaluate(() => window.assent.consent().receipt);
  // Simulate the page going away before the receipt was stored: forget that it was made.
  await page.evaluate(() => localStorage.removeItem('assent.receipt'));
  log.requests.length = 0;
  await load(page, `${env.base}/?region=DE`);
  await receiptMade(page);
  assert.ok(log.requests.includes(WASM), 'the pending receipt brought in the wasm');
  assert.equal(await banner(page).count(), 0, 'without asking again');
  assert.equal(await page.evaluate(() => localStorage.getItem('assent.receipt')), receipt, 'the same receipt id, made once');
  await context.close();
});
