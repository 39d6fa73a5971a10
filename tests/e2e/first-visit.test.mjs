// The first visit's critical path: what the loader starts in parallel, the inline config, and what a
// trap in the wasm leaves behind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, load, hits, banner, prefsDialog, receiptMade, trapNextDecision, waitFor, DEMO_CONFIG, GATED, WASM } from './helpers.mjs';

const GLUE = '/assent/assent_client.js';

// The config inline in the page: no request for it, on any visit.
const inlinePage = (config, id = 'assent-config') => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script type="application/json" id="assent-config">${config}</script>
<script src="/assent/assent.js" data-config="#${id}" data-region="DE"></script>
<script>window.ran = [];</script>
<script type="text/plain" data-category="analytics">window.ran.push('analytics')</script>
<title>inline config</title></head><body><p>The config is inline.</p></body></html>`;

let env;
before(async () => {
  env = await setup({
    '/fixtures/held.json': { body: DEMO_CONFIG },
    '/fixtures/french-only.json': { body: DEMO_CONFIG.replace('"controller"', '"languages": ["fr"],\n  "controller"') },
    '/fixtures/inline.html': { body: inlinePage(DEMO_CONFIG), type: 'text/html' },
    '/fixtures/inline-missing.html': { body: inlinePage(DEMO_CONFIG, 'no-such-element'), type: 'text/html' },
  });
});
after(() => env.close());

test('a first visit starts the glue, the wasm and the likely locale file while the config is still on its way', async () => {
  const { page, log } = await openPage(env);
  const wanted = [GLUE, WASM, '/assent/locales/de.json'];
  let early = null;
  // The config is answered only once the others have been requested (or after 10 s, and the test fails).
  await page.route((url) => url.pathname === '/fixtures/held.json', async (route) => {
    early = await waitFor(() => wanted.every((p) => log.requests.includes(p)), 'the parallel requests', 10000)
      .then(() => true, () => false);
    await route.fulfill({ body: DEMO_CONFIG, contentType: 'application/json' });
  });
  await load(page, `${env.base}/?region=DE&lang=de&config=/fixtures/held.json`);
  assert.equal(early, true, `requested before the config arrived: ${log.requests.join(' ')}`);
  await banner(page).getByRole('button', { name: 'Alle akzeptieren' }).waitFor();
  assert.equal(hits(log, ['/assent/locales/de.json']).length, 1, 'the early locale request is the one the client uses');
  assert.deepEqual(hits(log, ['/assent/timezones.txt']), [], 'no timezone table with a usable data-region');
  assert.deepEqual(log.consoleErrors, []);
});

test('a wrong locale guess costs one more request, never the wrong language', async () => {
  // <html lang="de"> makes the loader guess German; the config offers French only.
  const { page, log } = await openPage(env);
  const failed = [];
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
  await load(page, `${env.base}/?region=DE&lang=de&config=/fixtures/french-only.json`);
  await banner(page).getByRole('button', { name: 'Tout accepter' }).waitFor();
  assert.deepEqual(hits(log, ['/assent/locales/de.json', '/assent/locales/fr.json']),
    ['/assent/locales/de.json', '/assent/locales/fr.json']);
  assert.deepEqual(failed, [], 'every request answered');
  assert.deepEqual(log.consoleErrors.filter((e) => e.startsWith('assent')), []);
});

test('a returning visit starts nothing before the config says the wasm is needed', async () => {
  const { page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await receiptMade(page);
  log.requests.length = 0;
  await load(page, `${env.base}/?region=DE`);
  await page.waitForFunction(() => window.demoRuns.analytics === 1);
  assert.deepEqual(hits(log, [GLUE, WASM, '/assent/locales/en.json']), [], 'the loader decided alone');
});

test('an inline config needs no request, and a returning visit still takes the fast path', async () => {
  const { page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/inline.html`);
  assert.equal(await page.evaluate(() => window.ran.length), 0, 'nothing optional before a choice');
  assert.deepEqual(log.requests.filter((p) => p.endsWith('.json')), ['/assent/locales/en.json'], 'no config requested');
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.ran.join() === 'analytics');
  await receiptMade(page);
  log.requests.length = 0;
  await load(page, `${env.base}/fixtures/inline.html`);
  await page.waitForFunction(() => window.ran.join() === 'analytics');
  assert.deepEqual(hits(log, [GLUE, WASM]), [], 'the loader applied the stored decision alone');
  assert.deepEqual(log.requests.filter((p) => p.endsWith('.json')), [], 'no config or locale requested');
  assert.deepEqual(log.consoleErrors.filter((e) => e.startsWith('assent')), []);
});

test('an inline config that names no element keeps optional tags blocked and says what to fix', async () => {
  const { page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/inline-missing.html`);
  assert.equal(await page.evaluate(() => window.ran.length), 0);
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false);
  assert.equal(log.consoleErrors.length, 1, log.consoleErrors.join('\n'));
  assert.match(log.consoleErrors[0], /data-config="#no-such-element" names no element: put <script type="application\/json" id="no-such-element">/);
});

// A trap leaves a wasm instance unusable (a RefCell borrowed for ever, a half-run effect). The trap is
// injected where the wasm calls into JS without catching: Date.now, which the client reads for every
// decision, from a click's handler and from an API call.
test('a trap in the wasm during a click leaves optional tags blocked, with one console line', async () => {
  const { page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Accept all' }).waitFor();
  const untrap = await trapNextDecision(page);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await waitFor(() => log.consoleErrors.length > 0, 'the console line');
  await untrap();
  assert.equal(log.consoleErrors.length, 1, log.consoleErrors.join('\n'));
  assert.match(log.consoleErrors[0], /^assent: the wasm client failed in an event handler \(RuntimeError: unreachable\); optional tags that have not run stay blocked/);
  assert.deepEqual(log.pageErrors, [], 'the browser reported nothing of its own');
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false);
  assert.equal(await page.evaluate(() => window.assent.acceptAll().then(() => 'settled')), 'settled', 'calls still settle');
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false);
  assert.deepEqual(hits(log, GATED.analytics), [], 'no analytics tag ran');
});

test('a trap in the wasm during an API call leaves optional tags blocked, with one console line', async () => {
  const { page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Accept all' }).waitFor();
  const settled = await page.evaluate(() => {
    const at = Date.now();
    Date.now = () => { throw new WebAssembly.RuntimeError('unreachable'); };
    const call = window.assent.acceptAll();
    Date.now = () => at;
    return call.then(() => 'settled');
  });
  assert.equal(settled, 'settled', 'the call settles');
  assert.equal(log.consoleErrors.length, 1, log.consoleErrors.join('\n'));
  assert.match(log.consoleErrors[0], /^assent: the wasm client failed in acceptAll \(RuntimeError: unreachable\)/);
  assert.deepEqual(log.pageErrors, []);
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false);
  assert.equal(await page.evaluate(() => window.assent.consent()), null);
  const stamped = await page.evaluate(() => window.assent.stamp({ text: 'hi' }).assent);
  assert.deepEqual(stamped, { receipt: null, purposes: [], do_not_train: true, content_usage: 'train-ai=n' });
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-category', 'analytics');
    s.src = '/tags/analytics.js';
    document.head.appendChild(s);
    window.assent.rescan();
  });
  assert.deepEqual(hits(log, GATED.analytics), [], 'no analytics tag ran');
});

// The preferences dialog and the AI toggle are a module of their own (Leptos), kept off the banner's path.
const PREFS = '/assent/assent_prefs_bg.wasm';

test('the banner shows without the preferences module, which comes once the banner is idle', async () => {
  const { page, log } = await openPage(env);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  let asked = false;
  await page.route((url) => url.pathname === PREFS, async (route) => {
    asked = true;
    await held;
    await route.continue();
  });
  await page.goto(`${env.base}/?region=DE`);
  const accept = banner(page).getByRole('button', { name: 'Accept all' });
  await accept.waitFor();
  // Asked for with no click: the idle prefetch. The banner was on screen with the module still held.
  await waitFor(() => asked, 'the idle prefetch of the preferences module');
  assert.ok(await accept.isVisible());
  // A click on "Preferences" before the module lands is not lost: the dialog opens when it does.
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  release();
  const dialog = page.locator('#assent-ui .dialog');
  await dialog.waitFor();
  const focused = await page.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.className);
  assert.equal(focused, 'dialog', 'focus moves into the dialog when it opens');
  assert.equal(hits(log, [PREFS]).length, 1, 'one request for the module');
  await prefsDialog(page).getByRole('button', { name: 'Reject all' }).click();
  await page.waitForFunction(() => window.assent.consent()?.purposes.analytics === false);
  assert.deepEqual(log.consoleErrors, []);
});

test('a preferences module that cannot load leaves the banner working and says what to serve', async () => {
  const { page, log } = await openPage(env);
  await page.route((url) => url.pathname === PREFS, (route) => route.fulfill({ status: 404, body: 'missing' }));
  await page.goto(`${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  await waitFor(() => log.consoleErrors.some((e) => e.includes('preferences module')), 'the console line');
  assert.match(log.consoleErrors.find((e) => e.includes('preferences module')),
    /^assent: could not load the preferences module \(http:\/\/[^ ]+\/assent\/assent_prefs\.js and assent_prefs_bg\.wasm, served as application\/wasm\)/);
  assert.equal(await page.evaluate(() => window.assent.allowed('analytics')), false, 'nothing optional allowed');
  // The __gpp handler is in that module: a call fails, as GPP says, rather than never being answered.
  const answer = await page.evaluate(() => new Promise((r) => {
    window.__gpp('ping', (v, ok) => r([v, ok]));
    setTimeout(() => r('no answer within 10 s'), 10000); // a bound on failure, never reached on success
  }));
  assert.deepEqual(answer, [null, false]);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.assent.consent()?.purposes.analytics === true);
});

test('a preferences module from another build is not used, and the console says to serve one folder', async () => {
  const { page, log } = await openPage(env);
  // The glue as another build would answer: its wire version differs.
  await page.route((url) => url.pathname === '/assent/assent_prefs.js', async (route) => {
    const body = (await (await route.fetch()).text()).replace(/as wireVersion\b/, 'as wireVersionOfThisBuild');
    await route.fulfill({ body: `${body}\nexport const wireVersion = () => 99;`, contentType: 'text/javascript' });
  });
  await page.goto(`${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  await waitFor(() => log.consoleErrors.some((e) => e.includes('preferences module')), 'the console line');
  assert.match(log.consoleErrors.find((e) => e.includes('preferences module')),
    /it is from another build \(wire version 99, this client reads 1\): serve every file of one build from one folder/);
  assert.equal(await page.locator('#assent-ui .dialog').count(), 0, 'no dialog from a module that may misread its props');
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await page.waitForFunction(() => window.assent.consent()?.purposes.analytics === false);
});
