// Issue 5: the flow each region's law asks for, Global Privacy Control, and where the region comes
// from (data-region, the geo endpoint, the timezone). Real Chromium, the demo page and config, the real
// collector binary behind the demo server; assertions on the browser's request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GppModel } from '@iabgpp/cmpapi';
import { setup, openPage, load, banner, prefsDialog, hits, GATED, ALL_GATED, DEMO_CONFIG, freePort, startCollector, receiptsAt, KEY, verifiedClaims } from './helpers.mjs';

const GPC_ON = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true });';

// An ad frame of another origin asks the CMP through the __gppLocator frame, as the IAB's stub does.
const AD_FRAME = `<!doctype html><script>
      var callId = 'c-1';
      addEventListener('message', function (e) {
        var d = typeof e.data === 'string' ? JSON.parse(e.data) : e.data;
        if (d && d.__gppReturn && d.__gppReturn.callId === callId) window.answer = d.__gppReturn;
      });
      for (var f = window; ; f = f.parent) {
        var found = false;
        try { found = !!f.frames.__gppLocator; } catch (e) {}
        if (found) { window.cmp = f; break; }
        if (f === f.parent) break;
      }
      if (window.cmp) window.cmp.postMessage(JSON.stringify({ __gppCall: { command: 'ping', parameter: null, version: '1.1', callId: callId } }), '*');
    </script>`;

let env;
let port;
let collector;
/** An ad server: another port, so another origin. */
let ads;
before(async () => {
  ads = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end(AD_FRAME); });
  await new Promise((r) => ads.listen(0, '127.0.0.1', r));
  port = await freePort();
  const geo = JSON.parse(DEMO_CONFIG);
  geo.regions.geoEndpoint = '/fixtures/geo';
  const slowGeo = JSON.parse(DEMO_CONFIG);
  slowGeo.regions.geoEndpoint = '/fixtures/geo-slow';
  const badGpc = JSON.parse(DEMO_CONFIG);
  badGpc.gpc = { purposes: ['marketin'] };
  env = await setup({
    '/fixtures/geo.json': { body: JSON.stringify(geo) },
    '/fixtures/geo': { body: '{"region":"US-TX"}', type: 'application/json' },
    '/fixtures/slow-geo.json': { body: JSON.stringify(slowGeo) },
    '/fixtures/geo-slow': { body: '{"region":"US-TX"}', type: 'application/json', delay: 4000 },
    '/fixtures/bad-gpc.json': { body: JSON.stringify(badGpc) },
    '/fixtures/gpp-host.html': { type: 'text/html', body: `<!doctype html><html lang="en"><title>ad</title>
      <script src="/assent/assent.js" data-config="/assent.json" data-region="US-VA" data-gpp></script>
      <p>page</p><iframe title="Ad" src="http://127.0.0.1:${ads.address().port}/gpp-frame.html"></iframe></html>` },
  }, { collector: `http://127.0.0.1:${port}`, collectorKey: KEY });
  collector = await startCollector(port, join(mkdtempSync(join(tmpdir(), 'assent-regions-')), 'r.sqlite'), env.base);
});
after(async () => {
  collector.kill();
  await env.close();
  await new Promise((r) => ads.close(r));
});

/** Buttons on the first layer, or null when no banner shows. */
async function firstLayer(page) {
  if (await banner(page).count() === 0) return null;
  return banner(page).getByRole('button').allInnerTexts();
}

test('each region gets its flow: what shows and what runs before any choice', async () => {
  // (data-region, first-layer buttons, gated purposes that ran before a choice)
  const table = [
    ['DE', ['Accept all', 'Reject all', 'Preferences'], []],
    ['FR', ['Accept all', 'Reject all', 'Preferences'], []],
    ['GB', ['Accept all', 'Reject all', 'Preferences'], ['analytics']], // the DUA Act analytics exemption
    ['BR', ['Accept all', 'Reject all', 'Preferences'], []],
    ['CA-QC', ['Accept all', 'Reject all', 'Preferences'], []],
    ['US-CA', ['Your privacy choices', 'OK'], ['analytics', 'marketing']],
    ['US-TX', ['Your privacy choices', 'OK'], ['analytics', 'marketing']],
    ['JP', ['Preferences', 'OK'], ['analytics', 'marketing']],
  ];
  for (const [region, buttons, ran] of table) {
    const { context, page, log } = await openPage(env);
    await load(page, `${env.base}/?region=${region}`);
    await banner(page).waitFor();
    assert.deepEqual(await firstLayer(page), buttons, region);
    const expected = ran.flatMap((p) => GATED[p]);
    assert.deepEqual(hits(log, ALL_GATED).sort(), expected.sort(), `${region}: gated requests before any choice`);
    assert.deepEqual(log.pageErrors, [], region);
    await context.close();
  }
});

test('GPC in US-CA and US-TX: marketing never runs, "Opt-Out Request Honored" shows, and a gpc receipt is posted', async () => {
  for (const region of ['US-CA', 'US-TX']) {
    const { context, page, log } = await openPage(env, { initScript: GPC_ON });
    await load(page, `${env.base}/?region=${region}`);
    const status = banner(page).getByRole('status');
    assert.equal(await status.textContent(), 'Opt-Out Request Honored', region);
    assert.deepEqual(hits(log, GATED.marketing), [], `${region}: marketing never requested`);
    assert.deepEqual(hits(log, GATED.analytics).sort(), [...GATED.analytics].sort(), `${region}: analytics keeps its opt-out default`);
    const consent = await page.evaluate(() => window.assent.consent());
    assert.deepEqual([consent.method, consent.purposes.marketing, consent.purposes.ai_training], ['gpc', false, false]);

    const [receipt] = await receiptsAt(port, consent.subject, 1, "the gpc receipt");
    const claims = await verifiedClaims(receipt.jws);
    assert.deepEqual([claims.method, claims.gpc, claims.purposes.marketing.granted, claims.region], ['gpc', true, false, region]);

    // IAB GPP: each state's own section, decoded by the IAB's own library.
    const [id, name] = region === 'US-CA' ? [8, 'usca'] : [16, 'ustx'];
    const gpp = await page.evaluate(() => new Promise((resolve) => window.__gpp('ping', (ping) => resolve(ping))));
    assert.deepEqual([gpp.cmpStatus, gpp.signalStatus, gpp.applicableSections, gpp.sectionList], ['loaded', 'ready', [id], [id]]);
    const section = new GppModel(gpp.gppString).getSection(name);
    const optOut = region === 'US-CA' ? section.SharingOptOut : section.TargetedAdvertisingOptOut;
    assert.deepEqual([section.SaleOptOut, optOut, section.Gpc], [1, 1, true], gpp.gppString);
    assert.deepEqual(Object.keys(gpp.parsedSections), [name]);
    assert.equal(await page.evaluate((f) => new Promise((r) => window.__gpp('getField', (v) => r(v), f)), `${name}.SaleOptOut`), 1);

    // The dialog says so too, and the persistent entry point stays after the notice is acknowledged.
    await banner(page).getByRole('button', { name: 'OK' }).click();
    await page.getByRole('button', { name: 'Your Privacy Choices' }).click();
    assert.equal(await prefsDialog(page).getByRole('status').textContent(), 'Opt-Out Request Honored');
    assert.equal(await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).getAttribute('aria-checked'), 'false');
    await page.reload();
    await page.evaluate(() => window.assent.ready);
    await page.waitForLoadState('networkidle');
    assert.deepEqual(hits(log, GATED.marketing), [], `${region}: not after a reload either`);
    await context.close();
  }
});

test('GPC in an opt-in region is recorded but decides nothing; an explicit opt-in under GPC in US-CA wins', async () => {
  const de = await openPage(env, { initScript: GPC_ON });
  await load(de.page, `${env.base}/?region=DE`);
  await banner(de.page).getByRole('button', { name: 'Accept all' }).click();
  const consent = await de.page.evaluate(() => window.assent.consent());
  const [receipt] = await receiptsAt(port, consent.subject, 1, 'the receipt');
  const claims = await verifiedClaims(receipt.jws);
  assert.deepEqual([claims.method, claims.gpc, claims.purposes.marketing.granted], ['accept_all', true, true]);
  await de.context.close();

  const { context, page, log } = await openPage(env, { initScript: GPC_ON });
  await load(page, `${env.base}/?region=US-CA`);
  await banner(page).getByRole('button', { name: 'Your privacy choices' }).click();
  await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).click();
  await prefsDialog(page).getByRole('button', { name: 'Save choices' }).click();
  await page.waitForFunction(() => window.demoRuns.marketing === 1);
  log.requests.length = 0;
  await load(page, `${env.base}/?region=US-CA`);
  assert.deepEqual(hits(log, GATED.marketing).length > 0, true, 'the explicit opt-in stands on the next visit');
  assert.equal(await page.evaluate(() => window.assent.consent().method), 'preferences_saved');
  await context.close();
});

test('without data-region: the timezone decides (Europe/Berlin opt-in, America/Los_Angeles opt-out), then the geo endpoint when configured', async () => {
  for (const [timezoneId, buttons] of [['Europe/Berlin', ['Accept all', 'Reject all', 'Preferences']], ['America/Los_Angeles', ['Your privacy choices', 'OK']]]) {
    const context = await env.browser.newContext({ timezoneId });
    const page = await context.newPage();
    await load(page, `${env.base}/?region=`);
    await banner(page).waitFor();
    assert.deepEqual(await firstLayer(page), buttons, timezoneId);
    await context.close();
  }
  // A configured geo endpoint answers before the timezone is consulted.
  const context = await env.browser.newContext({ timezoneId: 'Europe/Berlin' });
  const page = await context.newPage();
  await load(page, `${env.base}/?region=&config=/fixtures/geo.json`);
  await banner(page).waitFor();
  assert.deepEqual(await firstLayer(page), ['Your privacy choices', 'OK'], 'US-TX from the geo endpoint');
  await banner(page).getByRole('button', { name: 'OK' }).click();
  assert.equal(await page.evaluate(() => window.assent.consent().region), 'US-TX');
  await context.close();
});

test('the demo publishes /.well-known/gpc.json', async () => {
  const res = await fetch(`${env.base}/.well-known/gpc.json`);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.gpc, true);
  assert.match(body.lastUpdate, /^\d{4}-\d{2}-\d{2}$/);
});

test('__gpp: the stub queues calls until the CMP is ready; listeners hear every change; no section outside US opt-out regions', async () => {
  const { context, page } = await openPage(env);
  await page.goto(`${env.base}/?region=US-TX`);
  // Called at once, before the wasm is ready: queued by the loader's stub, answered once it is.
  const events = await page.evaluate(() => new Promise((resolve) => {
    const seen = [];
    window.__gpp('addEventListener', (event, ok) => {
      seen.push([event.eventName, event.data, ok, event.pingData.gppString]);
      if (seen.length === 2) resolve(seen);
    });
  }));
  assert.deepEqual(events.map((e) => e.slice(0, 3)), [['listenerRegistered', true, true], ['signalStatus', 'ready', true]]);
  const before = new GppModel(events[1][3]).getSection('ustx');
  assert.deepEqual([before.SaleOptOut, before.Gpc, before.SaleOptOutNotice], [2, false, 1], 'no opt-out yet; the notice was given');
  const change = page.evaluate(() => new Promise((resolve) => {
    window.__gpp('addEventListener', (event) => { if (event.eventName === 'sectionChange') resolve(event.pingData.gppString); });
  }));
  await banner(page).getByRole('button', { name: 'Your privacy choices' }).click();
  await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).click();
  await prefsDialog(page).getByRole('button', { name: 'Save choices' }).click();
  const after = new GppModel(await change).getSection('ustx');
  assert.deepEqual([after.SaleOptOut, after.TargetedAdvertisingOptOut], [1, 1], 'the objection reaches GPP at once');
  const call = (command, parameter) => page.evaluate(([c, p]) => new Promise((r) => window.__gpp(c, (v, ok) => r([v, ok]), p)), [command, parameter]);
  assert.deepEqual(await call('hasSection', 'ustx'), [true, true]);
  assert.deepEqual(await call('hasSection', 'usnat'), [false, true], 'Texas has its own section');
  const [section] = await call('getSection', 'ustx');
  assert.deepEqual([section.SaleOptOut, section.MspaCoveredTransaction, section.SensitiveDataProcessing.length], [1, 2, 8]);
  assert.deepEqual(await call('removeEventListener', 1), [true, true]);
  assert.deepEqual(await call('removeEventListener', 1), [false, true], 'already removed');
  assert.deepEqual(await call('getField', 'ustx.NoSuchField'), [null, true]);
  await context.close();

  const de = await openPage(env);
  await load(de.page, `${env.base}/?region=DE`);
  await banner(de.page).waitFor();
  const ping = await de.page.evaluate(() => new Promise((resolve) => window.__gpp('ping', (p) => resolve(p))));
  assert.equal(ping.cmpStatus, 'loaded');
  assert.deepEqual([ping.applicableSections, ping.gppString], [[-1], ''], 'no US section in Germany');
  await de.context.close();
});

// GPP's state sections follow the visitor's resolved state: Virginia's own section (which has no GPC
// subsection), decoded by the IAB's own library, and no other section is claimed.
test('__gpp in Virginia answers with usva, without a GPC subsection; the other sections are not applicable', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/?region=US-VA`);
  const call = (command, parameter) => page.evaluate(([c, p]) => new Promise((r) => window.__gpp(c, (v, ok) => r([v, ok]), p)), [command, parameter]);
  const [ping] = await call('ping');
  assert.deepEqual([ping.applicableSections, ping.supportedAPIs], [[9], ['7:usnat', '8:usca', '9:usva', '10:usco', '11:usut',
    '12:usct', '13:usfl', '14:usmt', '15:usor', '16:ustx', '17:usde', '18:usia', '19:usne', '20:usnh', '21:usnj', '22:ustn',
    '23:usmn', '24:usmd', '25:usin', '26:usky', '27:usri']]);
  const usva = new GppModel(ping.gppString).getSection('usva');
  assert.deepEqual([usva.SaleOptOutNotice, usva.SaleOptOut, usva.TargetedAdvertisingOptOut, usva.MspaCoveredTransaction], [1, 2, 2, 2], ping.gppString);
  assert.ok(!ping.gppString.split('~')[1].includes('.'), 'no GPC subsection in Virginia\'s section');
  assert.deepEqual(await call('hasSection', 'usva'), [true, true]);
  assert.deepEqual(await call('hasSection', '9'), [true, true]);
  assert.deepEqual(await call('hasSection', 'usnat'), [false, true]);
  assert.deepEqual(await call('getField', 'usva.SensitiveDataProcessing'), [[0, 0, 0, 0, 0, 0, 0, 0], true]);
  assert.deepEqual(await call('getField', 'usnat.SaleOptOut'), [null, true]);
  // The visitor opts out: the section says so, and listeners hear it by the section's name.
  const change = page.evaluate(() => new Promise((resolve) => {
    window.__gpp('addEventListener', (event) => { if (event.eventName === 'sectionChange') resolve([event.data, event.pingData.gppString]); });
  }));
  await banner(page).getByRole('button', { name: 'Your privacy choices' }).click();
  await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).click();
  await prefsDialog(page).getByRole('button', { name: 'Save choices' }).click();
  const [name, string] = await change;
  assert.equal(name, 'usva');
  const after = new GppModel(string).getSection('usva');
  assert.deepEqual([after.SaleOptOut, after.TargetedAdvertisingOptOut], [1, 1]);
  await context.close();
});

// An ad in a frame of another origin cannot call `__gpp`: it finds the CMP's window by the
// `__gppLocator` frame and asks through postMessage, and gets the CMP's answer back.
test('__gpp through the __gppLocator frame: a cross-origin frame gets the CMP\'s answer by postMessage', async () => {
  const port = ads.address().port;
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/fixtures/gpp-host.html`);
  const frame = page.frames().find((f) => f.url().startsWith(`http://127.0.0.1:${port}/`));
  assert.ok(frame, 'the ad frame is of another origin');
  assert.equal(await frame.evaluate(() => !!window.cmp), true, 'it found the locator');
  await frame.waitForFunction(() => window.answer);
  const answer = await frame.evaluate(() => window.answer);
  assert.deepEqual([answer.success, answer.callId, answer.returnValue.gppVersion], [true, 'c-1', '1.1']);
  assert.ok(['stub', 'loaded'].includes(answer.returnValue.cmpStatus), answer.returnValue.cmpStatus);
  assert.equal(await page.locator('iframe[name="__gppLocator"]').count(), 1, 'one locator, hidden');
  assert.equal(await page.locator('iframe[name="__gppLocator"]').isVisible(), false);
  await context.close();
});

// A vendor that kept a reference to the loader's stub (`const gpp = window.__gpp`) and calls it after the
// CMP is ready is answered by the CMP. It used to get a 'stub' ping, and every other command was queued for
// ever.
test('__gpp: a reference to the stub kept from before the CMP was ready is answered by the CMP', async () => {
  const { context, page } = await openPage(env, {
    initScript: () => {
      let current;
      Object.defineProperty(window, '__gpp', { configurable: true, get: () => current,
        set: (v) => { if (!window.keptGpp) window.keptGpp = v; current = v; } });
    },
  });
  await load(page, `${env.base}/?region=US-TX`);
  const kept = (command, parameter) => page.evaluate(([c, p]) => new Promise((r) => {
    window.keptGpp(c, (v, ok) => r([v, ok]), p);
    setTimeout(() => r('no answer in 2 s'), 2000);
  }), [command, parameter]);
  const [ping] = await kept('ping');
  assert.equal(ping.cmpStatus, 'loaded');
  assert.deepEqual(await kept('hasSection', 'ustx'), [true, true]);
  await context.close();
});

test('bad input: a slow geo endpoint falls back to the timezone in time; a wrong gpc purpose is named and blocks everything optional', async () => {
  const context = await env.browser.newContext({ timezoneId: 'America/Los_Angeles' });
  const page = await context.newPage();
  const warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') warnings.push(m.text()); });
  const started = Date.now();
  await load(page, `${env.base}/?region=&config=/fixtures/slow-geo.json`);
  await banner(page).waitFor();
  assert.ok(Date.now() - started < 4000, 'the page did not wait for the slow endpoint');
  assert.deepEqual(await firstLayer(page), ['Your privacy choices', 'OK'], 'the timezone (US) decided');
  assert.ok(warnings.some((w) => w.includes('/fixtures/geo-slow') && w.includes('1.5 s')), warnings.join('\n'));
  await context.close();

  const { context: c2, page: p2, log } = await openPage(env);
  await load(p2, `${env.base}/?region=US-CA&config=/fixtures/bad-gpc.json`);
  assert.ok(log.consoleErrors.some((e) => e.includes('gpc.purposes[0]') && e.includes('`marketin`')), log.consoleErrors.join('\n'));
  assert.deepEqual(hits(log, ALL_GATED), [], 'a broken config blocks every optional tag, even in an opt-out region');
  assert.equal(await banner(p2).count(), 0, 'and records nothing');
  await c2.close();
});

// 1. A country alone, as a CDN's country header gives it (`data-region="US"`), may be any of the country's
//    subdivisions, so the strictest rule anywhere in it applies. It used to get `regions.default` (notice):
//    a Californian with GPC had marketing on and the signal ignored.
// 2. A code that names no place (Cloudflare's `XX` for unknown) falls through to the timezone. It used to
//    count as a region, and the timezone was never read: the config's default applied.
// 3. A geo answer holds only in its own timezone. The loader used to trust it until the decision expired,
//    so a visitor who pressed OK in Japan (notice) had tags run in France without being asked.
test('a country alone gets the strictest rule in it, a placeholder code falls back to the timezone, and a geo answer holds only in its timezone', async () => {
  const us = await openPage(env, { initScript: GPC_ON });
  await load(us.page, `${env.base}/?region=US`);
  await banner(us.page).waitFor();
  assert.deepEqual(await firstLayer(us.page), ['Your privacy choices', 'OK'], 'US: the opt-out of its states');
  assert.equal(await us.page.evaluate(() => window.assent.consent().method), 'gpc', 'GPC applied');
  assert.deepEqual(hits(us.log, GATED.marketing), [], 'no marketing under GPC');
  await us.context.close();

  const xx = await openPage(env, { context: { timezoneId: 'Europe/Berlin' } });
  await load(xx.page, `${env.base}/?region=XX`);
  await banner(xx.page).waitFor();
  assert.deepEqual(await firstLayer(xx.page), ['Accept all', 'Reject all', 'Preferences'], 'XX in Berlin: opt-in from the timezone');
  assert.deepEqual(hits(xx.log, ALL_GATED), []);
  assert.deepEqual(xx.log.consoleWarnings.filter((w) => w.includes('XX')), [], 'an unknown country is not a mistake');
  await xx.context.close();

  // The geo endpoint answers by the visitor's whereabouts (here: by the timezone the test gives).
  // The same browser profile (cookie and localStorage) in another timezone.
  const travel = async (timezoneId, region, storageState) => {
    const t = await openPage(env, { context: { timezoneId, storageState } });
    await t.context.route('**/fixtures/geo', (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify({ region }) }));
    const wasm = [];
    t.page.on('request', (r) => r.url().endsWith('.wasm') && wasm.push(r.url()));
    await load(t.page, `${env.base}/?region=&config=/fixtures/geo.json`);
    return { ...t, wasm };
  };
  const jp = await travel('Asia/Tokyo', 'JP');
  await banner(jp.page).getByRole('button', { name: 'OK' }).click();
  await jp.page.waitForFunction(() => window.demoRuns.marketing === 1);
  await jp.page.waitForFunction(() => localStorage.getItem('assent.receipt') !== null);
  const profile = await jp.context.storageState();
  await jp.context.close();
  const home = await travel('Asia/Tokyo', 'JP', profile);
  assert.ok(hits(home.log, GATED.marketing).length > 0, 'at home the answer holds');
  assert.deepEqual(home.wasm, [], 'the loader alone, from the cookie');
  await home.context.close();
  const fr = await travel('Europe/Paris', 'FR', profile);
  await banner(fr.page).waitFor();
  assert.deepEqual(await firstLayer(fr.page), ['Accept all', 'Reject all', 'Preferences'], 'asked again in France');
  assert.deepEqual(hits(fr.log, ALL_GATED), [], 'nothing ran on the Japanese answer');
  await fr.context.close();
});
