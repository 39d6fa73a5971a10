// Issue 6: "Always allow X" on an embed's placeholder. One service is allowed from then on while its
// purpose stays refused: its embeds load (this view and later ones, without asking again), every other
// service of the purpose stays held, a signed receipt scoped to the service reaches the real collector
// (SQLite in a temp dir), whose gate answers for that scope, and the preferences dialog ends it in one
// click. Tracker hosts are routed to fixtures that record every request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, openPage, banner, prefsDialog, DEMO_CONFIG, freePort, startCollector, waitFor, quiet, receiptsAt, KEY, CLI, verifiedClaims } from './helpers.mjs';

const EN = JSON.parse(readFileSync(new URL('../../locales/en.json', import.meta.url), 'utf8'));
const CONTROLLER = JSON.parse(DEMO_CONFIG).controller;

// A page with a script-injected YouTube embed, a marked Vimeo embed (the database names its service)
// and the Meta pixel: three marketing services.
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script><title>embeds</title></head><body>
<div id="yt"></div>
<iframe id="vimeo" width="400" height="225" title="Vimeo video" data-category="marketing" data-src="https://player.vimeo.com/video/76979871"></iframe>
<script>var f = document.createElement('iframe'); f.width = 560; f.height = 315; f.title = 'YouTube video';
  f.src = 'https://www.youtube-nocookie.com/embed/xyz'; document.getElementById('yt').appendChild(f);
  var s = document.createElement('script'); s.async = true; s.src = 'https://connect.facebook.net/en_US/fbevents.js'; document.head.appendChild(s);</script>
</body></html>`;
const HOSTS = ['youtube-nocookie.com', 'vimeo.com', 'facebook.net', 'facebook.com'];

let env;
let port;
let collector;
before(async () => {
  port = await freePort();
  const db = join(mkdtempSync(join(tmpdir(), 'assent-always-')), 'receipts.sqlite');
  const ytOnly = PAGE.replace(/<iframe id="vimeo"[^>]*><\/iframe>/, '').replace(/var s = .*?document\.head\.appendChild\(s\);/, '');
  env = await setup({ '/fixtures/embeds.html': { body: PAGE, type: 'text/html' }, '/fixtures/yt-only.html': { body: ytOnly, type: 'text/html' } },
    { collector: `http://127.0.0.1:${port}`, collectorKey: KEY, cli: CLI, receiptsDb: db });
  collector = await startCollector(port, db, env.base);
});
after(async () => {
  collector.kill();
  await env.close();
});

/** The copy a service receipt's notice hash covers (docs/receipts.md), from locales/en.json. */
const serviceText = (on, service) => (on ? ['placeholder.message', 'placeholder.always'] : ['prefs.allowedTitle', 'prefs.allowedNote'])
  .map((k) => `${k}=${EN[k].replaceAll('{controller}', CONTROLLER).replaceAll('{service}', service)}`).join('\n');
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

async function claimsOf(subject, n) {
  const receipts = await receiptsAt(port, subject, n, `${n} receipts`);
  const out = [];
  for (const r of receipts) {
    out.push({ ...await verifiedClaims(r.jws), chain: r.chain });
  }
  return out;
}

test('"Always allow YouTube": that service alone loads, now and on later views, with a scoped receipt; the preferences end it in one click', async () => {
  const { context, page, log } = await openPage(env);
  const seen = [];
  await context.route((url) => HOSTS.some((h) => url.hostname === h || url.hostname.endsWith(`.${h}`)), (route) => {
    const url = new URL(route.request().url());
    seen.push(url.hostname + url.pathname);
    return route.fulfill({ status: 200, contentType: url.hostname.includes('facebook') ? 'text/javascript' : 'text/html', body: '' });
  });
  const count = (prefix) => seen.filter((s) => s.startsWith(prefix)).length;
  await page.goto(`${env.base}/fixtures/embeds.html`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await banner(page).waitFor({ state: 'detached' });

  // Each embed's placeholder offers its own service; both load nothing yet.
  const yt = page.frameLocator('#yt iframe');
  const vimeo = page.frameLocator('#vimeo');
  await vimeo.getByRole('button', { name: 'Always allow Vimeo' }).waitFor();
  const always = yt.getByRole('button', { name: 'Always allow YouTube' });
  await always.waitFor();
  assert.deepEqual(seen, [], 'nothing reached a tracker host before the choice');

  // Keyboard: the button is reachable and Enter chooses it.
  await always.focus();
  await page.keyboard.press('Enter');
  await waitFor(() => count('www.youtube-nocookie.com/embed/xyz') === 1, 'the YouTube embed to load');
  await quiet(log);
  assert.equal(count('player.vimeo.com'), 0, 'Vimeo, also marketing, stays held');
  assert.equal(count('connect.facebook.net'), 0, 'the Meta pixel, also marketing, stays held');
  assert.deepEqual(await page.evaluate(() => [
    window.assent.allowed('marketing'), window.assent.allowed('marketing', { service: 'YouTube' }), window.assent.allowed('marketing', { service: 'Vimeo' }),
  ]), [false, true, false]);
  const subject = (await page.evaluate(() => window.assent.consent())).subject;

  // The receipt: signed, scoped to the service, for its purpose only, hashing the placeholder's copy;
  // and the collector's gate answers for that scope.
  let claims = await claimsOf(subject, 2);
  const granted = claims[1];
  assert.deepEqual([granted.scope, granted.method, Object.keys(granted.purposes), granted.purposes.marketing.granted],
    ['service:YouTube', 'placeholder', ['marketing'], true]);
  assert.equal(granted.notice.sha256, sha256(serviceText(true, 'YouTube')), 'recomputed from locales/en.json');
  assert.deepEqual(claims.map((c) => c.chain), ['first', 'linked'], 'one chain per subject across scopes');
  const gate = async (scope) => (await fetch(`http://127.0.0.1:${port}/v1/subjects/${subject}/consent?purpose=marketing${scope ? `&scope=${scope}` : ''}`)).json();
  assert.deepEqual([(await gate('service:YouTube')).granted, (await gate('service:YouTube')).decidedIn], [true, 'service:YouTube']);
  assert.equal((await gate('service:Vimeo')).granted, false);
  assert.equal((await gate()).granted, false, 'the purpose itself stays refused');

  // A later view: YouTube loads without a placeholder or a question; the others stay held.
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  await waitFor(() => count('www.youtube-nocookie.com/embed/xyz') === 2, 'YouTube to load again');
  await vimeo.getByRole('button', { name: 'Always allow Vimeo' }).waitFor();
  assert.equal(await page.locator('#yt iframe').getAttribute('data-assent-placeholder'), null, 'no placeholder for YouTube');
  assert.equal(await banner(page).count(), 0, 'no banner');
  assert.equal(count('connect.facebook.net') + count('player.vimeo.com'), 0);

  // A page with only YouTube on it: the loader lets it through alone, and the wasm is never fetched.
  log.requests.length = 0;
  await page.goto(`${env.base}/fixtures/yt-only.html`);
  await waitFor(() => count('www.youtube-nocookie.com/embed/xyz') === 3, 'YouTube to load on a page of its own');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(log.requests.filter((r) => r.endsWith('.wasm')), [], 'decided by the loader alone');
  await page.goto(`${env.base}/fixtures/embeds.html`);
  await page.evaluate(() => window.assent.ready);

  // The preferences list it; "Stop allowing YouTube" ends it at once, and focus lands on the list's heading.
  await page.evaluate(() => window.assent.showPreferences());
  const dialog = prefsDialog(page);
  await dialog.getByRole('heading', { name: 'Services you always allow' }).waitFor();
  const stop = dialog.getByRole('button', { name: 'Stop allowing YouTube' });
  await stop.click();
  await stop.waitFor({ state: 'hidden' });
  assert.equal(await dialog.locator(':focus').textContent(), 'Services you always allow');
  assert.equal(await page.evaluate(() => window.assent.allowed('marketing', { service: 'YouTube' })), false);
  claims = await claimsOf(subject, 3);
  assert.deepEqual([claims[2].scope, claims[2].method, claims[2].purposes.marketing.granted], ['service:YouTube', 'preferences_saved', false]);
  assert.equal(claims[2].notice.sha256, sha256(serviceText(false, 'YouTube')));
  assert.equal((await gate('service:YouTube')).granted, false, 'the gate follows the end');
  await page.keyboard.press('Escape');

  // The next view asks again.
  await page.reload();
  await yt.getByRole('button', { name: 'Always allow YouTube' }).waitFor();
  assert.equal(count('www.youtube-nocookie.com'), 4, 'YouTube did not load again');

  // A frame the page marked itself (data-category/data-src, no data-service) is known by its URL:
  // "Always allow Vimeo" loads it. (The grant used to be recorded while nothing loaded.)
  await vimeo.getByRole('button', { name: 'Always allow Vimeo' }).click();
  await waitFor(() => count('player.vimeo.com/video/76979871') === 1, 'the marked Vimeo embed to load');
  await page.reload();
  await waitFor(() => count('player.vimeo.com/video/76979871') === 2, 'Vimeo to load on the next view, by the loader alone');
  assert.deepEqual(log.pageErrors, []);
  assert.deepEqual(log.consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});
