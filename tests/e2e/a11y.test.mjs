// Issue 7: languages, WCAG 2.2 AA accessibility (axe-core in headless Chromium), theming, and no layout
// shift. Every check looks at what a visitor's browser shows: computed styles, focus, the accessibility
// tree as axe reads it, and the layout-shift entries the browser records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setup, openPage, prefsDialog, waitFor, quiet, painted, DEMO_CONFIG } from './helpers.mjs';

/** The first layer, in any language. */
const banner = (p) => p.locator('#assent-ui .banner');

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const LOCALES = new URL('../../locales/', import.meta.url);
const locale = (code) => JSON.parse(readFileSync(new URL(`${code}.json`, LOCALES), 'utf8'));
const GPC_ON = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true });';

/** A page as a site would write it: landmarks, a title, the loader first in <head>. */
const page = ({ region = 'DE', lang = 'en', config = '/assent.json', body = '', head = '' } = {}) =>
  `<!doctype html><html${lang ? ` lang="${lang}"` : ''}><head><meta charset="utf-8"><title>Fixture shop</title>
<script src="/assent/assent.js" data-config="${config}" data-region="${region}"></script>${head}</head>
<body><header><nav aria-label="Site"><a href="/fixtures/x/top">Home</a> <a href="/fixtures/x/shop">Shop</a></nav></header>
<main><h1>Fixture shop</h1><p>Everything a shop page has.</p>${body}</main>
<footer><a href="/fixtures/x/imprint">Imprint</a></footer></body></html>`;

const config = (change) => { const c = JSON.parse(DEMO_CONFIG); change(c); return JSON.stringify(c); };
const EMBED = `<div id="video"></div><script>var f = document.createElement('iframe'); f.width = 480; f.height = 270;
  f.title = 'Product video'; f.src = 'https://www.youtube-nocookie.com/embed/xyz'; document.getElementById('video').appendChild(f);</script>`;
const LINKS = Array.from({ length: 40 }, (_, i) => `<p><a href="/fixtures/x/${i}">Link ${i}</a></p>`).join('');

let env;
before(async () => {
  const files = {
    '/fixtures/a/de.html': { type: 'text/html', body: page() },
    '/fixtures/a/ar.html': { type: 'text/html', body: page({ lang: 'ar' }) },
    '/fixtures/a/ca.html': { type: 'text/html', body: page({ region: 'US-CA' }) },
    '/fixtures/a/ca-es.html': { type: 'text/html', body: page({ region: 'US-CA', lang: 'es' }) },
    '/fixtures/a/nolang.html': { type: 'text/html', body: page({ lang: '' }) },
    '/fixtures/a/nolang-fr.html': { type: 'text/html', body: page({ lang: '', config: '/fixtures/a/fr.json' }) },
    '/fixtures/a/toggle.html': { type: 'text/html', body: page({ body: '<section aria-label="Chat"><assent-ai-toggle conversation="c-1"></assent-ai-toggle></section>' }) },
    '/fixtures/a/embed.html': { type: 'text/html', body: page({ body: EMBED }) },
    '/fixtures/a/embed-ar.html': { type: 'text/html', body: page({ lang: 'ar', body: EMBED }) },
    '/fixtures/a/toggle-ar.html': { type: 'text/html', body: page({ lang: 'ar', body: '<section aria-label="محادثة"><assent-ai-toggle conversation="c-1"></assent-ai-toggle></section>' }) },
    '/fixtures/a/long.html': { type: 'text/html', body: page({ body: LINKS }) },
    '/fixtures/a/short.html': { type: 'text/html', body: page({ body: '<p style="position:absolute;bottom:4px;left:20px;margin:0"><a href="/fixtures/x/bottom">At the very bottom</a></p>' }) },
    '/fixtures/a/box-short.html': { type: 'text/html', body: page({ config: '/fixtures/a/box.json', body: '<p style="position:absolute;bottom:4px;right:20px;margin:0"><a href="/fixtures/x/bottom">At the very bottom</a></p>' }) },
    '/fixtures/a/ca-short.html': { type: 'text/html', body: page({ region: 'US-CA', body: '<p style="position:absolute;bottom:2px;left:2px;margin:0"><a href="/fixtures/x/bottom">Bottom left</a></p>' }) },
    '/fixtures/a/hostile.html': { type: 'text/html', body: page({ head: '<style>* { all: unset !important; } button { display: none !important; } div { display: none !important; }</style>' }) },
    '/fixtures/a/themed.html': { type: 'text/html', body: page({ head: '<style>:root { --assent-button-bg: rgb(120, 20, 60); --assent-radius: 2px; --assent-font: Georgia, serif; }</style>' }) },
    '/fixtures/a/dark-config.html': { type: 'text/html', body: page({ config: '/fixtures/a/dark.json' }) },
    '/fixtures/a/box.html': { type: 'text/html', body: page({ lang: 'ar', config: '/fixtures/a/box.json' }) },
    '/fixtures/a/box-en.html': { type: 'text/html', body: page({ config: '/fixtures/a/box.json' }) },
    '/fixtures/a/modal.html': { type: 'text/html', body: page({ config: '/fixtures/a/modal.json', body: LINKS.slice(0, 200) }) },
    '/fixtures/a/ru-days.html': { type: 'text/html', body: page({ lang: 'ru', config: '/fixtures/a/days.json' }) },
    '/fixtures/a/fr.json': { body: config((c) => { c.language = 'fr'; }) },
    '/fixtures/a/dark.json': { body: config((c) => { c.theme = { scheme: 'dark' }; }) },
    '/fixtures/a/box.json': { body: config((c) => { c.theme = { position: 'box' }; }) },
    '/fixtures/a/modal.json': { body: config((c) => { c.theme = { position: 'modal' }; }) },
    '/fixtures/a/days.json': { body: config((c) => {
      c.purposes.find((p) => p.id === 'preferences').cookieDays = 1;
      c.purposes.find((p) => p.id === 'analytics').cookieDays = 3;
      c.purposes.find((p) => p.id === 'replay').cookieDays = 5;
    }) },
  };
  env = await setup(files);
});
after(() => env.close());

/** Opens a fixture and waits until Assent shows what it must. */
async function open(path, options = {}) {
  const opened = await openPage(env, options);
  await opened.context.route((url) => url.hostname.endsWith('youtube-nocookie.com'),
    (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="en"><title>video</title><p>video</p></html>' }));
  await opened.page.goto(env.base + path);
  await opened.page.evaluate(() => window.assent.ready);
  return opened;
}

/** axe-core over the whole document (open shadow roots included), or inside a frame. WCAG 2.0-2.2 A/AA and best practices. */
async function axe(target) {
  await target.evaluate(AXE);
  return target.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
  });
}

test('axe: zero violations in every flow, in light and dark, left to right and right to left', async () => {
  // The first layer's buttons by position (the same in every language): Accept all, Reject all, Preferences.
  const nth = (p, n) => p.locator('#assent-ui .banner .btn').nth(n);
  const flows = [
    ['opt-in banner', 'de', {}, async (p) => banner(p).or(nth(p, 0)).first().waitFor()],
    ['preferences dialog', 'de', {}, async (p) => { await nth(p, 2).click(); await p.locator('#assent-ui .dialog').waitFor(); }],
    ['opt-out notice', 'ca', {}, async (p) => nth(p, 0).waitFor()],
    ['GPC status', 'ca', { initScript: GPC_ON }, async (p) => p.locator('#assent-ui .status').first().waitFor()],
    ['AI toggle', 'toggle', {}, async (p) => { await nth(p, 1).click(); await p.getByRole('switch').first().waitFor(); }],
    ['embed placeholder', 'embed', {}, async (p) => { await nth(p, 1).click(); await p.frameLocator('#video iframe').getByRole('button').first().waitFor(); }],
  ];
  // Right to left: the page in Arabic. The opt-out flows are for California, in English there.
  const rtl = { de: 'ar', toggle: 'toggle-ar', embed: 'embed-ar' };
  const found = [];
  for (const [name, fixture, options, show] of flows) {
    for (const [variant, context] of [['light', { colorScheme: 'light' }], ['dark', { colorScheme: 'dark' }], ['rtl', { colorScheme: 'light' }]]) {
      const file = variant === 'rtl' ? rtl[fixture] : fixture;
      if (!file) continue;
      const { context: ctx, page: p } = await open(`/fixtures/a/${file}.html`, { ...options, context });
      try {
        await show(p);
      } catch (e) {
        throw new Error(`${name} (${variant}): ${e.message}`);
      }
      await painted(p);
      for (const v of await axe(p)) found.push(`${name} (${variant}): ${v}`);
      if (name === 'embed placeholder') {
        const frame = p.frames().find((f) => f !== p.mainFrame());
        await painted(frame);
        for (const v of await axe(frame)) found.push(`${name} (${variant}, inside the frame): ${v}`);
      }
      await ctx.close();
    }
  }
  assert.deepEqual(found, []);
});

test('the preferences dialog: modal and labelled, focus moves in, is trapped and comes back, Escape grants nothing, Space flips a switch', async () => {
  const { context, page: p } = await open('/fixtures/a/de.html');
  const opener = banner(p).getByRole('button', { name: 'Preferences' });
  await opener.focus();
  await p.keyboard.press('Enter');
  const dialog = prefsDialog(p);
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute('aria-modal'), 'true');
  assert.equal(await dialog.evaluate((d) => d.getRootNode().getElementById(d.getAttribute('aria-labelledby'))?.textContent), 'Privacy preferences');
  const active = () => p.evaluate(() => { const r = document.getElementById('assent-ui').shadowRoot; const a = r.activeElement; return a && (a.getAttribute('aria-label') || a.getAttribute('data-purpose') || a.textContent.trim()); });
  assert.equal(await dialog.evaluate((d) => d.getRootNode().activeElement === d), true, 'focus is in the dialog');
  // Tab walks every control and wraps; Shift+Tab wraps back.
  const seen = [];
  for (let i = 0; i < 14; i++) { await p.keyboard.press('Tab'); seen.push(await active()); }
  assert.ok(seen.includes('Close without saving') && seen.includes('Save choices') && seen.includes('analytics'), seen.join(' | '));
  assert.ok(seen.every((s) => s !== null), 'focus never leaves the dialog');
  await dialog.getByRole('button', { name: 'Close without saving' }).focus();
  await p.keyboard.press('Shift+Tab');
  assert.equal(await active(), 'Save choices', 'Shift+Tab from the first control goes to the last');
  // Space flips a switch, which is a labelled role=switch with aria-checked.
  const analytics = dialog.getByRole('switch', { name: 'Analytics' });
  await analytics.focus();
  await p.keyboard.press('Space');
  assert.equal(await analytics.getAttribute('aria-checked'), 'true');
  // Escape closes without granting anything; with no decision yet the banner is back, with focus on
  // the button that opened the dialog. (It used to leave no banner, and no way back.)
  await p.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await p.evaluate(() => window.assent.consent()), null, 'no decision');
  assert.equal(await p.evaluate(() => window.assent.allowed('analytics')), false);
  await banner(p).waitFor();
  assert.equal(await active(), 'Preferences', 'focus is back on "Preferences"');
  await context.close();
});

test('keyboard only: each flow completes with Tab, Shift+Tab, Enter, Space and Escape', async () => {
  // Opt-in: into the preferences, one purpose on, saved.
  let { context, page: p } = await open('/fixtures/a/de.html');
  await banner(p).waitFor();
  const focused = () => p.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.textContent);
  await p.keyboard.press('Tab'); // the privacy notice link, then the choices
  for (let i = 0; i < 6 && (await focused()) !== 'Preferences'; i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'Reject all', 'Shift+Tab goes back');
  await p.keyboard.press('Tab');
  await p.keyboard.press('Enter');
  await prefsDialog(p).waitFor();
  for (let i = 0; i < 12; i++) {
    await p.keyboard.press('Tab');
    if (await p.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.getAttribute('data-purpose')) === 'analytics') break;
  }
  await p.keyboard.press('Space');
  for (let i = 0; i < 12; i++) {
    await p.keyboard.press('Tab');
    if (await p.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.textContent) === 'Save choices') break;
  }
  await p.keyboard.press('Enter');
  await prefsDialog(p).waitFor({ state: 'detached' });
  assert.deepEqual(await p.evaluate(() => [window.assent.allowed('analytics'), window.assent.allowed('marketing')]), [true, false]);
  await context.close();

  // Opt-in: Reject all from the keyboard.
  ({ context, page: p } = await open('/fixtures/a/de.html'));
  await banner(p).waitFor();
  for (let i = 0; i < 6 && (await p.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.textContent)) !== 'Reject all'; i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Enter');
  await banner(p).waitFor({ state: 'detached' });
  assert.equal((await p.evaluate(() => window.assent.consent())).method, 'reject_all');
  await context.close();

  // Opt-out notice: OK; then the entry point opens the choices, and Escape gives focus back to it.
  ({ context, page: p } = await open('/fixtures/a/ca.html'));
  await banner(p).waitFor();
  for (let i = 0; i < 6 && (await p.evaluate(() => document.getElementById('assent-ui').shadowRoot.activeElement?.textContent)) !== 'OK'; i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Enter');
  await banner(p).waitFor({ state: 'detached' });
  const entry = p.getByRole('button', { name: 'Your Privacy Choices' });
  for (let i = 0; i < 8 && !(await entry.evaluate((e) => e.getRootNode().activeElement === e)); i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Enter');
  await prefsDialog(p).waitFor();
  await p.keyboard.press('Escape');
  await prefsDialog(p).waitFor({ state: 'detached' });
  assert.equal(await entry.evaluate((e) => e.getRootNode().activeElement === e), true, 'focus is back on the entry point');
  await context.close();

  // The AI toggle: reached with Tab, flipped with Space.
  ({ context, page: p } = await open('/fixtures/a/toggle.html'));
  await banner(p).getByRole('button', { name: 'Reject all' }).click();
  const sw = p.getByRole('switch', { name: /Use this conversation/ });
  for (let i = 0; i < 10 && !(await sw.evaluate((e) => e.getRootNode().activeElement === e)); i++) await p.keyboard.press('Tab');
  await p.keyboard.press('Space');
  await waitFor(async () => (await sw.getAttribute('aria-checked')) === 'true', 'the toggle to flip');
  await context.close();
});

test('equal prominence: "Accept all" and "Reject all" have the same size, weight and style', async () => {
  for (const viewport of [{ width: 1280, height: 800 }, { width: 375, height: 700 }]) {
    for (const path of ['/fixtures/a/de.html', '/fixtures/a/ar.html']) {
      const { context, page: p } = await open(path, { viewport });
      await banner(p).waitFor();
      const [accept, reject] = await p.locator('#assent-ui .banner .btn').evaluateAll((buttons) => buttons.slice(0, 2).map((b) => {
        const s = getComputedStyle(b);
        const r = b.getBoundingClientRect();
        return { width: Math.round(r.width), height: Math.round(r.height), ...Object.fromEntries(['font-size', 'font-weight', 'font-family', 'font-style', 'color',
          'background-color', 'border-top-width', 'border-top-color', 'border-top-style', 'border-radius', 'padding-top', 'padding-left', 'opacity', 'text-decoration-line', 'box-shadow']
          .map((k) => [k, s.getPropertyValue(k)])) };
      }));
      assert.deepEqual(accept, reject, `${path} at ${viewport.width}px`);
      await context.close();
    }
  }
});

test('no layout shift: showing, answering and reopening Assent, and a placeholder, shift nothing (CLS 0)', async () => {
  const observe = `window.shifts = []; window.clsObserver = new PerformanceObserver((l) => { window.shifts.push(...l.getEntries()); });
    window.clsObserver.observe({ type: 'layout-shift', buffered: true });`;
  // Every shift recorded so far, those not yet handed to the observer's callback included, and what moved.
  const cls = (p) => p.evaluate(() => {
    window.shifts.push(...window.clsObserver.takeRecords());
    const what = (n) => (n ? `${n.nodeName.toLowerCase()}${n.className ? `.${n.className}` : ''}` : 'a removed node');
    const moved = window.shifts.map((e) => `${e.value.toFixed(5)} at ${Math.round(e.startTime)} ms: ${e.sources
      .map((s) => `${what(s.node)} ${JSON.stringify(s.previousRect)} → ${JSON.stringify(s.currentRect)}`).join(', ')}`);
    return [window.shifts.reduce((sum, e) => sum + e.value, 0), moved.join('; ')];
  });
  for (const path of ['/fixtures/a/long.html', '/fixtures/a/embed.html', '/fixtures/a/ca.html']) {
    const { context, page: p, log } = await open(path, { initScript: observe });
    // The banner has settled: what showing it set going has landed (its strings, the preferences module
    // fetched once the banner is idle) and the page has been painted since.
    await banner(p).waitFor();
    await quiet(log);
    await painted(p);
    await p.evaluate(() => window.assent.showPreferences());
    await prefsDialog(p).waitFor();
    await p.keyboard.press('Escape');
    await p.evaluate(() => window.assent.rejectAll());
    // The banner is gone, whatever the decision set going has landed (the strings of the entry point, the
    // receipts module) and the page has been laid out and painted since: every shift has been recorded.
    await banner(p).waitFor({ state: 'detached' });
    await quiet(log);
    await painted(p);
    const [shift, moved] = await cls(p);
    assert.equal(shift, 0, `${path}: ${moved}`);
    await context.close();
  }
});

test('hostile page CSS (* { all: unset }, button { display: none }) still leaves a usable banner', async () => {
  const { context, page: p } = await open('/fixtures/a/hostile.html');
  const reject = banner(p).getByRole('button', { name: 'Reject all' });
  await reject.waitFor({ state: 'visible' });
  const box = await p.locator('#assent-ui .banner').boundingBox();
  assert.ok(box.height > 60 && box.width > 600, `the banner has its own box: ${JSON.stringify(box)}`);
  assert.equal(await reject.evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(31, 58, 95)', 'its own styles, not the page\'s');
  await reject.click();
  await banner(p).waitFor({ state: 'detached' });
  assert.equal((await p.evaluate(() => window.assent.consent())).method, 'reject_all');
  await context.close();
});

test('right to left: Arabic, Hebrew and Persian are shown with dir="rtl" and a mirrored layout', async () => {
  const { context, page: p } = await open('/fixtures/a/ar.html');
  await banner(p).waitFor();
  const root = p.locator('#assent-ui .root');
  assert.deepEqual([await root.getAttribute('dir'), await root.getAttribute('lang')], ['rtl', 'ar']);
  const ar = locale('ar');
  assert.equal(await banner(p).locator('h2').textContent(), ar['banner.title']);
  const [first, second] = await p.locator('#assent-ui .banner .btn').evaluateAll((b) => b.slice(0, 2).map((x) => x.getBoundingClientRect().x));
  assert.ok(first > second, 'the first choice sits on the right');
  const text = await p.locator('#assent-ui .banner-text').boundingBox();
  const actions = await p.locator('#assent-ui .banner .actions').boundingBox();
  assert.ok(text.x > actions.x, 'the text starts on the right, the buttons follow to its left');
  await p.locator('#assent-ui .banner .btn').nth(2).click(); // the preferences
  const knob = p.locator('#assent-ui .switch .knob').first();
  const sw = await p.locator('#assent-ui .switch').first().boundingBox();
  const k = await knob.boundingBox();
  assert.ok(k.x > sw.x + sw.width / 2, 'an off switch has its knob on the right');
  await context.close();
  for (const lang of ['he', 'fa']) {
    const { context: c2, page: q } = await open('/fixtures/a/nolang.html', { context: { locale: lang } });
    await banner(q).waitFor();
    assert.equal(await q.locator('#assent-ui .root').getAttribute('dir'), 'rtl', lang);
    await c2.close();
  }
});

test('language: the config\'s choice, then <html lang>, then the browser\'s languages; only that locale is downloaded (and the early guess, when the config forces another)', async () => {
  const cases = [
    ['/fixtures/a/nolang.html', 'ja-JP', 'ja'],
    ['/fixtures/a/nolang.html', 'zh-TW', 'zh-Hant'],
    ['/fixtures/a/nolang.html', 'pt-BR', 'pt-BR'],
    ['/fixtures/a/nolang.html', 'es-MX', 'es-419'],
    ['/fixtures/a/nolang.html', 'nb-NO', 'no'],
    ['/fixtures/a/nolang.html', 'xx-YY', 'en'],
    ['/fixtures/a/ar.html', 'ja-JP', 'ar'],
    // The config's own choice is known only once the config is in: the loader's early guess (from the
    // browser) costs one more request there, never the wrong language.
    ['/fixtures/a/nolang-fr.html', 'ja-JP', 'fr', ['ja', 'fr']],
  ];
  for (const [path, browserLocale, want, fetched = [want]] of cases) {
    const { context, page: p, log } = await open(path, { context: { locale: browserLocale } });
    await banner(p).waitFor();
    assert.equal(await banner(p).locator('h2').textContent(), locale(want)['banner.title'], `${path} with ${browserLocale}`);
    assert.deepEqual(log.requests.filter((r) => r.includes('/locales/')), fetched.map((l) => `/assent/locales/${l}.json`),
      `${path} with ${browserLocale}: the locale files fetched`);
    await context.close();
  }
});

test('California: "Opt-Out Request Honored" and "Your Privacy Choices" stay in English, with the visitor\'s translation next to them', async () => {
  const es = locale('es');
  const { context, page: p } = await open('/fixtures/a/ca-es.html', { initScript: GPC_ON });
  const status = banner(p).getByRole('status');
  await status.waitFor();
  assert.equal(await status.textContent(), `Opt-Out Request Honored (${es['gpc.honored']})`);
  assert.equal(await status.locator('[lang="en"]').textContent(), 'Opt-Out Request Honored', 'marked as English for screen readers');
  await p.evaluate(() => window.assent.rejectAll());
  const entry = p.locator('#assent-ui .entry');
  await entry.waitFor();
  assert.equal(await entry.textContent(), `Your Privacy Choices (${es['entry.privacyChoices']})`);
  await context.close();
  // In English, once; and outside California, translated alone.
  const en = await open('/fixtures/a/ca.html', { initScript: GPC_ON });
  assert.equal(await banner(en.page).getByRole('status').textContent(), 'Opt-Out Request Honored');
  await en.context.close();
});

test('plural forms: every locale covers exactly the browser\'s CLDR categories, and a count takes the right form', async () => {
  const { context, page: p } = await open('/fixtures/a/ru-days.html');
  const codes = readdirSync(LOCALES).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  assert.ok(codes.length >= 40, `${codes.length} locales`);
  for (const code of codes) {
    const message = locale(code)['prefs.cookieDays'];
    const written = [...message.matchAll(/(\w+) \{/g)].map((m) => m[1]).filter((c) => c !== 'plural').sort();
    const browser = await p.evaluate((c) => new Intl.PluralRules(c).resolvedOptions().pluralCategories.slice().sort(), code);
    assert.deepEqual(written, browser, `${code}: ${message}`);
  }
  // Russian: 1 день, 3 дня, 5 дней.
  await banner(p).locator('.btn').nth(2).click();
  const details = await p.locator('#assent-ui .purpose-details').allTextContents();
  const ru = locale('ru')['prefs.cookieDays'];
  const form = (cat, n) => new RegExp(`${cat} \\{([^}]*)\\}`).exec(ru)[1].replace('#', n);
  for (const [cat, n] of [['one', 1], ['few', 3], ['many', 5]]) {
    assert.ok(details.some((d) => d.includes(form(cat, n))), `${form(cat, n)} in ${details.join(' | ')}`);
  }
  await context.close();
});

test('200% zoom and a 320 px wide screen: nothing is cut off, every control can be reached', async () => {
  for (const viewport of [{ width: 320, height: 568 }, { width: 640, height: 400 }]) {
    for (const path of ['/fixtures/a/de.html', '/fixtures/a/ar.html']) {
      const { context, page: p } = await open(path, { viewport });
      await banner(p).waitFor();
      const check = async (selector, what) => {
        const overflow = await p.locator(selector).evaluate((el) => el.scrollWidth - el.clientWidth);
        assert.ok(overflow <= 0, `${what}: no horizontal overflow (${overflow}px) at ${viewport.width}x${viewport.height} ${path}`);
        for (const b of await p.locator(`${selector} button`).all()) {
          await b.scrollIntoViewIfNeeded();
          const hit = await b.evaluate((el) => { const r = el.getBoundingClientRect(); const at = el.getRootNode().elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); return at === el || el.contains(at); });
          assert.ok(hit, `${what}: ${await b.textContent()} can be reached at ${viewport.width}x${viewport.height} ${path}`);
        }
      };
      await check('#assent-ui .banner', 'banner');
      await p.locator('#assent-ui .banner .btn').nth(2).click();
      await check('#assent-ui .dialog', 'dialog');
      await context.close();
    }
  }
});

test('focus is never hidden under the banner (WCAG 2.4.11), on a long page and at the very bottom of a short one', async () => {
  for (const [path, width, what] of [['/fixtures/a/long.html', 800, '.banner'], ['/fixtures/a/short.html', 800, '.banner'],
    ['/fixtures/a/box-en.html', 800, '.banner'], ['/fixtures/a/box-short.html', 375, '.banner'], ['/fixtures/a/ca-short.html', 800, '.entry']]) {
    const { context, page: p } = await open(path, { viewport: { width, height: 500 } });
    if (what === '.entry') {
      await p.evaluate(() => window.assent.acceptAll());
      await p.locator('#assent-ui .entry').waitFor();
    } else await banner(p).waitFor();
    let checked = 0;
    for (let i = 0; i < 60; i++) {
      await p.keyboard.press('Tab');
      const state = await p.evaluate((what) => {
        const el = document.activeElement;
        if (!el || el.id === 'assent-ui' || el === document.body) return null;
        const b = document.getElementById('assent-ui').shadowRoot.querySelector(what).getBoundingClientRect();
        const r = el.getBoundingClientRect();
        const covered = r.bottom > b.top && r.top < b.bottom && r.right > b.left && r.left < b.right;
        return { text: el.textContent, covered, visible: r.top >= 0 && r.bottom <= innerHeight };
      }, what);
      if (!state) continue;
      checked++;
      assert.equal(state.covered, false, `${path}: "${state.text}" is hidden under the banner`);
      assert.equal(state.visible, true, `${path}: "${state.text}" is on screen`);
    }
    assert.ok(checked >= 3, `${path}: page elements were focused (${checked})`);
    await context.close();
  }
});

test('contrast: text 4.5:1 (axe), controls and focus rings 3:1; every target at least 24x24 px', async () => {
  const luminance = (rgb) => { const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((m, n) => n - m); return (x + 0.05) / (y + 0.05); };
  for (const colorScheme of ['light', 'dark']) {
    const { context, page: p } = await open('/fixtures/a/de.html', { context: { colorScheme } });
    await banner(p).waitFor();
    const bg = await p.locator('#assent-ui .banner').evaluate((e) => getComputedStyle(e).backgroundColor);
    const btn = p.locator('#assent-ui .banner .btn').first();
    assert.ok(ratio(await btn.evaluate((e) => getComputedStyle(e).backgroundColor), bg) >= 3, `${colorScheme}: button against the banner`);
    await p.keyboard.press('Tab');
    const ring = await p.evaluate(() => { const a = document.getElementById('assent-ui').shadowRoot.activeElement; const s = getComputedStyle(a); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; });
    assert.equal(ring[0], 'solid', `${colorScheme}: a visible focus ring`);
    assert.ok(parseFloat(ring[1]) >= 2, `${colorScheme}: ring width`);
    assert.ok(ratio(ring[2], bg) >= 3, `${colorScheme}: focus ring ${ring[2]} against ${bg}`);
    await p.locator('#assent-ui .banner .btn').nth(2).click();
    const dialogBg = await p.locator('#assent-ui .dialog').evaluate((e) => getComputedStyle(e).backgroundColor);
    const off = await p.locator('#assent-ui .switch[aria-checked="false"]').first().evaluate((e) => [getComputedStyle(e).borderTopColor, getComputedStyle(e.firstElementChild).backgroundColor]);
    assert.ok(ratio(off[0], dialogBg) >= 3 && ratio(off[1], dialogBg) >= 3, `${colorScheme}: an off switch is visible (${off} on ${dialogBg})`);
    const on = p.locator('#assent-ui .switch').first();
    await on.click();
    const onColors = await on.evaluate((e) => [getComputedStyle(e).backgroundColor, getComputedStyle(e.firstElementChild).backgroundColor]);
    assert.ok(ratio(onColors[0], dialogBg) >= 3 && ratio(onColors[1], onColors[0]) >= 3, `${colorScheme}: an on switch is visible (${onColors})`);
    const small = await p.locator('#assent-ui').evaluate((host) => [...host.shadowRoot.querySelectorAll('button, [role=switch]')]
      .map((e) => [e.textContent.trim() || e.getAttribute('aria-label') || e.className, e.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0 && (r.width < 24 || r.height < 24)).map(([n, r]) => `${n} ${r.width}x${r.height}`));
    assert.deepEqual(small, [], `${colorScheme}: targets of at least 24x24`);
    await context.close();
  }
});

test('prefers-reduced-motion: no transition or animation runs', async () => {
  for (const [reducedMotion, want] of [['reduce', '0s'], ['no-preference', '0.15s']]) {
    const { context, page: p } = await open('/fixtures/a/de.html', { context: { reducedMotion } });
    await p.evaluate(() => window.assent.showPreferences());
    await prefsDialog(p).waitFor();
    assert.equal(await p.locator('#assent-ui .switch .knob').first().evaluate((k) => getComputedStyle(k).transitionDuration), want, reducedMotion);
    await context.close();
  }
});

test('theming: custom properties reach the UI; dark by system setting or by config; bottom bar, corner box and centred modal', async () => {
  let { context, page: p } = await open('/fixtures/a/themed.html');
  await banner(p).waitFor();
  const style = await p.locator('#assent-ui .banner .btn').first().evaluate((b) => [getComputedStyle(b).backgroundColor, getComputedStyle(b).borderRadius, getComputedStyle(b).fontFamily]);
  assert.deepEqual(style, ['rgb(120, 20, 60)', '2px', 'Georgia, serif']);
  await context.close();

  const bannerBg = async (path, colorScheme) => {
    const o = await open(path, { context: { colorScheme } });
    await banner(o.page).waitFor();
    const bg = await o.page.locator('#assent-ui .banner').evaluate((e) => getComputedStyle(e).backgroundColor);
    await o.context.close();
    return bg;
  };
  assert.equal(await bannerBg('/fixtures/a/de.html', 'light'), 'rgb(255, 255, 255)');
  assert.equal(await bannerBg('/fixtures/a/de.html', 'dark'), 'rgb(30, 34, 40)', 'dark by the system setting');
  assert.equal(await bannerBg('/fixtures/a/dark-config.html', 'light'), 'rgb(30, 34, 40)', 'dark by config');

  // Corner box: at the bottom corner at the end of the reading direction (left in Arabic), not full width.
  for (const [path, side] of [['/fixtures/a/box-en.html', 'right'], ['/fixtures/a/box.html', 'left']]) {
    ({ context, page: p } = await open(path));
    await banner(p).waitFor();
    const b = await p.locator('#assent-ui .banner').boundingBox();
    assert.ok(b.width <= 420 && b.y + b.height <= 800 - 15, `a box: ${JSON.stringify(b)}`);
    assert.ok(side === 'right' ? b.x + b.width >= 1280 - 17 : b.x <= 17, `${side} corner: ${JSON.stringify(b)}`);
    await context.close();
  }

  // Centred modal: aria-modal, the page behind it cannot be reached, Tab stays inside.
  ({ context, page: p } = await open('/fixtures/a/modal.html'));
  await banner(p).waitFor();
  assert.equal(await banner(p).getAttribute('aria-modal'), 'true');
  await p.keyboard.press('Escape');
  // Escape has been handled, with whatever its handler set going, and the page painted since.
  await painted(p);
  assert.equal(await banner(p).isVisible(), true, 'a modal first layer must be answered: Escape does not dismiss it');
  const b = await p.locator('#assent-ui .banner').boundingBox();
  assert.ok(Math.abs(b.x + b.width / 2 - 640) < 2 && Math.abs(b.y + b.height / 2 - 400) < 2, `centred: ${JSON.stringify(b)}`);
  for (let i = 0; i < 8; i++) {
    await p.keyboard.press('Tab');
    assert.equal(await p.evaluate(() => document.activeElement.id), 'assent-ui', 'focus stays in the modal');
  }
  const blocked = await p.evaluate(() => { const a = document.querySelector('main a'); const r = a.getBoundingClientRect(); const at = document.elementFromPoint(r.x + 2, r.y + 2); return at === a; });
  assert.equal(blocked, false, 'the page behind the modal cannot be clicked');
  await context.close();
});
