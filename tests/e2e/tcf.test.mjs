// IAB TCF v2.3 in real Chromium: the first layer and the vendor and purpose layers drawn from the
// site's copy of the GVL, `__tcfapi` as vendors call it (directly and through `__tcfapiLocator` from a
// frame of another origin), and every TC string decoded with the IAB's own @iabtechlabtcf/core to
// exactly the visitor's choices, the shared vectors' (data/tcf-vectors.json) fields.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setup, openPage, banner, prefsDialog, DEMO_CONFIG, trapNextDecision, waitFor } from './helpers.mjs';
import { decoded } from '../vectors/tcf-decode.mjs';

const GVL = readFileSync(new URL('../fixtures/gvl/vendor-list.json', import.meta.url), 'utf8');
const VECTORS = JSON.parse(readFileSync(new URL('../../data/tcf-vectors.json', import.meta.url), 'utf8'));
const expected = (name) => VECTORS.cases.find((c) => c.name === name);

/** The site's config: the demo's, with the vectors' `tcf` section. */
function config(tcf = {}) {
  const c = JSON.parse(DEMO_CONFIG);
  delete c.receipts; // no collector here
  c.tcf = { ...VECTORS.config, ...tcf };
  return JSON.stringify(c);
}

// Vendors' own use of the API: a listener from the start (the stub queues it), every event kept.
const VENDOR = `<script>
  window.tcfEvents = [];
  window.tcfApplies = [];
  window.__tcfapi('addEventListener', 2, function (data, ok) {
    if (ok) { window.tcfEvents.push(data.eventStatus); window.tcfApplies.push(data.gdprApplies); }
  });
</script>`;
const page = (cfg, region = 'DE', extra = '', lang = 'en', vendor = VENDOR) => ({
  type: 'text/html',
  body: `<!doctype html><html lang="${lang}"><title>TCF</title><link rel="icon" href="data:,">
    <script src="/assent/assent.js" data-config="${cfg}" data-region="${region}" data-tcf></script>${vendor}
    <main><h1>News</h1></main>${extra}</html>`,
});

// An ad frame of another origin asks the CMP through the __tcfapiLocator frame, as the IAB's stub does.
const AD_FRAME = `<!doctype html><script>
  addEventListener('message', function (e) {
    var d = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
    if (d && d.__tcfapiReturn && d.__tcfapiReturn.callId === 'c-1') window.answer = d.__tcfapiReturn;
  });
  for (var f = window; ; f = f.parent) {
    var found = false;
    try { found = !!f.frames.__tcfapiLocator; } catch (e) {}
    if (found) { window.cmp = f; break; }
    if (f === f.parent) break;
  }
  if (window.cmp) window.cmp.postMessage(JSON.stringify({ __tcfapiCall: { command: 'getTCData', parameter: null, version: 2, callId: 'c-1' } }), '*');
</script>`;

let env;
let ads;
before(async () => {
  ads = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end(AD_FRAME); });
  await new Promise((r) => ads.listen(0, '127.0.0.1', r));
  const changed = JSON.parse(GVL);
  changed.vendorListVersion += 1;
  changed.vendors['755'].purposes.push(5); // Google now asks for purpose 5 as well
  const renumbered = JSON.parse(GVL);
  renumbered.vendorListVersion += 1; // a new list, nothing changed for this site's vendors
  env = await setup({
    '/gvl/vendor-list.json': { body: GVL, type: 'application/json' },
    '/gvl/changed.json': { body: JSON.stringify(changed), type: 'application/json' },
    '/gvl/renumbered.json': { body: JSON.stringify(renumbered), type: 'application/json' },
    '/tcf.json': { body: config() },
    '/tcf-changed.json': { body: config({ gvl: '/gvl/changed.json' }) },
    '/tcf-renumbered.json': { body: config({ gvl: '/gvl/renumbered.json' }) },
    '/tcf-missing.json': { body: config({ gvl: '/gvl/missing.json' }) },
    '/tcf-bad.json': { body: config({ cmpId: 1 }) },
    '/gvl/purposes-de.json': { body: readFileSync(new URL('../fixtures/gvl/purposes-de.json', import.meta.url), 'utf8'), type: 'application/json' },
    '/tcf-de.json': { body: config({ translations: '/gvl/purposes-{lang}.json' }) },
    '/tcf-fr.json': { body: (() => { const c = JSON.parse(config({ translations: '/gvl/purposes-{lang}.json' })); c.language = 'fr'; return JSON.stringify(c); })() },
    '/tcf-de.html': page('/tcf-de.json', 'DE', '', 'de'),
    '/tcf-fr.html': page('/tcf-fr.json', 'DE', '', 'de'),
    '/tcf.html': page('/tcf.json'),
    '/tcf-us.html': page('/tcf.json', 'US-TX'),
    '/tcf-ping.html': page('/tcf.json', 'DE', '', 'en', ''),
    '/tcf-changed.html': page('/tcf-changed.json'),
    '/tcf-renumbered.html': page('/tcf-renumbered.json'),
    '/tcf-missing.html': page('/tcf-missing.json'),
    '/tcf-bad.html': page('/tcf-bad.json'),
    '/tcf-ad.html': page('/tcf.json', 'DE',
      `<iframe title="Ad" src="http://127.0.0.1:${ads.address().port}/ad.html"></iframe>`),
    '/no-tcf.html': { type: 'text/html', body: `<!doctype html><html lang="en"><title>No TCF</title><link rel="icon" href="data:,">
      <script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script><main>x</main></html>` },
  });
});
after(async () => {
  await env.close();
  await new Promise((r) => ads.close(r));
});

/** `__tcfapi(command)`'s answer, as a vendor gets it (a CMP that never answers fails the test). */
const tcfapi = (page, command, parameter) =>
  page.evaluate(([c, p]) => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error(`__tcfapi('${c}') gave no answer within 15 s`)), 15_000);
    window.__tcfapi(c, 2, (value, success) => resolve({ value, success }), p);
  }), [command, parameter]);

/** The TC data once the visitor acted, with its string decoded. */
async function afterAction(page) {
  const { value, success } = await tcfapi(page, 'getTCData');
  assert.equal(success, true);
  assert.equal(value.eventStatus, 'useractioncomplete');
  return { data: value, decoded: decoded(value.tcString) };
}

/** `decoded` without the dates (the vectors were made on another day). */
const undated = ({ created, lastUpdated, ...rest }) => rest;

async function open(env, path = '/tcf.html') {
  const opened = await openPage(env);
  await opened.page.goto(`${env.base}${path}`);
  return opened;
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** axe-core's WCAG 2.2 A/AA and best-practice violations over the page, open shadow roots included. */
async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
  });
}

const layers = (page) => page.getByRole('dialog', { name: 'Partners and purposes' });

test('the first layer names the partners, their purposes and the way to object, from the GVL', async () => {
  const { page, log, context } = await open(env);
  const b = banner(page);
  await b.waitFor();
  const block = b.getByRole('region', { name: 'Advertising partners (IAB TCF)' });
  // Eight vendors on the GVL (1003 is deleted, 4242 is not listed) and two Google ATPs.
  await assert.doesNotReject(block.getByText('We and our 10 partners').waitFor());
  const items = await block.getByRole('listitem').allInnerTexts();
  assert.ok(items.length >= 2, `purposes or stacks named: ${items}`);
  assert.ok(items.some((i) => /precise geolocation/i.test(i)), `the special feature is named: ${items}`);
  assert.match(await block.textContent(), /legitimate interest/);
  const ping = await tcfapi(page, 'ping');
  assert.equal(ping.value.cmpLoaded, true);
  assert.equal(ping.value.gdprApplies, true);
  assert.equal(ping.value.displayStatus, 'visible');
  assert.equal(ping.value.apiVersion, '2.2');
  // Version 1 of the API is not served.
  assert.deepEqual(await page.evaluate(() => new Promise((r) => window.__tcfapi('getTCData', 1, (v, ok) => r([v, ok])))), [null, false]);
  assert.equal(ping.value.cmpId, 300);
  assert.equal(ping.value.gvlVersion, 140);
  assert.equal(ping.value.tcfPolicyVersion, 5);
  // The TCF build of the preferences module, not the plain one.
  assert.ok(log.requests.includes('/assent/assent_tcf_bg.wasm'));
  assert.ok(!log.requests.includes('/assent/assent_prefs_bg.wasm'));
  assert.deepEqual(log.consoleErrors, []);
  await context.close();
});

test('Accept all on the first layer: the TC string decodes to every disclosed vendor and purpose, never to AI training', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  const { data, decoded: d } = await afterAction(page);
  assert.deepEqual(undated(d), undated(expected('accept all').expect));
  // Assent's own decision from the same click leaves AI training to its own choice.
  assert.equal((await page.evaluate(() => window.assent.consent())).purposes.ai_training, false);
  assert.equal(data.tcString.split('.').length, 3, 'core, DisclosedVendors and publisher TC segments');
  assert.equal(data.addtlConsent, '2~89.1097~dv.', 'every provider consented to: none disclosed only');
  assert.equal(data.vendor.disclosedVendors['1001'], true);
  assert.equal(data.gdprApplies, true);
  assert.equal(data.vendor.consents['755'], true);
  assert.equal(data.vendor.legitimateInterests['1001'], false, 'no LI bit for a special-purposes-only vendor');
  assert.equal(data.publisher.restrictions['2']['755'], 1);
  // The created day is today's, in UTC.
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  assert.equal(d.created, today);
  // Listeners saw the UI shown and the action complete.
  assert.deepEqual(await page.evaluate(() => window.tcfEvents.slice(-2)), ['cmpuishown', 'useractioncomplete']);
  await context.close();
});

test('Reject all: no consent for any vendor or purpose; legitimate interest stands until objected to', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  const { decoded: d } = await afterAction(page);
  assert.deepEqual(undated(d), undated(expected('reject all').expect));
  await context.close();
});

test('mixed vendors chosen in the vendor and purpose layers decode to exactly those choices', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Partners and purposes' }).click();
  const l = layers(page);
  await l.waitFor();
  // Special purposes and features are explained, with no switch (Policy v5.0.b).
  const features = await l.locator('.no-choice').count();
  assert.ok(features >= 3, 'special purposes and features shown');
  for (const key of ['purpose-1', 'purpose-2', 'purpose-7', 'special-feature-1', 'vendor-10', 'vendor-32', 'atp-89']) {
    await l.locator(`[data-tcf="${key}"]`).click();
  }
  await l.getByRole('button', { name: 'Save choices' }).click();
  await l.waitFor({ state: 'detached' });
  const { data, decoded: d } = await afterAction(page);
  assert.deepEqual(undated(d), undated(expected('mixed vendors').expect));
  assert.equal(data.addtlConsent, '2~89~dv.1097');
  // The layers decide TCF only: Assent's own decision is still to be made, so the first layer stays.
  assert.equal(await page.evaluate(() => window.assent.consent()), null);
  await banner(page).waitFor();
  // Focus went back to the button that opened the layers.
  assert.equal(await page.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.dataset.key), 'tcf-partners');
  await context.close();
});

test('an objection to legitimate interest, per purpose and per vendor, is in the string', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Partners and purposes' }).click();
  await layers(page).getByRole('button', { name: 'Accept all' }).click();
  await banner(page).getByRole('button', { name: 'Partners and purposes' }).click();
  const l = layers(page);
  for (const key of ['purpose-li-7', 'vendor-li-32', 'vendor-li-1002']) {
    await l.locator(`[data-tcf="${key}"]`).click();
    assert.equal(await l.locator(`[data-tcf="${key}"]`).getAttribute('aria-checked'), 'false');
  }
  await l.getByRole('button', { name: 'Save choices' }).click();
  const { decoded: d } = await afterAction(page);
  assert.deepEqual(undated(d), undated(expected('objection to legitimate interest').expect));
  // TCF's "Accept all" never touched Assent's purposes, AI training included.
  assert.equal(await page.evaluate(() => window.assent.consent()), null);
  await context.close();
});

test('a withdrawal in the preferences dialog reaches the TC string; the next page view reads it back', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  const first = (await afterAction(page)).data.tcString;
  assert.equal((await page.evaluate(() => window.assent.consent())).purposes.ai_training, false,
    'the first layer\'s Accept all leaves AI training to its own choice');
  await page.evaluate(() => window.assent.showPreferences());
  const dialog = prefsDialog(page);
  await dialog.getByRole('region', { name: 'Advertising partners (IAB TCF)' }).waitFor();
  await dialog.getByRole('button', { name: 'Reject all' }).click();
  const { data, decoded: d } = await afterAction(page);
  assert.notEqual(data.tcString, first);
  assert.deepEqual(d.vendorConsents, []);
  assert.deepEqual(d.purposeConsents, []);
  assert.equal(d.created, d.lastUpdated, 'Created is the day of the last change');
  // The next page view: no banner, the stored string, `tcloaded`.
  await page.reload();
  const { value } = await tcfapi(page, 'getTCData');
  assert.equal(value.eventStatus, 'tcloaded');
  assert.equal(value.tcString, data.tcString);
  assert.equal(await banner(page).count(), 0);
  await context.close();
});

test('the preferences dialog\'s Save refuses the TCF choices not made and keeps those made; an API call changes no TCF choice', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  const dialog = prefsDialog(page);
  await dialog.getByRole('region', { name: 'Advertising partners (IAB TCF)' }).waitFor();
  // Assent's own "Save choices": no TCF choice was made, so every one is refused.
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  const { decoded: refused } = await afterAction(page);
  assert.deepEqual(undated(refused), undated(expected('reject all').expect));
  // Made in the vendor and purpose layers, then the dialog saved: the layers' choices stand.
  await page.evaluate(() => window.assent.showPreferences());
  await dialog.getByRole('button', { name: 'Partners and purposes' }).click();
  await layers(page).getByRole('button', { name: 'Accept all' }).click();
  await layers(page).waitFor({ state: 'detached' });
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  await dialog.waitFor({ state: 'detached' });
  const { data, decoded: kept } = await afterAction(page);
  assert.deepEqual(undated(kept), undated(expected('accept all').expect));
  // The JS API decides Assent's purposes only (its decision is carried out when the call resolves).
  await page.evaluate(() => window.assent.rejectAll());
  assert.equal((await page.evaluate(() => window.assent.consent())).method, 'api');
  assert.equal((await tcfapi(page, 'getTCData')).value.tcString, data.tcString);
  await context.close();
});

test('a decision another tab made, or a click the client could not record, changes no TCF choice here', async () => {
  const { page: a, context } = await open(env);
  const b = await context.newPage();
  await b.goto(`${env.base}/tcf.html`);
  await banner(b).waitFor();
  // Tab A: "Accept all", then every partner refused in the layers; Assent's decision stays accept_all.
  await banner(a).getByRole('button', { name: 'Accept all' }).click();
  await afterAction(a);
  await a.evaluate(() => window.assent.showPreferences());
  await prefsDialog(a).getByRole('button', { name: 'Partners and purposes' }).click();
  await layers(a).getByRole('button', { name: 'Reject all' }).click();
  await layers(a).waitFor({ state: 'detached' });
  const stored = await a.evaluate(() => localStorage.getItem('assent.tcf'));
  assert.deepEqual(undated((await afterAction(a)).decoded), undated(expected('reject all').expect));
  // Tab B takes in A's decision (its banner goes); the TCF choices A stored stay as they are.
  assert.equal((await b.evaluate(() => window.assent.consent())).method, 'accept_all');
  await banner(b).waitFor({ state: 'detached' });
  assert.equal(await b.evaluate(() => localStorage.getItem('assent.tcf')), stored);
  // A fresh visitor whose click the client cannot record (a trap in the wasm): no TCF choice either.
  const { page: c, log, context: other } = await open(env);
  await banner(c).getByRole('button', { name: 'Accept all' }).waitFor();
  const untrap = await trapNextDecision(c);
  await banner(c).getByRole('button', { name: 'Accept all' }).click();
  await waitFor(() => log.consoleErrors.length > 0, 'the console line');
  await untrap();
  assert.match(log.consoleErrors[0], /^assent: the wasm client failed in an event handler/);
  assert.equal(await c.evaluate(() => localStorage.getItem('assent.tcf')), null);
  await other.close();
  await context.close();
});

test('the visitor is asked again when a vendor\'s declarations change, not for a new list number alone', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await afterAction(page);
  await page.goto(`${env.base}/tcf-renumbered.html`);
  assert.equal((await tcfapi(page, 'getTCData')).value.eventStatus, 'tcloaded');
  assert.equal(await banner(page).count(), 0);
  await page.goto(`${env.base}/tcf-changed.html`);
  await banner(page).getByRole('region', { name: 'Advertising partners (IAB TCF)' }).waitFor();
  const { value } = await tcfapi(page, 'getTCData');
  assert.equal(value.eventStatus, 'cmpuishown');
  // While the visitor is asked: the disclosed vendors' legitimate interest, and no consent.
  const asked = decoded(value.tcString);
  assert.deepEqual([asked.vendorConsents, asked.purposeConsents], [[], []]);
  assert.deepEqual(asked.vendorLegitimateInterests, expected('reject all').expect.vendorLegitimateInterests);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  const { decoded: d } = await afterAction(page);
  assert.equal(d.vendorListVersion, 141);
  assert.ok(d.purposeConsents.includes(5));
  await context.close();
});

test('outside the TCF regions gdprApplies is false and the first layer has no TCF block', async () => {
  const { page, context, log } = await open(env, '/tcf-us.html');
  await page.evaluate(() => window.assent.ready);
  // The vendor's listener, registered before anything was known, heard only the true answer.
  await waitFor(() => page.evaluate(() => window.tcfApplies.length > 0), 'the listener answered');
  assert.deepEqual(await page.evaluate(() => window.tcfApplies), [false]);
  const { value } = await tcfapi(page, 'getTCData');
  assert.equal(value.gdprApplies, false);
  assert.equal(value.tcString, '');
  assert.equal(await page.getByRole('region', { name: 'Advertising partners (IAB TCF)' }).count(), 0);
  assert.deepEqual(log.consoleErrors, []);
  await context.close();
});

test('a vendor that only pings sees the CMP loaded once it has started', async () => {
  const { page, context } = await open(env, '/tcf-ping.html');
  await banner(page).getByRole('region', { name: 'Advertising partners (IAB TCF)' }).waitFor();
  const { value } = await tcfapi(page, 'ping');
  assert.deepEqual([value.cmpLoaded, value.cmpStatus, value.gdprApplies, value.displayStatus], [true, 'loaded', true, 'visible']);
  await context.close();
});

test('a frame of another origin reads the TC data through __tcfapiLocator', async () => {
  const { page, context } = await open(env, '/tcf-ad.html');
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await afterAction(page);
  // The ad asks again, now that the visitor has acted.
  await page.evaluate(() => { const f = document.querySelector('iframe[title="Ad"]'); f.src = `${f.src}?again`; });
  const answer = await waitFor(async () => {
    const f = page.frames().find((x) => x.url().includes('/ad.html?again'));
    return f && (await f.evaluate(() => window.answer));
  }, 'the locator answered');
  assert.equal(answer.success, true);
  assert.deepEqual(undated(decoded(answer.returnValue.tcString)), undated(expected('accept all').expect));
  await context.close();
});

test('a GVL that cannot be loaded, or a bad tcf section: one console line, no TCF consent, the banner still works', async () => {
  for (const [path, says] of [['/tcf-missing.html', /Global Vendor List from \/gvl\/missing\.json/], ['/tcf-bad.html', /tcf\.cmpId/]]) {
    const { page, log, context } = await open(env, path);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.evaluate(() => window.assent.ready);
    const { value, success } = await tcfapi(page, 'getTCData');
    if (success) assert.equal(value.tcString, '');
    // Assent's one line (and, for the missing file, the browser's own 404 line).
    const ours = log.consoleErrors.filter((e) => !/^Failed to load resource/.test(e));
    assert.equal(ours.length, 1, `${path}: ${log.consoleErrors}`);
    assert.match(ours[0], says);
    assert.equal(log.pageErrors.length, 0);
    await context.close();
  }
});

test('the TCF block and layers pass axe, take focus, and close on Escape with focus back on their button', async () => {
  const { page, context } = await open(env);
  await banner(page).getByRole('region', { name: 'Advertising partners (IAB TCF)' }).waitFor();
  assert.deepEqual(await axe(page), []);
  await banner(page).getByRole('button', { name: 'Partners and purposes' }).click();
  const l = layers(page);
  await l.waitFor();
  assert.equal(await page.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.getAttribute('role')), 'dialog');
  await l.locator('details').evaluateAll((all) => { for (const d of all) d.open = true; });
  assert.deepEqual(await axe(page), []);
  await page.keyboard.press('Escape');
  await l.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.dataset.key), 'tcf-partners');
  await context.close();
});

const strings = (lang) => JSON.parse(readFileSync(new URL(`../../locales/tcf/${lang}.json`, import.meta.url), 'utf8'));

test('in German: the TCF strings and the GVL translation are German, and the TC string says DE', async () => {
  const de = strings('de');
  const { page, context, log } = await open(env, '/tcf-de.html');
  const b = banner(page);
  await b.getByRole('region', { name: de['tcf.title'] }).waitFor();
  await b.getByRole('button', { name: de['tcf.layers'] }).click();
  const l = page.getByRole('dialog', { name: de['tcf.layers'] });
  await l.getByText('Speichern von oder Zugriff auf Informationen auf einem Endgerät', { exact: true }).first().waitFor();
  // A purpose the translation lacks keeps the GVL's English text.
  await l.getByText('Create profiles for personalised advertising').first().waitFor();
  await l.getByRole('button', { name: de['tcf.acceptAll'] }).click();
  const { decoded: d } = await afterAction(page);
  assert.equal(d.consentLanguage, 'DE');
  // The likely language's files came with the vendor list, before the first layer.
  assert.ok(log.requests.includes('/assent/tcf/de.json') && log.requests.includes('/gvl/purposes-de.json'));
  await context.close();
});

test('a language other than the loader guessed gets its own strings (French on a German page with `language: fr`)', async () => {
  const fr = strings('fr');
  const { page, context, log } = await open(env, '/tcf-fr.html');
  await banner(page).getByRole('region', { name: fr['tcf.title'] }).waitFor();
  assert.ok(log.requests.includes('/assent/tcf/fr.json'));
  // No French translation is served: the GVL's texts stay English, and so does the string.
  await banner(page).getByRole('button', { name: fr['tcf.layers'] }).click();
  await page.getByRole('dialog', { name: fr['tcf.layers'] }).getByText('Store and/or access information on a device').first().waitFor();
  assert.deepEqual(log.consoleErrors.filter((e) => !/^Failed to load resource/.test(e)), []);
  assert.deepEqual(log.consoleWarnings.filter((w) => w.includes('translation')),
    ['assent: no usable GVL translation for `fr` (tcf.translations: HTTP 404); the TCF texts are shown in English']);
  await context.close();
});

test('a site without tcf gets no __tcfapi and none of the TCF build', async () => {
  const { page, log, context } = await open(env, '/no-tcf.html');
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  await prefsDialog(page).waitFor();
  assert.equal(await page.evaluate(() => typeof window.__tcfapi), 'undefined');
  assert.ok(log.requests.includes('/assent/assent_prefs_bg.wasm'));
  assert.ok(!log.requests.some((r) => r.includes('assent_tcf')));
  assert.equal(await page.getByRole('region', { name: 'Advertising partners (IAB TCF)' }).count(), 0);
  await context.close();
});
