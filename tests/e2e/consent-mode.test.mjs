// Issue 5: Google Consent Mode v2 in the dataLayer of the demo page (which has an ungated gtag
// `js`/`config` setup and a Google tag gated by analytics), in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, load, banner, receiptMade, WASM, hits, DEMO_CONFIG } from './helpers.mjs';

// A page that assigns its dataLayer (`var dataLayer = [{…}]`, as Google's docs show for page data) after
// the loader, then loads the Google tag ungated (its consent checks do the gating).
const assigning = (config) => `<!doctype html><html lang="en"><title>shop</title>
<script src="/assent/assent.js" data-config="${config}" data-region="DE" data-consent-mode="500"></script>
<script>
  var dataLayer = [{ pageType: 'product' }];
  function gtag() { dataLayer.push(arguments); }
  gtag('js', new Date());
  gtag('config', 'G-SHOP0000');
</script>
<script src="/tags/gtag.js"></script>
<p>shop</p></html>`;
const noConsentMode = JSON.parse(DEMO_CONFIG);
delete noConsentMode.consentMode;

let env;
before(async () => {
  env = await setup({
    '/fixtures/assigns-datalayer.html': { body: assigning('/assent.json'), type: 'text/html' },
    '/fixtures/no-consent-mode.html': { body: assigning('/fixtures/no-consent-mode.json'), type: 'text/html' },
    '/fixtures/no-consent-mode.json': { body: JSON.stringify(noConsentMode) },
  });
});
after(() => env.close());

/** The dataLayer as plain arrays (gtag pushes `arguments` objects). */
const dataLayer = (page) => page.evaluate(() => window.dataLayer.map((e) => Array.from(e)));
const consentCommands = (layer) => layer.filter((e) => e[0] === 'consent');

test('the consent default comes first, before any config or event command and any gated Google tag', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  const layer = await dataLayer(page);
  const first = layer.findIndex((e) => e[0] === 'consent');
  assert.equal(first, 0, 'the very first dataLayer entry');
  assert.equal(layer[0][1], 'default');
  assert.deepEqual(layer[0][2], {
    ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied',
    functionality_storage: 'denied', personalization_storage: 'denied', security_storage: 'granted', wait_for_update: 500,
  });
  const firstOther = layer.findIndex((e) => e[0] === 'config' || e[0] === 'event' || e[0] === 'js');
  assert.ok(firstOther > first, 'js/config come after the default');
  assert.ok(layer.some((e) => e[0] === 'set' && e[1] === 'ads_data_redaction' && e[2] === true), 'ads_data_redaction as configured');
  // Region defaults from the config's rules, for Google's own geolocation.
  const regional = consentCommands(layer).filter((e) => e[1] === 'default' && e[2].region);
  const us = regional.find((e) => e[2].region.includes('US-CA'));
  assert.equal(us[2].ad_storage, 'granted', 'US opt-out: on before a choice');
  assert.equal(regional.find((e) => e[2].region.includes('DE'))[2].analytics_storage, 'denied');
  // This visitor (DE): an update with everything optional denied; the gated Google tag did not load.
  const last = consentCommands(layer).at(-1);
  assert.equal(last[1], 'update');
  assert.equal(last[2].analytics_storage, 'denied');
  assert.deepEqual(hits(log, ['/tags/gtag.js']), []);

  // Every decision sends an update, and the Google tag it allows runs after it.
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.gtagSawConsent);
  const seen = await page.evaluate(() => window.gtagSawConsent);
  assert.equal(seen.command, 'update');
  assert.equal(seen.state.analytics_storage, 'granted');
  assert.equal(seen.state.ad_user_data, 'granted');
  await page.evaluate(() => window.assent.rejectAll());
  const after = consentCommands(await dataLayer(page)).at(-1);
  assert.deepEqual([after[1], after[2].analytics_storage, after[2].ad_storage, after[2].security_storage], ['update', 'denied', 'denied', 'granted']);
  await context.close();
});

test('a returning visit sends the update from the stored decision before any tag, without the wasm', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=DE`);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await receiptMade(page); // else the next view loads the wasm to make it
  log.requests.length = 0;
  await load(page, `${env.base}/?region=DE`);
  assert.deepEqual(hits(log, [WASM]), [], 'decided by the loader alone');
  const commands = consentCommands(await dataLayer(page));
  assert.deepEqual(commands.map((e) => e[1]), ['default', 'update']);
  assert.equal(commands[1][2].analytics_storage, 'granted');
  await page.waitForFunction(() => window.gtagSawConsent);
  assert.equal(await page.evaluate(() => window.gtagSawConsent.command), 'update', 'the Google tag ran after the update');
  await context.close();
});

// The consent default stays first when the page assigns `dataLayer = [...]` after the loader. Such a page
// used to replace the array that held the default, and Google tags with no default act as if consent were
// granted.
test('a page that assigns its dataLayer after the loader keeps the consent default first', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/assigns-datalayer.html`);
  const seen = await page.evaluate(() => window.gtagSawConsent);
  assert.equal(seen.command, 'default', 'the Google tag found the default in the array the page assigned');
  assert.equal(seen.state.analytics_storage, 'denied');
  const layer = await page.evaluate(() => window.dataLayer.map((e) => (e.pageType ? e : Array.from(e))));
  assert.deepEqual(`${layer[0][0]} ${layer[0][1]}`, 'consent default');
  assert.ok(layer.some((e) => e.pageType === 'product'), 'the page\'s own data is kept');
  assert.equal(layer.filter((e) => e[0] === 'consent' && e[1] === 'default' && !e[2].region).length, 1, 'the default once');
  // Decisions go on reaching the array the page assigned.
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  const last = consentCommands(await dataLayer(page)).at(-1);
  assert.deepEqual([last[1], last[2].analytics_storage], ['update', 'granted']);
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

// The attribute without `consentMode` in the config is named in the console, with what to add. It used to
// deny every Google tag for good, silently (no update is ever sent).
test('data-consent-mode without consentMode in the config says what to add', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/fixtures/no-consent-mode.html`);
  assert.ok(log.consoleWarnings.some((w) => /data-consent-mode is on the <script> tag, but the config has no "consentMode"/.test(w)),
    log.consoleWarnings.join('\n'));
  await context.close();
});
