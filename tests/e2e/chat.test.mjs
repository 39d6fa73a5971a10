// Issue 4: the AI-training toggle in a chat widget, end to end. The demo chat page (a widget with its
// own shadow DOM and <assent-ai-toggle> in its header) in headless Chromium; receipts over real HTTP
// to the real collector binary (SQLite in a temp dir); stamped messages to the demo backend; and the
// real `assent filter` binary over the collector's database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, openPage, load, banner, DEMO_CONFIG, freePort, startCollector, waitFor, receiptsAt, KEY, CLI, verifiedClaims } from './helpers.mjs';

const EN = JSON.parse(readFileSync(new URL('../../locales/en.json', import.meta.url), 'utf8'));
const TOGGLE = /Use this conversation to improve our support assistant/;
const ADA = 'Use this conversation to improve Ada, our support assistant';

let env;
let port;
let collector;
before(async () => {
  port = await freePort();
  const db = join(mkdtempSync(join(tmpdir(), 'assent-chat-')), 'receipts.sqlite');
  const li = JSON.parse(DEMO_CONFIG);
  li.purposes.find((p) => p.id === 'ai_training').legitimateInterest = ['US'];
  const override = JSON.parse(DEMO_CONFIG);
  override.text = { 'toggle.label': ADA };
  env = await setup(
    {
      '/fixtures/li.json': { body: JSON.stringify(li) },
      '/fixtures/override.json': { body: JSON.stringify(override) },
      // A toggle without a conversation id, and one with an unusable id.
      '/fixtures/bad-toggle.html': {
        body: '<!doctype html><html lang="en"><head><script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script></head>' +
          '<body><assent-ai-toggle></assent-ai-toggle><assent-ai-toggle conversation="has space"></assent-ai-toggle></body></html>',
      },
      // The toggle placed straight in the page (light DOM), with the label overridden in config.
      '/fixtures/plain.html': {
        body: '<!doctype html><html lang="en"><head><script src="/assent/assent.js" data-config="/fixtures/override.json" data-region="DE"></script></head>' +
          '<body><p>Chat</p><assent-ai-toggle conversation="c-plain"></assent-ai-toggle></body></html>',
      },
      // A page with no toggle, embed or tag: the loader decides a returning visit alone.
      '/fixtures/article.html': {
        body: '<!doctype html><html lang="en"><head><script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script></head>' +
          '<body><p>An article</p></body></html>',
      },
      // A host page that embeds the widget page, with Assent loaded inside the frame.
      '/fixtures/frame.html': { body: '<!doctype html><title>host</title><iframe src="/chat.html?region=DE" width="600" height="500"></iframe>' },
    },
    { collector: `http://127.0.0.1:${port}`, collectorKey: KEY, cli: CLI, receiptsDb: db },
  );
  collector = await startCollector(port, db, env.base);
});
after(async () => {
  collector.kill();
  await env.close();
});

const toggle = (page) => page.getByRole('switch', { name: TOGGLE });
const checked = (page) => toggle(page).getAttribute('aria-checked');
/** The widget's composer lives in its shadow root; Playwright's locators pierce open roots. */
async function send(page, text) {
  await page.getByPlaceholder('Type a message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  return waitFor(async () => (await messages()).find((m) => m.text === text), `message "${text}" at the backend`);
}
async function messages() {
  return (await (await fetch(`${env.base}/demo/messages`)).json()).messages;
}
/** Receipt timestamps are whole seconds: steps that must be told apart wait for the next second. */
const nextSecond = () => new Promise((r) => setTimeout(r, 1100));
/** The toggle copy exactly as docs/chat-widgets.md defines it, written independently of the Rust code. */
const toggleText = (controller, overrides = {}) => ['toggle.label', 'toggle.description', 'toggle.learnMore']
  .map((k) => `${k}=${(overrides[k] ?? EN[k]).replaceAll('{controller}', controller)}`).join('\n');

test('"Accept all" leaves AI training off in the chat, and messages are stamped do_not_train', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/chat.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  assert.equal(await checked(page), 'false');
  const m = await send(page, 'hello after accept all');
  assert.equal(m.assent.do_not_train, true);
  // The same choice in the AIPREF vocabulary, on the record and as the request's Content-Usage header.
  assert.equal(m.assent.content_usage, 'train-ai=n');
  assert.deepEqual(m.received, { 'content-usage': 'train-ai=n' });
  assert.equal(m.assent.scope, 'conversation:c-A');
  assert.ok(m.assent.purposes.includes('analytics') && !m.assent.purposes.includes('ai_training'), JSON.stringify(m.assent));
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('on, then off, within one conversation: two receipts, the stamps flip at the right message, and assent filter keeps exactly those', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/chat.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  const before = await send(page, 'm1 before the toggle');
  await nextSecond();

  // Keyboard: Tab reaches the switch inside two shadow roots (widget, toggle), with a visible focus
  // ring; Space flips it.
  await page.getByRole('button', { name: 'Conversation B' }).focus();
  await page.keyboard.press('Tab');
  assert.equal(await toggle(page).evaluate((el) => el.matches(':focus-visible') && getComputedStyle(el).outlineStyle), 'solid');
  await page.keyboard.press('Space');
  await waitFor(async () => (await checked(page)) === 'true', 'the switch to show on');
  const during = await send(page, 'm2 while on');
  await nextSecond();
  await toggle(page).click(); // off again: one click
  await waitFor(async () => (await checked(page)) === 'false', 'the switch to show off');
  const after = await send(page, 'm3 after off');

  assert.deepEqual([before, during, after].map((m) => m.assent.do_not_train), [true, false, true], 'the stamp flips with the toggle, no reload');
  assert.deepEqual([before, during, after].map((m) => m.received['content-usage']), ['train-ai=n', 'train-ai=y', 'train-ai=n'],
    'the Content-Usage header flips with it');
  assert.notEqual(during.assent.receipt, after.assent.receipt, 'each message names the receipt in force');

  // The receipts: both events, scoped to the conversation, verified by jose, with the toggle copy hash.
  const subject = (await page.evaluate(() => window.assent.consent())).subject;
  const receipts = await receiptsAt(port, subject, 3, 'three receipts');
  const claims = [];
  for (const r of receipts) {
    claims.push(await verifiedClaims(r.jws));
  }
  const toggles = claims.filter((c) => c.method === 'ai_toggle');
  assert.deepEqual(toggles.map((c) => [c.scope, c.purposes.ai_training.granted, c.id]),
    [['conversation:c-A', true, during.assent.receipt], ['conversation:c-A', false, after.assent.receipt]]);
  assert.deepEqual(Object.keys(toggles[0].purposes), ['ai_training'], 'a toggle receipt speaks for AI training only');
  const sha = createHash('sha256').update(toggleText(JSON.parse(DEMO_CONFIG).controller)).digest('hex');
  assert.equal(toggles[0].notice.sha256, sha, 'the hash of the toggle copy, recomputed from locales/en.json');
  assert.deepEqual(receipts.map((r) => r.chain), ['first', 'linked', 'linked'], 'one chain per subject across scopes');

  // The collector's gate answers for the conversation scope.
  const gate = async (at) => (await fetch(`http://127.0.0.1:${port}/v1/subjects/${subject}/consent?purpose=ai_training&scope=conversation:c-A&at=${Math.floor(at / 1000)}`)).json();
  assert.equal((await gate(during.timestamp)).granted, true);
  assert.equal((await gate(after.timestamp)).granted, false);

  // The demo's export runs the real `assent filter` binary over the collector's database.
  await page.getByRole('button', { name: 'Run assent filter' }).click();
  await waitFor(async () => (await page.locator('#training-summary').textContent()).includes('kept'), 'the filter summary');
  const kept = await page.locator('#training-set').textContent();
  assert.equal(kept, 'c-A: m2 while on', 'only the message sent while the toggle was on');
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('scope isolation, reload and an iframe: conversation B is unaffected, and A\'s choice is restored after a reload', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/chat.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await page.evaluate(() => document.addEventListener('assent:change', (e) => {
    if (e.detail?.conversation) window.heard = e.detail;
  }));
  await toggle(page).click();
  const detail = await waitFor(() => page.evaluate(() => window.heard), 'assent:change at the document');
  assert.deepEqual([detail.conversation, detail.on, detail.do_not_train], ['c-A', true, false], 'assent:change leaves the shadow roots');

  await page.getByRole('button', { name: 'Conversation B' }).click();
  await waitFor(async () => (await checked(page)) === 'false', 'B to show its own (site-wide) state');
  const inB = await send(page, 'in B');
  assert.equal(inB.assent.do_not_train, true, 'B is unaffected by A');
  assert.deepEqual(await page.evaluate(() => [
    window.assent.allowed('ai_training', { conversation: 'c-A' }),
    window.assent.allowed('ai_training', { conversation: 'c-B' }),
    window.assent.allowed('ai_training'),
  ]), [true, false, false]);

  await page.reload();
  await page.evaluate(() => window.assent.ready);
  assert.equal(await page.evaluate(() => window.assent.allowed('ai_training', { conversation: 'c-A' })), true, 'restored');
  await waitFor(async () => (await checked(page)) === 'true', 'A\'s toggle to show on after the reload');
  assert.equal((await send(page, 'after reload')).assent.do_not_train, false);

  // The same widget inside an iframe that loads Assent itself (same origin here: same stored choices;
  // a cross-site frame gets partitioned storage and so its own choices, see docs/chat-widgets.md).
  const frame = await context.newPage();
  await frame.goto(`${env.base}/fixtures/frame.html`);
  const inner = frame.frameLocator('iframe');
  const frameToggle = inner.getByRole('switch', { name: TOGGLE });
  await waitFor(async () => (await frameToggle.getAttribute('aria-checked').catch(() => null)) === 'true', 'the toggle in the iframe');
  await inner.getByRole('button', { name: 'Conversation B' }).click();
  await frameToggle.click();
  await waitFor(async () => (await frameToggle.getAttribute('aria-checked')) === 'true', 'B on inside the iframe');
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('legitimate interest: the toggle starts on with the objection text, counts only once shown, and objecting is one click', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/chat.html?region=US-CA&config=/fixtures/li.json`);
  await waitFor(async () => (await checked(page)) === 'true', 'on by default under legitimate interest');
  const text = await page.locator('demo-chat').evaluate((el) => el.shadowRoot.querySelector('assent-ai-toggle').shadowRoot.textContent);
  assert.ok(text.includes('legitimate interest') && text.includes('Turn this off to object'), text);
  assert.equal((await send(page, 'li on')).assent.do_not_train, false, 'the objection was on screen before the message');
  await toggle(page).click();
  await waitFor(async () => (await checked(page)) === 'false', 'objected');
  assert.equal((await send(page, 'li objected')).assent.do_not_train, true);
  // Without the toggle on screen, nothing unanswered counts.
  assert.equal(await page.evaluate(() => window.assent.stamp({}, { conversation: 'never-shown' }).assent.do_not_train), true);
  await context.close();
});

test('in the page\'s light DOM, with the label overridden in config: the receipt hashes the copy actually shown', async () => {
  const { context, page, log } = await openPage(env);
  await page.goto(`${env.base}/fixtures/plain.html`);
  const plain = page.getByRole('switch', { name: ADA });
  await plain.waitFor();
  assert.equal(await plain.getAttribute('aria-checked'), 'false');
  await plain.click();
  await waitFor(async () => (await plain.getAttribute('aria-checked')) === 'true', 'on');
  // The subject id is field 4 of the stored conversation line (docs/stored-decision.md).
  const subject = await page.evaluate(() => localStorage.getItem('assent.conversations').split('|')[4]);
  const [receipt] = await receiptsAt(port, subject, 1, 'the toggle receipt');
  const claims = await verifiedClaims(receipt.jws);
  const sha = createHash('sha256').update(toggleText(JSON.parse(DEMO_CONFIG).controller, { 'toggle.label': ADA })).digest('hex');
  assert.equal(claims.notice.sha256, sha);
  assert.equal(claims.scope, 'conversation:c-plain');
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('bad input: a toggle without a usable conversation id is reported, renders nothing, and its data stays do_not_train', async () => {
  const { context, page, log } = await openPage(env);
  await page.goto(`${env.base}/fixtures/bad-toggle.html`);
  await page.evaluate(() => window.assent.ready);
  await waitFor(() => log.consoleErrors.length >= 2, 'two console errors');
  assert.ok(log.consoleErrors.some((e) => e.includes('conversation ``') && e.includes('1 to 64 characters')), log.consoleErrors.join('\n'));
  assert.ok(log.consoleErrors.some((e) => e.includes('conversation `has space`')), log.consoleErrors.join('\n'));
  assert.equal(await page.getByRole('switch').count(), 0, 'nothing rendered');
  assert.equal(await page.evaluate(() => window.assent.stamp({}, { conversation: 'has space' }).assent.do_not_train), true);
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

// A conversation choice whose page went away before its receipt was signed is made on the next page view,
// even one without a toggle. It used to be made only when a later page loaded the wasm for something else:
// the loader decided every page without a toggle alone (it checked the site-wide receipt only), so the
// collector's gate went on answering the withdrawn grant.
test('a choice whose page went away before its receipt is made on the next page view, even without a toggle', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/chat.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  const subject = await page.evaluate(() => window.assent.consent().subject);
  await toggle(page).click();
  await receiptsAt(port, subject, 2, 'the decision and the grant');
  // Signing now takes 3 s, and the visitor leaves for a page with no toggle at once.
  await page.evaluate(() => {
    const sign = crypto.subtle.sign.bind(crypto.subtle);
    crypto.subtle.sign = async (...args) => { await new Promise((r) => setTimeout(r, 3000)); return sign(...args); };
  });
  await toggle(page).click();
  await waitFor(async () => (await checked(page)) === 'false', 'the toggle off');
  log.requests.length = 0;
  await page.goto(`${env.base}/fixtures/article.html`);
  const all = await receiptsAt(port, subject, 3, 'the withdrawal\'s receipt');
  const last = await verifiedClaims(all[2].jws);
  assert.deepEqual([last.scope, last.purposes.ai_training.granted, last.method], ['conversation:c-A', false, 'ai_toggle']);
  assert.equal(all[2].chain, 'linked');
  assert.ok(log.requests.includes('/assent/assent_client_bg.wasm'), 'the loader started the wasm to make it');
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  log.requests.length = 0;
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  await page.waitForLoadState('networkidle');
  assert.ok(!log.requests.includes('/assent/assent_client_bg.wasm'), 'and once it is made, the loader decides alone again');
  await context.close();
});
