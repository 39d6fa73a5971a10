// Issue 5: Google Consent Mode v2 in the dataLayer of the demo page (which has an ungated gtag
// `js`/`config` setup and a Google tag gated by analytics), in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, load, banner, receiptMade, waitFor, WASM, hits, DEMO_CONFIG } from './helpers.mjs';

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
// Microsoft's official UET and Clarity snippets, after the loader that names both in data-consent-mode.
const microsoft = `<!doctype html><html lang="en"><title>shop</title>
<script src="/assent/assent.js" data-config="/assent.json" data-region="DE" data-consent-mode="500 uet clarity"></script>
<script>(function(w,d,t,r,u){var f,n,i;w[u]=w[u]||[],f=function(){var o={ti:"1234567",enableAutoSpaTracking:true};o.q=w[u],w[u]=new UET(o),w[u].push("pageLoad")},
n=d.createElement(t),n.src=r,n.async=1,n.onload=n.onreadystatechange=function(){var s=this.readyState;s&&s!=="loaded"&&s!=="complete"||(f(),n.onload=n.onreadystatechange=null)},
i=d.getElementsByTagName(t)[0],i.parentNode.insertBefore(n,i)})(window,document,"script","https://bat.bing.com/bat.js","uetq");</script>
<script>(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
})(window, document, "clarity", "script", "abc123");</script>
<p>shop</p></html>`;
// What the vendors' tags do with what was queued before them, in miniature: UET's reads its queue
// (flat: 'consent', command, state, …) and beacons with the ad_storage in force; Clarity's reads
// clarity.q and collects only with analytics_Storage granted. Each records what it heard.
const UET_TAG = `window.UET = function (o) {
  var heard = [];
  var self = this;
  this.push = function () {
    var a = Array.prototype.slice.call(arguments);
    if (a[0] === 'consent') { heard.push([a[1], a[2].ad_storage]); return; }
    var granted = heard.length && heard[heard.length - 1][1] === 'granted';
    new Image().src = 'https://bat.bing.com/action/0?evt=' + a[0] + '&ad_storage=' + (granted ? 'granted' : 'denied');
  };
  for (var i = 0; i + 2 < o.q.length; i += 3) if (o.q[i] === 'consent') heard.push([o.q[i + 1], o.q[i + 2].ad_storage]);
  window.uetHeard = heard;
};`;
const CLARITY_TAG = `(function () {
  var heard = (window.clarity.q || []).map(function (a) { return [a[0], a[1].ad_Storage, a[1].analytics_Storage]; });
  window.clarityHeard = heard;
  window.clarity = function (kind, v) { if (kind === 'consentv2') heard.push([kind, v.ad_Storage, v.analytics_Storage]); };
  var last = heard[heard.length - 1];
  new Image().src = 'https://www.clarity.ms/collect?analytics_storage=' + (last ? last[2] : 'none');
})();`;
const noConsentMode = JSON.parse(DEMO_CONFIG);
delete noConsentMode.consentMode;

let env;
before(async () => {
  env = await setup({
    '/fixtures/assigns-datalayer.html': { body: assigning('/assent.json'), type: 'text/html' },
    '/fixtures/no-consent-mode.html': { body: assigning('/fixtures/no-consent-mode.json'), type: 'text/html' },
    '/fixtures/no-consent-mode.json': { body: JSON.stringify(noConsentMode) },
    '/fixtures/microsoft.html': { body: microsoft, type: 'text/html' },
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

// Microsoft's consent APIs, from the same state as Google's: UET's `uetq.push('consent', …)` and
// Clarity's `clarity('consentv2', …)` get the default before their tags can run and an update after
// every decision; each tag's first request carries the state it found in force.
test('UET and Clarity hear the default before their tags and an update after every decision', async () => {
  const { context, page, log } = await openPage(env);
  const sent = [];
  await context.route((url) => ['bat.bing.com', 'www.clarity.ms'].includes(url.hostname), (route) => {
    const url = route.request().url();
    sent.push(url.replace(/^https:\/\//, ''));
    if (url.endsWith('/bat.js')) return route.fulfill({ contentType: 'text/javascript', body: UET_TAG });
    if (url.includes('/tag/')) return route.fulfill({ contentType: 'text/javascript', body: CLARITY_TAG });
    return route.fulfill({ status: 204, body: '' });
  });
  await load(page, `${env.base}/fixtures/microsoft.html`);
  await page.evaluate(() => window.assent.ready);
  // Before a choice the tags are held; their queues already hold the default, then this visitor's state.
  assert.deepEqual(sent, [], 'neither tag loaded before consent');
  const queued = await page.evaluate(() => ({ uet: window.uetq.slice(), clarity: window.clarity.q.map((a) => Array.from(a)) }));
  assert.deepEqual(queued.uet.slice(0, 3), ['consent', 'default', { ad_storage: 'denied' }], 'UET: the default first');
  assert.deepEqual(queued.clarity[0], ['consentv2', { ad_Storage: 'denied', analytics_Storage: 'denied' }], 'Clarity: the default first');
  assert.deepEqual(queued.uet.slice(-3), ['consent', 'update', { ad_storage: 'denied' }], 'UET: this visitor (DE), nothing decided yet');

  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.uetHeard && window.clarityHeard);
  await waitFor(() => sent.some((u) => u.startsWith('bat.bing.com/action/')) && sent.some((u) => u.startsWith('www.clarity.ms/collect')),
    'both tags to send');
  const beacons = sent.filter((u) => u.includes('/action/') || u.includes('/collect')).sort();
  assert.deepEqual(beacons, ['bat.bing.com/action/0?evt=pageLoad&ad_storage=granted', 'www.clarity.ms/collect?analytics_storage=granted'],
    'each tag sent once, with the state in force');
  const heard = await page.evaluate(() => ({ uet: window.uetHeard.slice(), clarity: window.clarityHeard.slice() }));
  assert.deepEqual(heard.uet[0], ['default', 'denied'], 'UET found the default first');
  assert.deepEqual(heard.uet.at(-1), ['update', 'granted'], 'and the visitor\'s grant before it sent');
  assert.deepEqual(heard.clarity.at(-1), ['consentv2', 'granted', 'granted']);

  // A withdrawal reaches both running tags at once.
  await page.evaluate(() => window.assent.rejectAll());
  await page.waitForFunction(() => window.uetHeard.at(-1)[1] === 'denied' && window.clarityHeard.at(-1)[2] === 'denied');
  assert.deepEqual(await page.evaluate(() => [window.uetHeard.at(-1), window.clarityHeard.at(-1)]),
    [['update', 'denied'], ['consentv2', 'denied', 'denied']]);
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});
