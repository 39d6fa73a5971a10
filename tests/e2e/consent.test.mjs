// End-to-end behaviour of the one-script-tag integration in an opt-in region (Germany), asserted on
// the browser's own request log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, openPage, load, quiet, hits, banner, prefsDialog, decisionCookie, DEMO_CONFIG, GATED, ALL_GATED, 
} from './helpers.mjs';

const noticeV2 = DEMO_CONFIG.replace('"version": "2026-11-01"', '"version": "2026-12-01"');
assert.notEqual(noticeV2, DEMO_CONFIG);

let env;
before(async () => {
  env = await setup({ '/fixtures/notice-v2.json': { body: noticeV2 } });
});
after(() => env.close());

const DE = () => `${env.base}/?region=DE`;

test('opt-in: no gated request before a choice; the banner offers Accept all, Reject all and Preferences equally', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).waitFor();
  assert.deepEqual(hits(log, ALL_GATED), [], 'nothing gated was fetched');
  assert.equal(await page.evaluate(() => demoRuns.replay), undefined, 'the inline replay tag did not run');
  assert.equal(await page.evaluate(() => demoRuns.necessary), 1, 'the necessary tag ran once');
  const buttons = banner(page).getByRole('button');
  assert.deepEqual(await buttons.allInnerTexts(), ['Accept all', 'Reject all', 'Preferences']);
  const styles = await buttons.evaluateAll((els) => els.map((el) => {
    const s = getComputedStyle(el);
    return [s.backgroundColor, s.color, s.fontWeight, s.fontSize, s.borderStyle].join();
  }));
  assert.equal(new Set(styles).size, 1, `equal prominence: ${styles.join(' | ')}`);
  assert.equal(await decisionCookie(context), undefined);
  assert.deepEqual(log.pageErrors, []);
  await context.close();
});

test('Reject all, then reload: still no gated request and no banner', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await banner(page).waitFor({ state: 'detached' });
  const stored = await decisionCookie(context);
  assert.match(stored.value, /^3\|[0-9a-f]{32}\|2026-11-01\|\d+\|\d+\|necessary\|ai_training\.analytics\.marketing\.preferences\.replay\|[0-9a-f]{8}\|reject_all\|DE\|optIn\|r[0-9a-f]{32}\|1\|page\|0\|0\|ddddddg$/);
  assert.equal(stored.sameSite, 'Lax');
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  await page.waitForLoadState('networkidle');
  assert.equal(await banner(page).count(), 0, 'no banner for a returning visitor');
  assert.deepEqual(hits(log, ALL_GATED), []);
  assert.equal(await page.evaluate(() => window.assent.consent().method), 'reject_all');
  await context.close();
});

test('allowing only analytics loads the analytics tag exactly once and nothing else', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  const dialog = prefsDialog(page);
  await dialog.waitFor();
  const switches = dialog.getByRole('switch');
  assert.deepEqual(await switches.evaluateAll((els) => els.map((e) => e.getAttribute('aria-checked'))),
    ['false', 'false', 'false', 'false', 'false'], 'nothing is pre-ticked');
  await dialog.getByRole('switch', { name: 'Analytics' }).click();
  assert.equal(await dialog.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked'), 'true');
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction(() => window.demoRuns.analytics === 1);
  await page.evaluate(() => { window.assent.rescan(); window.assent.rescan(); });
  await quiet(log);
  assert.deepEqual(hits(log, GATED.analytics), ['/tags/analytics.js', '/tags/pixel.gif']);
  assert.deepEqual(hits(log, GATED.marketing), [], 'no marketing request');
  assert.deepEqual(await page.evaluate(() => window.demoRuns), { necessary: 1, analytics: 1, gtag: 1, pixel: 1 },
    'analytics ran once even after two rescans; replay and marketing did not run');
  assert.deepEqual(await page.evaluate(() => window.assent.consent().purposes), {
    necessary: true, preferences: false, analytics: true, replay: false, marketing: false, ai_training: false,
  });
  await context.close();
});

test('withdrawing a purpose stops its activation on the next load', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.demoRuns.analytics === 1 && window.demoRuns.marketing === 1);
  const changes = await page.evaluate(async () => {
    const seen = [];
    window.assent.on('change', (c) => seen.push(c.purposes.analytics));
    await window.assent.withdraw('analytics');
    return seen;
  });
  assert.deepEqual(changes, [false], 'on("change") reported the withdrawal');
  assert.equal(await page.evaluate(() => window.assent.consent().method), 'withdrawal');
  log.requests.length = 0;
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  await page.waitForLoadState('networkidle');
  assert.deepEqual(hits(log, GATED.analytics), [], 'analytics stays off after withdrawal');
  assert.deepEqual(hits(log, GATED.marketing), ['/tags/marketing.js', '/tags/embed.html']);
  assert.equal(await banner(page).count(), 0);
  await context.close();
});

test('bumping the notice version in config shows the banner again and blocks until answered', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.demoRuns.analytics === 1);
  log.requests.length = 0;
  await load(page, `${env.base}/?region=DE&config=/fixtures/notice-v2.json`);
  await banner(page).waitFor();
  assert.deepEqual(hits(log, ALL_GATED), [], 'the old consent does not cover the new notice');
  assert.equal(await page.evaluate(() => window.assent.consent()), null);
  await context.close();
});

// In an opt-out region an opt-out holds until the visitor opts back in, even while a new notice asks again.
// A new notice used to drop the decision whole, so what the visitor had opted out of ran again by default.
test('in an opt-out region, an opt-out holds while a new notice asks again', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, `${env.base}/?region=US-CA`);
  await banner(page).getByRole('button', { name: 'Your privacy choices' }).click();
  await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).click();
  await prefsDialog(page).getByRole('button', { name: 'Save choices' }).click();
  await prefsDialog(page).waitFor({ state: 'detached' });
  log.requests.length = 0;
  await load(page, `${env.base}/?region=US-CA&config=/fixtures/notice-v2.json`);
  await banner(page).waitFor();
  assert.deepEqual(hits(log, GATED.marketing), [], 'the opt-out still holds');
  assert.ok(hits(log, GATED.analytics).length > 0, 'what was not refused runs by default, as before');
  await banner(page).getByRole('button', { name: 'Your privacy choices' }).click();
  assert.equal(await prefsDialog(page).getByRole('switch', { name: 'Marketing' }).getAttribute('aria-checked'), 'false', 'and the dialog shows it');
  await context.close();
});

test('Escape closes the banner, records nothing and leaves everything blocked', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await banner(page).waitFor();
  const focused = await page.evaluate(() => document.activeElement.id);
  assert.equal(focused, 'assent-ui', 'focus moved into the banner');
  await page.keyboard.press('Escape');
  await banner(page).waitFor({ state: 'detached' });
  await quiet(log);
  assert.deepEqual(hits(log, ALL_GATED), []);
  assert.equal(await decisionCookie(context), undefined, 'no decision stored');
  assert.equal(await page.evaluate(() => window.assent.consent()), null);
  await page.reload();
  await banner(page).waitFor();
  await context.close();
});

test('the preferences dialog traps focus, closes on Escape without granting, and restores focus', async () => {
  const { context, page, log } = await openPage(env);
  await load(page, DE());
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Privacy preferences' }).focus();
  await page.keyboard.press('Enter');
  const dialog = prefsDialog(page);
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('aria-modal'), 'true');
  const inside = () => page.evaluate(() => {
    const root = document.getElementById('assent-ui').shadowRoot;
    return root.querySelector('[role=dialog]').contains(root.activeElement);
  });
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    assert.ok(await inside(), `Tab ${i + 1} stays inside the dialog`);
  }
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Shift+Tab');
    assert.ok(await inside(), 'Shift+Tab stays inside');
  }
  await dialog.getByRole('switch', { name: 'Marketing' }).focus();
  await page.keyboard.press('Space');
  assert.equal(await dialog.getByRole('switch', { name: 'Marketing' }).getAttribute('aria-checked'), 'true');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Privacy preferences',
    'focus returned to the button that opened the dialog');
  await quiet(log);
  assert.deepEqual(hits(log, ALL_GATED), [], 'the toggled switch was not saved');
  assert.equal(await decisionCookie(context), undefined);
  await context.close();
});

test('AI training is never granted by Accept all and is asked on its own switch', async () => {
  const { context, page } = await openPage(env);
  await load(page, DE());
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.waitForFunction(() => window.assent.consent() !== null);
  assert.equal(await page.evaluate(() => window.assent.allowed('ai_training')), false);
  await page.evaluate(() => window.assent.showPreferences());
  const dialog = prefsDialog(page);
  await dialog.getByRole('heading', { name: 'AI training' }).waitFor();
  const ai = dialog.getByRole('switch', { name: 'Train our support assistant on your conversations' });
  assert.equal(await ai.getAttribute('aria-checked'), 'false');
  await ai.click();
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(() => window.assent.allowed('ai_training')), true);
  await context.close();
});

// A tab takes in what another tab stored since. Each tab used to read the shared cookie once: a tab opened
// earlier kept stamping `do_not_train: false` after the visitor withdrew AI training in another tab, and its
// next choice (here withdrawing analytics) granted AI training again, with a receipt saying so.
test('a withdrawal in one tab holds in the tabs opened before it, with and without the wasm', async () => {
  const { context, page: a } = await openPage(env);
  const granted = async () => (await decisionCookie(context)).value.split('|')[5].split('.');
  await load(a, DE());
  await banner(a).getByRole('button', { name: 'Accept all' }).click();
  await a.evaluate(() => window.assent.set({ ai_training: true }));
  await a.waitForFunction(() => window.assent.consent().purposes.ai_training === true);
  assert.ok((await granted()).includes('ai_training'));

  const b = await context.newPage(); // the returning visit: the loader answers, no wasm
  const c = await context.newPage(); // the wasm started (the dialog was opened and closed)
  const bWasm = [];
  b.on('request', (r) => r.url().endsWith('.wasm') && bWasm.push(r.url()));
  for (const p of [b, c]) await load(p, DE());
  await c.evaluate(() => window.assent.showPreferences());
  await prefsDialog(c).waitFor();
  await c.keyboard.press('Escape');
  const stamp = (p) => p.evaluate(() => window.assent.stamp({}).assent.do_not_train);
  assert.deepEqual([await stamp(b), await stamp(c)], [false, false], 'both tabs start with the grant');

  await a.evaluate(() => window.assent.withdraw('ai_training'));
  await a.waitForFunction(() => window.assent.consent().purposes.ai_training === false);
  assert.deepEqual([await stamp(b), await stamp(c)], [true, true], 'the withdrawal holds in both earlier tabs');
  // A conversation's own grant that another tab stored since counts in the wasm tab's stamp too.
  const subject = (await decisionCookie(context)).value.split('|')[1];
  const line = `3|c-x|ai_training|1|${subject}|r${'3'.repeat(32)}|${Math.floor(Date.now() / 1000)}|${Math.floor(Date.now() / 1000) + 3600}|2026-11-01|ai_toggle`;
  // Chromium hands localStorage writes to other tabs asynchronously (CI once read C before A's write
  // reached it), so each step waits until the other tab holds what was written before asserting.
  const reaches = (p, value) => p.waitForFunction((v) => localStorage.getItem('assent.conversations') === v, value);
  await a.evaluate((l) => localStorage.setItem('assent.conversations', l), line);
  await reaches(c, line);
  assert.equal(await c.evaluate(() => window.assent.stamp({}, { conversation: 'c-x' }).assent.do_not_train), false);
  await a.evaluate(() => localStorage.removeItem('assent.conversations'));
  await reaches(b, null);
  assert.deepEqual(await b.evaluate(() => [window.assent.allowed('ai_training'), window.assent.allowed('analytics')]), [false, true]);
  assert.deepEqual(bWasm, [], 'the loader answered from the cookie alone');
  // Before the wasm loads (the loader's path), conversation ids match case-sensitively: only service names
  // match in any case, as in the core. They used to match in any case, so c-ABC took c-abc's newer grant.
  const exp = Math.floor(Date.now() / 1000) + 3600;
  await b.evaluate((exp) => localStorage.setItem('assent.conversations', [
    `2|c-ABC|ai_training|0|${'a'.repeat(32)}|r${'1'.repeat(32)}|1|${exp}|2026-11-01`,
    `2|c-abc|ai_training|1|${'a'.repeat(32)}|r${'2'.repeat(32)}|2|${exp}|2026-11-01`,
  ].join('\n')), exp);
  assert.deepEqual(await b.evaluate(() => ['c-ABC', 'c-abc'].map((c) => window.assent.stamp({}, { conversation: c }).assent.do_not_train)), [true, false]);
  assert.deepEqual(bWasm, []);
  await b.evaluate(() => localStorage.removeItem('assent.conversations'));
  await reaches(c, null);

  // The loader's tab tells Google tags the state it takes in (Consent Mode update), as on a returning visit.
  const analyticsStorage = () => b.evaluate(() => {
    window.assent.allowed('analytics');
    const updates = [...window.dataLayer].filter((e) => e[0] === 'consent' && e[1] === 'update');
    return updates[updates.length - 1][2].analytics_storage;
  });
  assert.equal(await analyticsStorage(), 'granted');
  await c.evaluate(() => window.assent.withdraw('analytics'));
  await c.waitForFunction(() => window.assent.consent().purposes.analytics === false);
  assert.equal(await analyticsStorage(), 'denied', 'tab B heard the withdrawal made in tab C');
  const now = await granted();
  assert.ok(!now.includes('ai_training'), `tab C must not grant AI training again: ${now}`);
  assert.ok(now.includes('marketing') && !now.includes('analytics'), `${now}`);
  await context.close();
});
