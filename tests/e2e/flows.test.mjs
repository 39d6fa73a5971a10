// The region picks the flow (config rules), in their basic form: opt-out (US-CA), notice (JP), and the
// strictest flow when the region is unknown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, load, hits, banner, prefsDialog, receiptMade, GATED, ALL_GATED, WASM } from './helpers.mjs';

let env;
const page = (lang) => `<!doctype html><html${lang ? ` lang="${lang}"` : ''}><head><meta charset="utf-8">
<script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script><title>t</title></head><body><p>Page</p></body></html>`;
before(async () => {
  env = await setup({
    '/fixtures/lang-de.html': { body: page('de'), type: 'text/html' },
    '/fixtures/no-lang.html': { body: page(''), type: 'text/html' },
  });
});
after(() => env.close());

test('opt-out region: opt-out purposes run by default, sensitive ones do not, and objecting is one dialog away', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=US-CA`);
  const b = banner(page);
  await b.waitFor();
  assert.deepEqual(await b.getByRole('button').allInnerTexts(), ['Your privacy choices', 'OK']);
  await page.waitForFunction(() => window.demoRuns.analytics === 1 && window.demoRuns.marketing === 1);
  assert.equal(await page.evaluate(() => window.demoRuns.replay), undefined, 'replay is not opt-out: it stays off');
  assert.equal(await page.evaluate(() => window.assent.allowed('ai_training')), false);

  await b.getByRole('button', { name: 'Your privacy choices' }).click();
  const dialog = prefsDialog(page);
  await dialog.waitFor();
  const marketing = dialog.getByRole('switch', { name: 'Marketing' });
  assert.equal(await marketing.getAttribute('aria-checked'), 'true', 'the dialog shows the defaults in force');
  await marketing.click();
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => window.assent.consent().flow), 'optOut');
  await receiptMade(page);

  log.requests.length = 0;
  await load(page, `${env.base}/?region=US-CA`);
  assert.equal(await banner(page).count(), 0);
  assert.deepEqual(hits(log, GATED.marketing), [], 'the objection holds on the next load');
  assert.deepEqual(hits(log, GATED.analytics), ['/tags/analytics.js', '/tags/pixel.gif']);
  // The tags are decided by the loader alone; the wasm comes only after the page has loaded, to keep
  // the persistent "Your Privacy Choices" entry point on screen.
  const firstTag = log.requests.indexOf('/tags/analytics.js');
  const wasm = log.requests.indexOf(WASM);
  assert.ok(firstTag >= 0 && wasm > firstTag, `the wasm is fetched after the tags ran: ${log.requests.join(' ')}`);
  const entry = page.getByRole('button', { name: 'Your Privacy Choices' });
  await entry.waitFor();
  await entry.click();
  await prefsDialog(page).waitFor();
  assert.equal(await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).getAttribute('aria-checked'), 'false');
  await context.close();
});

test('notice region: information with Preferences and OK; OK keeps the defaults and the banner goes', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/?region=JP`);
  const b = banner(page);
  await b.waitFor();
  assert.deepEqual(await b.getByRole('button').allInnerTexts(), ['Preferences', 'OK']);
  await b.getByRole('button', { name: 'OK' }).click();
  await b.waitFor({ state: 'detached' });
  const consent = await page.evaluate(() => window.assent.consent());
  assert.equal(consent.method, 'acknowledged');
  assert.equal(consent.flow, 'notice');
  assert.equal(consent.purposes.replay, false);
  await context.close();
});

test('an unknown region gets the strictest configured flow (opt-in)', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=`);
  await banner(page).getByRole('button', { name: 'Reject all' }).waitFor();
  assert.deepEqual(hits(log, ALL_GATED), []);
  await context.close();
});

test('a notice acknowledged in an opt-out region is no consent in an opt-in region', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=US-CA`);
  await banner(page).getByRole('button', { name: 'OK' }).click();
  await banner(page).waitFor({ state: 'detached' });
  log.requests.length = 0;
  await load(page, `${env.base}/?region=FR`);
  await banner(page).getByRole('button', { name: 'Accept all' }).waitFor();
  assert.deepEqual(hits(log, ALL_GATED), [], 'nothing optional runs in France on the strength of a US notice');
  await context.close();
});

test('the page language, then the browser language, picks the locale; only that file is downloaded', async () => {
  const cases = [
    ['/fixtures/lang-de.html', 'en-US', 'Ihre Datenschutzeinstellungen', 'Alle akzeptieren', 'de'],
    ['/fixtures/no-lang.html', 'fr-FR', 'Vos choix en matière de confidentialité', 'Tout accepter', 'fr'],
    // A language Assent does not ship (isiXhosa): the config's first language.
    ['/fixtures/no-lang.html', 'xh-ZA', 'Your privacy choices', 'Accept all', 'en'],
  ];
  for (const [path, locale, title, accept, file] of cases) {
    const context = await env.browser.newContext({ locale });
    const page = await context.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
    await page.goto(env.base + path);
    const b = page.getByRole('dialog', { name: title });
    await b.waitFor();
    await b.getByRole('button', { name: accept }).waitFor();
    assert.equal(await page.evaluate(() => document.getElementById('assent-ui').shadowRoot.querySelector('.root').lang), file);
    assert.deepEqual(requests.filter((p) => p.startsWith('/assent/locales/')), [`/assent/locales/${file}.json`],
      `${path} with browser ${locale}`);
    await context.close();
  }
});
