// A page that requires Trusted Types (docs/csp.md): the page writes its markup and scripts through a
// policy of its own, and Assent works through its policy `assent`. Trackers the page writes as trusted
// markup are held until allowed and run once allowed; Assent's banner, dialog, AI toggle and embed
// placeholder show with nothing refused; a plain string the page passes is still refused (Assent never
// makes the page's strings trusted); and a policy list without `assent` gets one console line naming the fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, banner, prefsDialog, waitFor, quiet } from './helpers.mjs';

const NONCE = 'ttTestNonce0123456789';
const CSP = `script-src 'nonce-${NONCE}' 'strict-dynamic' 'wasm-unsafe-eval'; style-src 'self' 'nonce-${NONCE}'; ` +
  "object-src 'none'; base-uri 'none'; require-trusted-types-for 'script'";
const page = (body) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script nonce="${NONCE}" src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script>
<title>Trusted Types</title></head><body><h1>A page that requires Trusted Types</h1>
<script type="text/plain" data-category="analytics" nonce="${NONCE}">window.__ran = (window.__ran || []).concat('inline');</script>
<iframe id="video" title="Video" width="480" height="270" src="https://www.youtube.com/embed/tt"></iframe>
<assent-ai-toggle conversation="c-tt"></assent-ai-toggle>
<div id="a"></div><div id="b"></div>
<script nonce="${NONCE}">${body}</script></body></html>`;
// The page's own policy, and trackers written through it: markup, document.write and a script's URL.
const WRITES = `const p = trustedTypes.createPolicy('page', { createHTML: (s) => s, createScriptURL: (s) => s });
document.getElementById('a').innerHTML = p.createHTML('<img alt="" src="https://www.google-analytics.com/collect?v=1&t=pageview">');
document.getElementById('b').insertAdjacentHTML('beforeend', p.createHTML('<iframe title="Map" src="https://www.youtube.com/embed/written"></iframe>'));
document.write(p.createHTML('<script src="https://www.googletagmanager.com/gtag/js?id=G-TT"><\\/script>'));
const s = document.createElement('script');
s.src = p.createScriptURL('https://connect.facebook.net/en_US/fbevents.js');
document.body.appendChild(s);`;
// A string where the page requires TrustedHTML: the browser refuses it, Assent or not.
const STRING = `try { document.getElementById('a').innerHTML = '<img alt="" src="https://www.google-analytics.com/collect?v=2">'; window.__string = 'written'; }
catch (e) { window.__string = e.name; }`;
const RECORD = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  (window.top.__violations || window.__violations).push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});`;
const TRACKERS = /google-analytics\.com|googletagmanager\.com|facebook\.net/;
const RAN = { 'www.googletagmanager.com': 'gtm', 'connect.facebook.net': 'meta' };

let env;
before(async () => {
  env = await setup({
    '/tt.html': { type: 'text/html', body: page(WRITES), headers: { 'content-security-policy': `${CSP}; trusted-types assent page` } },
    '/string.html': { type: 'text/html', body: page(STRING), headers: { 'content-security-policy': `${CSP}; trusted-types assent page` } },
    '/unnamed.html': { type: 'text/html', body: page(WRITES), headers: { 'content-security-policy': `${CSP}; trusted-types page` } },
  });
});
after(() => env.close());

async function ttPage(path) {
  const opened = await openPage(env, { initScript: RECORD });
  opened.trackers = [];
  opened.page.on('request', (r) => { if (TRACKERS.test(r.url())) opened.trackers.push(new URL(r.url()).hostname); });
  await opened.context.route((url) => url.hostname === 'www.youtube.com', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>video</p>' }));
  await opened.context.route((url) => TRACKERS.test(url.hostname), (route) => {
    const name = RAN[new URL(route.request().url()).hostname];
    return route.fulfill({ status: 200, contentType: 'text/javascript', body: name ? `window.__ran = (window.__ran || []).concat(${JSON.stringify(name)});` : '' });
  });
  // No collector runs here: the receipt POST is answered as a collector that stored it would.
  await opened.context.route((url) => url.pathname === '/v1/receipts', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{}' }));
  await opened.page.goto(`${env.base}${path}`);
  return opened;
}

test('under Trusted Types, trackers the page writes through its policy are held until allowed, then run, with nothing refused', async () => {
  const { context, page, log, trackers } = await ttPage('/tt.html');
  await banner(page).waitFor();
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('assent-ui').shadowRoot.querySelector('section.banner')).position), 'fixed');
  // The AI toggle and the embed placeholders (a frame in the markup and one the page wrote) show.
  await waitFor(() => page.evaluate(() => !!document.querySelector('assent-ai-toggle').shadowRoot?.querySelector('[role=switch]')), 'the AI toggle');
  await page.frameLocator('#video').getByRole('button', { name: /Load/ }).waitFor();
  await page.frameLocator('#b iframe').getByRole('button', { name: /Load/ }).waitFor();
  await quiet(log);
  assert.deepEqual(trackers, [], 'no tracker request before a choice');
  assert.equal(await page.evaluate(() => window.__ran), undefined, 'nothing optional ran before a choice');
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(log.consoleErrors, []);
  // The dialog renders under the policy too; then everything is allowed.
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  const dialog = prefsDialog(page);
  await dialog.getByRole('switch', { name: /Analytics/ }).waitFor();
  await dialog.getByRole('button', { name: 'Accept all' }).click();
  await waitFor(() => page.evaluate(() => (window.__ran || []).length === 3 && window.__ran), 'the gated inline script and both written scripts to run');
  assert.deepEqual((await page.evaluate(() => window.__ran)).sort(), ['gtm', 'inline', 'meta']);
  await waitFor(() => trackers.includes('www.google-analytics.com'), 'the written pixel to load');
  await page.frameLocator('#b iframe').getByText('video').waitFor();
  await quiet(log);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(log.consoleErrors, []);
  await context.close();
});

test('under Trusted Types, a string the page writes as markup is still refused: Assent never makes it trusted', async () => {
  const { context, page, log, trackers } = await ttPage('/string.html');
  await banner(page).waitFor();
  assert.equal(await page.evaluate(() => window.__string), 'TypeError');
  assert.equal(await page.evaluate(() => document.getElementById('a').innerHTML), '');
  await quiet(log);
  assert.deepEqual(trackers, []);
  // The one violation is the page's own string.
  const violations = await page.evaluate(() => window.__violations);
  assert.equal(violations.length, 1, JSON.stringify(violations));
  assert.match(violations[0], /^require-trusted-types-for .*innerHTML\|<img alt="" src="https:\/\/www.google-anal/);
  await context.close();
});

test('a trusted-types directive without assent gets one console line naming the fix, and what the page writes stays blocked', async () => {
  const { context, page, log, trackers } = await ttPage('/unnamed.html');
  await banner(page).waitFor();
  await quiet(log);
  const ours = log.consoleErrors.filter((e) => e.startsWith('assent:'));
  assert.equal(ours.length, 1, JSON.stringify(log.consoleErrors));
  assert.match(ours[0], /Add 'assent' to the CSP's trusted-types directive/);
  assert.deepEqual(trackers, [], 'no tracker request');
  assert.equal(await page.evaluate(() => document.getElementById('a').innerHTML), '', 'tracker markup that could not be cleaned is not written');
  await context.close();
});
