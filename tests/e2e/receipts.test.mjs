// Signed receipts end to end: made in headless Chromium, posted over real HTTP to the real
// assent-collector binary (SQLite in a temp dir), and verified by the npm `jose` library, not by our code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { setup, openPage, load, banner, receiptMade, DEMO_CONFIG, freePort, startCollector, exported, waitFor, receiptsAt, KEY, verifiedClaims, track, quiet } from './helpers.mjs';

const EN = JSON.parse(readFileSync(new URL('../../locales/en.json', import.meta.url), 'utf8'));

/** The notice text exactly as docs/receipts.md defines it, written independently of the Rust code. */
function noticeText(config, flow) {
  const body = { optIn: 'banner.body', optOut: 'banner.optOutBody', notice: 'banner.noticeBody' }[flow];
  const keys = ['banner.title', body, 'prefs.title', 'prefs.intro', 'prefs.separateTitle', 'prefs.separateNote', 'prefs.withdrawNote'];
  for (const p of config.purposes) keys.push(`purpose.${p.id}.name`, `purpose.${p.id}.description`);
  return keys.map((k) => `${k}=${(config.text?.[k] || EN[k]).replaceAll('{controller}', config.controller)}`).join('\n');
}

let env;
let port;
let port2;
let configPath;
const twoPath = '/fixtures/two-endpoints.json';
const dir = mkdtempSync(join(tmpdir(), 'assent-receipts-'));
before(async () => {
  port = await freePort();
  port2 = await freePort();
  const config = JSON.parse(DEMO_CONFIG);
  config.receipts = { endpoints: [`http://127.0.0.1:${port}/v1/receipts`] };
  // `{controller}` in a key the first layer shows without a placeholder of its own.
  config.text = { ...config.text, 'banner.title': 'Your privacy choices at {controller}' };
  configPath = '/fixtures/receipts.json';
  const two = { ...config, receipts: { endpoints: [`http://127.0.0.1:${port}/v1/receipts`, `http://127.0.0.1:${port2}/v1/receipts`] } };
  env = await setup({ [configPath]: { body: JSON.stringify(config, null, 2) }, [twoPath]: { body: JSON.stringify(two) } });
});
after(() => env.close());

test('receipts made in Chromium verify with jose, carry the notice hash, and chain per subject', async () => {
  const collector = await startCollector(port, join(dir, 'a.sqlite'), env.base);
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    // The banner names the controller, as the receipt's hash does. (It used to show "{controller}".)
    await page.getByRole('dialog', { name: 'Your privacy choices at Demo Shop Ltd' }).waitFor();
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    const consent = await page.evaluate(() => window.assent.consent());
    const [first] = await receiptsAt(port, consent.subject, 1, 'the first receipt');

    // Independent verification: the public key travels in the protected header.
    const header = decodeProtectedHeader(first.jws);
    assert.equal(header.alg, 'EdDSA', 'Chromium has WebCrypto Ed25519');
    assert.equal(header.jwk.crv, 'Ed25519');
    const claims = await verifiedClaims(first.jws);
    assert.equal(claims.id, consent.receipt, 'the receipt id is the one the cookie and assent.consent() name');
    assert.equal(claims.sub, consent.subject);
    assert.equal(claims.method, 'accept_all');
    assert.equal(claims.region, 'DE');
    assert.equal(claims.origin, env.base);
    assert.equal(claims.prev, null);
    assert.deepEqual(claims.purposes.ai_training, { dataCategories: ['chat transcripts'], granted: false });
    assert.equal(claims.purposes.analytics.granted, true);
    const config = JSON.parse(await (await fetch(env.base + configPath)).text());
    assert.equal(claims.notice.sha256, createHash('sha256').update(noticeText(config, 'optIn')).digest('hex'),
      'the notice hash is recomputed from locales/en.json by the documented rule');
    assert.equal(first.chain, 'first');

    // The key is not extractable from the page.
    const extractable = await page.evaluate(() => new Promise((resolve) => {
      indexedDB.open('assent').onsuccess = (e) => {
        e.target.result.transaction('keys').objectStore('keys').get('browser').onsuccess = (g) => resolve(g.target.result.privateKey.extractable);
      };
    }));
    assert.equal(extractable, false);

    // A withdrawal is a new receipt that links to the first.
    await page.evaluate(() => window.assent.withdraw('analytics'));
    const all = await receiptsAt(port, consent.subject, 2, 'the second receipt');
    const second = await verifiedClaims(all[1].jws);
    assert.equal(second.method, 'withdrawal');
    assert.equal(second.prev, createHash('sha256').update(all[0].jws).digest('hex'));
    assert.equal(all[1].chain, 'linked');

    // The collector's acknowledgment is kept in the browser.
    const ack = await page.evaluate(async (id) => {
      const m = await import('/assent/assent-receipts.js');
      for (let i = 0; i < 50; i++) {
        const a = await m.ack(id);
        if (a) return a;
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    }, second.id);
    assert.equal(ack.ack, all[1].ack);

    // stamp() puts the consent facts on outgoing data.
    const stamped = await page.evaluate(() => window.assent.stamp({ text: 'hello' }));
    assert.deepEqual(stamped, {
      text: 'hello',
      assent: {
        receipt: second.id, purposes: ['necessary', 'preferences', 'replay', 'marketing'], do_not_train: true,
        content_usage: 'train-ai=n',
      },
    });
    await context.close();
  } finally {
    collector.kill();
  }
});

test('the outbox survives reloads while the collector is down, then delivers every receipt exactly once', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/?region=DE&config=${configPath}`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  const subject = await page.evaluate(() => window.assent.consent().subject);
  await page.waitForFunction(() => localStorage.getItem('assent.outbox') === '1');
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  await page.evaluate(() => window.assent.set({ analytics: true }));
  // Navigate away at once: the second receipt may not be stored yet. The next page view makes it.
  await page.reload();
  await page.evaluate(() => window.assent.ready);
  // Nothing has been delivered: the collector is not running.
  const collector = await startCollector(port, join(dir, 'b.sqlite'), env.base);
  try {
    await page.reload(); // a new page view flushes the outbox without loading the wasm
    const receipts = await waitFor(async () => { const r = await exported(port, subject); return r.length >= 2 && r; }, 'both receipts');
    await page.reload();
    await page.waitForFunction(() => localStorage.getItem('assent.outbox') === null);
    const again = await exported(port, subject);
    assert.equal(again.length, 2, 'exactly once: no duplicate rows after more reloads');
    assert.deepEqual(again.map((r) => r.chain), ['first', 'linked'], 'delivered in chain order');
    assert.equal(new Set(receipts.map((r) => r.id)).size, 2);
  } finally {
    collector.kill();
    await context.close();
  }
});

/** Waits until this page's delivery run has recorded what became of the latest receipt: gone from the
 * outbox (delivered, or refused for good) or kept there with a next try for each endpoint it did not reach. */
function deliveryRecorded(page) {
  return waitFor(() => page.evaluate(async () => {
    const id = window.assent.consent().receipt;
    const items = await new Promise((resolve, reject) => {
      const open = indexedDB.open('assent');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const all = db.transaction('outbox').objectStore('outbox').getAll();
        all.onsuccess = () => { db.close(); resolve(all.result); };
        all.onerror = () => { db.close(); reject(all.error); };
      };
    });
    const item = items.find((i) => i.id === id);
    return !item || item.endpoints.every((u) => item.delivered.includes(u) || item.retry?.[u]?.attempts > 0);
  }), 'the delivery run to record what became of the latest receipt');
}

// The outbox keeps a receipt the collector refused only for now and delivers it later: a fast device clock
// (425), a collector that does not list the site yet (403), an HTML page answered with 200 (a single-page
// app's fallback route) and a 4xx that is no collector's refusal (an ingress's 404 page during a deploy).
// Each of them used to lose the receipt for good.
test('receipts refused for now are kept and delivered later, each exactly once', async () => {
  const collector = await startCollector(port, join(dir, 'later.sqlite'), env.base);
  const { context, page } = await openPage(env);
  try {
    const answers = [
      { status: 425, headers: { 'retry-after': '1' }, contentType: 'application/json', body: '{"error":"receipt issued in the future"}' },
      { status: 200, contentType: 'text/html', body: '<!doctype html><p>app shell</p>' },
      { status: 403, contentType: 'application/json', body: '{"error":"forbidden: origin"}' },
      { status: 404, contentType: 'text/html', body: '<html><body>default backend - 404</body></html>' },
      // A collector's refusal is a verdict: that receipt is dropped, and the next one is a gap.
      { status: 400, contentType: 'application/json', body: '{"error":"made-up refusal"}' },
    ];
    // Each new receipt gets the next answer once; its retries go through to the real collector.
    const seen = new Set();
    await context.route((url) => url.port === String(port) && url.pathname === '/v1/receipts', (route) => {
      const jws = route.request().postData();
      const answer = !seen.has(jws) && !jws.startsWith('{') && answers.shift(); // not a pagehide beacon's batch
      seen.add(jws);
      if (!answer) return route.continue();
      return route.fulfill({ ...answer, headers: { ...answer.headers, 'access-control-allow-origin': env.base, 'access-control-expose-headers': 'retry-after' } });
    });
    const logged = [];
    page.on('console', (m) => { if (m.type() === 'error') logged.push(m.text()); if (process.env.DEBUG_RECEIPTS) console.log('page:', m.type(), m.text()); });
    if (process.env.DEBUG_RECEIPTS) context.on('request', (r) => console.log('req', r.method(), r.url()));
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    await receiptsAt(port, subject, 1, 'the receipt answered 425, after its Retry-After');
    const steps = [{ analytics: true }, { analytics: false }, { marketing: true }, { marketing: false }, { analytics: true }];
    for (const [i, choice] of steps.entries()) {
      const before = logged.length;
      await page.evaluate((c) => window.assent.set(c), choice);
      await receiptMade(page);
      // Each answer but the last step's is logged; the refused one has left the outbox before the
      // reload (its pagehide beacon would otherwise carry it past the route to the real collector).
      if (i < steps.length - 1) await waitFor(() => logged.length > before, `the answer to receipt ${i + 2} to be logged`);
      if (i === 3) await page.waitForFunction(() => localStorage.getItem('assent.outbox') === null);
      await deliveryRecorded(page);
      await page.reload(); // a new page view sends what the outbox kept at once
      await page.evaluate(() => window.assent.ready);
    }
    const all = await receiptsAt(port, subject, 5, 'every receipt but the refused one');
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked', 'linked', 'linked', 'gap'], 'each once, in chain order');
    assert.ok(logged.some((l) => /refused receipt .* \(400\): made-up refusal/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /with 404 but no collector's reason .*kept to retry/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /with an HTML page, not a collector's answer/.test(l)), logged.join('\n'));
    assert.ok(logged.some((l) => /\(403\), kept to retry/.test(l)), logged.join('\n'));
  } finally {
    collector.kill();
    await context.close();
  }
});

// The outbox is sent in the order receipts were made, whatever the device clock says. It used to follow the
// clock, so a clock stepped back between two receipts sent the later one first; the collector flagged both
// as gaps, and the gate took the earlier decision (the last to arrive) as the visitor's latest.
test('the outbox is sent in the order receipts were made, even after the clock was stepped back', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/?region=DE&config=${configPath}`);
  await banner(page).getByRole('button', { name: 'Accept all' }).click(); // the collector is not running yet
  await receiptMade(page);
  const subject = await page.evaluate(() => window.assent.consent().subject);
  await page.evaluate(() => { const now = Date.now; Date.now = () => now() - 240000; });
  await page.evaluate(() => window.assent.set({ analytics: false }));
  await receiptMade(page);
  await page.waitForFunction(() => localStorage.getItem('assent.outbox') === '1');
  const collector = await startCollector(port, join(dir, 'order.sqlite'), env.base);
  try {
    await page.reload();
    const all = await receiptsAt(port, subject, 2, 'both receipts');
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked']);
  } finally {
    collector.kill();
    await context.close();
  }
});

// Reading the chain head and advancing it are one step across tabs. They used to be separate, so two tabs
// deciding at the same moment both chained onto the same receipt; the collector refused the second as a
// fork (409) and the outbox dropped it, leaving a real decision with no evidence.
test('two tabs deciding at the same moment make one linked chain: nothing is refused as a fork', async () => {
  const collector = await startCollector(port, join(dir, 'tabs.sqlite'), env.base);
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    await receiptsAt(port, subject, 1, 'the first receipt');
    const other = await context.newPage();
    const refused = [];
    for (const p of [page, other]) p.on('console', (m) => { if (/refused receipt/.test(m.text())) refused.push(m.text()); });
    await load(other, `${env.base}/?region=DE&config=${configPath}`);
    // The first tab signs slowly (700 ms), so the second decides while the first is between reading
    // the head and advancing it: the race, every time.
    await page.evaluate(() => {
      const sign = crypto.subtle.sign.bind(crypto.subtle);
      crypto.subtle.sign = async (...args) => { window.signing = true; await new Promise((r) => setTimeout(r, 700)); return sign(...args); };
    });
    const first = page.evaluate(() => window.assent.set({ analytics: false }));
    // The first tab has read the head and is signing.
    await page.waitForFunction(() => window.signing === true);
    await Promise.all([first, other.evaluate(() => window.assent.set({ marketing: false }))]);
    const all = await receiptsAt(port, subject, 3, 'both new receipts');
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked', 'linked'], 'one chain, no fork and no gap');
    assert.deepEqual(refused, []);
    await context.close();
  } finally {
    collector.kill();
  }
});

test('the demo, with the collector behind it, shows the visitor their verified receipts', async () => {
  const demo = await setup({}, { collector: `http://127.0.0.1:${port}`, collectorKey: KEY });
  // The demo's pages are the origin its receipts claim, so that is the site the collector serves.
  const collector = await startCollector(port, join(dir, 'c.sqlite'), demo.base);
  try {
    const { context, page } = await openPage(demo);
    await load(page, `${demo.base}/?region=DE`); // the demo config posts to its own origin: /v1/receipts
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await receiptMade(page);
    await page.evaluate(() => window.assent.withdraw('marketing'));
    await receiptMade(page);
    const subject = await page.evaluate(() => window.assent.consent().subject);
    await receiptsAt(port, subject, 2, 'two receipts');
    await page.goto(`${demo.base}/receipts.html`);
    await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 2 && !document.body.textContent.includes('checking'));
    const rows = await page.locator('#rows tr').allInnerTexts();
    assert.match(rows[0], /accept all.*first.*verified \(EdDSA\).*verified, received/s);
    assert.match(rows[1], /withdrawal.*ai_training, marketing.*linked to #1.*verified \(EdDSA\)/s);
    await page.getByRole('button', { name: 'Ask' }).click();
    await page.waitForFunction(() => document.getElementById('answer').textContent.includes('granted'));
    assert.match(await page.locator('#answer').textContent(), /"granted": true/);
    await context.close();
  } finally {
    collector.kill();
    await demo.close();
  }
});

test('where WebCrypto has no Ed25519, receipts fall back to ES256 and still verify', async () => {
  const collector = await startCollector(port, join(dir, 'd.sqlite'), env.base);
  try {
    const { context, page } = await openPage(env, {
      // A browser without Ed25519 in WebCrypto: generateKey rejects it, as older engines do.
      initScript: () => {
        const generate = SubtleCrypto.prototype.generateKey;
        SubtleCrypto.prototype.generateKey = function (alg, ...rest) {
          if ((alg?.name) === 'Ed25519') return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
          return generate.call(this, alg, ...rest);
        };
      },
    });
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    const [receipt] = await receiptsAt(port, subject, 1, 'the receipt');
    const header = decodeProtectedHeader(receipt.jws);
    assert.equal(header.alg, 'ES256');
    assert.deepEqual(Object.keys(header.jwk).sort(), ['crv', 'kty', 'x', 'y']);
    assert.equal(header.jwk.crv, 'P-256');
    assert.equal((await verifiedClaims(receipt.jws)).method, 'reject_all');
    await context.close();
  } finally {
    collector.kill();
  }
});

// A tab's delivery run leaves `localStorage["assent.outbox"]` set while another tab's receipt waits in the
// outbox. It used to clear the flag from its own copy of the outbox although another tab had queued a
// receipt meanwhile; that receipt then waited, unsent, until a decision happened to load the receipts
// module again.
test('a receipt another tab queued during this tab\'s delivery is still sent on the next page view', async () => {
  const collector = await startCollector(port, join(dir, 'flag.sqlite'), env.base);
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    await receiptsAt(port, subject, 1, 'the first receipt');
    // This tab's next delivery is held on the wire until the other tab has queued its receipt.
    let release;
    const held = new Promise((r) => { release = r; });
    await page.route((url) => url.port === String(port), async (route) => { await held; await route.continue(); });
    await page.evaluate(() => window.assent.set({ analytics: false }));
    await receiptMade(page);
    // Every write of the flag from now on is this tab's delivery run saying whether the outbox still holds
    // anything (queueing the receipt set it before the receipt was marked made).
    await page.evaluate(() => {
      window.flagWrites = [];
      const { setItem, removeItem } = Storage.prototype;
      Storage.prototype.setItem = function (k, v) { if (k === 'assent.outbox') window.flagWrites.push(String(v)); return setItem.call(this, k, v); };
      Storage.prototype.removeItem = function (k) { if (k === 'assent.outbox') window.flagWrites.push(null); return removeItem.call(this, k); };
    });
    // The other tab cannot reach the collector, decides, and is gone before its receipt is sent (killed:
    // no pagehide beacon either).
    const other = await context.newPage();
    await other.route((url) => url.port === String(port), (route) => route.abort());
    await other.addInitScript(() => { navigator.sendBeacon = () => true; });
    await load(other, `${env.base}/?region=DE&config=${configPath}`);
    await other.evaluate(() => window.assent.set({ marketing: false }));
    await receiptMade(other);
    await other.close();
    release();
    await receiptsAt(port, subject, 2, 'this tab\'s receipt');
    await page.waitForFunction(() => window.flagWrites.length > 0); // the run has ended
    assert.equal(await page.evaluate(() => localStorage.getItem('assent.outbox')), '1', 'the other tab\'s receipt still waits');
    await page.unroute(() => true);
    await page.reload(); // the next page view sends it
    const all = await receiptsAt(port, subject, 3, 'the other tab\'s receipt');
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked', 'linked']);
    await context.close();
  } finally {
    collector.kill();
  }
});

// A receipt waiting on its backoff is due at once when the device clock has been stepped back. It used to
// wait as long as the clock was off, and its timer (over 2^31 ms) fired at once, again and again.
test('a receipt waiting to be retried is sent when the clock was stepped back a month', async () => {
  const { context, page } = await openPage(env);
  await load(page, `${env.base}/?region=DE&config=${configPath}`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click(); // the collector is not running: it fails once
  await receiptMade(page);
  await page.waitForFunction(() => localStorage.getItem('assent.outbox') === '1');
  const subject = await page.evaluate(() => window.assent.consent().subject);
  await page.evaluate(() => { const now = Date.now; Date.now = () => now() - 30 * 86400e3; });
  const collector = await startCollector(port, join(dir, 'stepped.sqlite'), env.base);
  try {
    await page.evaluate(async () => (await import('/assent/assent-receipts.js')).flush());
    await receiptsAt(port, subject, 1, 'the receipt, without waiting a month');
    await page.waitForFunction(() => localStorage.getItem('assent.outbox') === null);
  } finally {
    collector.kill();
    await context.close();
  }
});

// With two endpoints, the browser keeps each collector's acknowledgment. The second one's used to overwrite
// the first's, so the browser kept the countersignature of one collector only.
test('with two endpoints, each collector\'s acknowledgment is kept', async () => {
  const one = await startCollector(port, join(dir, 'ack1.sqlite'), env.base);
  const two = await startCollector(port2, join(dir, 'ack2.sqlite'), env.base);
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${twoPath}`);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    const [a] = await receiptsAt(port, subject, 1, 'the first collector\'s row');
    const [b] = await receiptsAt(port2, subject, 1, 'the second collector\'s row');
    assert.notEqual(a.ack, b.ack, 'each collector countersigns with its own key');
    const kept = await page.evaluate(async ([id, urls]) => {
      const m = await import('/assent/assent-receipts.js');
      for (let i = 0; i < 50; i++) {
        const acks = await Promise.all(urls.map((u) => m.ack(id, u)));
        if (acks.every(Boolean)) return { acks: acks.map((x) => x.ack), any: (await m.ack(id)).ack };
        await new Promise((r) => setTimeout(r, 100));
      }
      return null;
    }, [a.id, [`http://127.0.0.1:${port}/v1/receipts`, `http://127.0.0.1:${port2}/v1/receipts`]]);
    assert.deepEqual(kept.acks, [a.ack, b.ack]);
    assert.ok([a.ack, b.ack].includes(kept.any));
    await context.close();
  } finally {
    one.kill();
    two.kill();
  }
});

// The backoff is kept per endpoint, so with one of two collectors down the healthy one gets each receipt at
// once. It used to be kept per receipt: a failure at the first endpoint set the receipt's next try, the
// second endpoint, checked right after, waited for it, and got receipts only on the next page view.
test('with two endpoints, one that is down does not hold up the other', async () => {
  const up = await startCollector(port2, join(dir, 'up.sqlite'), env.base); // the first endpoint is not running
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${twoPath}`);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    const subject = await page.evaluate(() => window.assent.consent().subject);
    await receiptsAt(port2, subject, 1, 'the receipt at the collector that is up');
    await page.evaluate(() => window.assent.set({ analytics: true }));
    const both = await receiptsAt(port2, subject, 2, 'the next receipt, too');
    assert.deepEqual(both.map((r) => r.chain), ['first', 'linked']);
    assert.equal(await page.evaluate(() => localStorage.getItem('assent.outbox')), '1', 'kept for the endpoint that is down');
    await context.close();
  } finally {
    up.kill();
  }
});

/** Loads the page with every locale file answering 503, makes a choice (`decide`, in the page) and
 * waits until the console says the receipt waits for a page view with its strings; then lets the
 * locale files through again. Returns the subject. */
async function decideWithoutLocales({ context, page, log }, decide) {
  await context.route('**/assent/locales/*.json', (route) => route.fulfill({ status: 503, body: 'down' }));
  await load(page, `${env.base}/?region=DE&config=${configPath}`);
  await page.evaluate(decide);
  await waitFor(() => log.consoleErrors.some((e) => /could not make receipt .*no locale file loaded/.test(e)), 'the console to say why');
  await context.unroute('**/assent/locales/*.json');
  return page.evaluate(() => window.assent.consent().subject);
}

// When no locale file loaded (offline, a 5xx), no receipt is made; the next page view makes it, with the
// real notice's hash. The receipt used to hash the key names ("banner.title=banner.title…") as the notice:
// signed evidence of a text the visitor never saw.
test('no receipt hashes a notice whose strings did not load; the next page view makes it', async () => {
  const collector = await startCollector(port, join(dir, 'nolocale.sqlite'), env.base);
  try {
    const opened = await openPage(env);
    const { context, page } = opened;
    const subject = await decideWithoutLocales(opened, () => window.assent.rejectAll());
    assert.deepEqual(await exported(port, subject), [], 'no receipt with a made-up notice');
    await page.reload();
    const [receipt] = await receiptsAt(port, subject, 1, 'the receipt, on the next page view');
    const claims = await verifiedClaims(receipt.jws);
    const config = JSON.parse(await (await fetch(env.base + configPath)).text());
    assert.equal(claims.notice.sha256, createHash('sha256').update(noticeText(config, 'optIn')).digest('hex'));
    assert.equal(claims.id, (await page.evaluate(() => window.assent.consent())).receipt);
    await context.close();
  } finally {
    collector.kill();
  }
});

// A site-wide receipt made on a later page view states the GPC signal its decision was made under; it used
// to state that page view's. Here the visitor decides with GPC on, the receipt cannot be
// made (no locale file), and GPC is off by the next page view, which makes it: it must say `gpc: true`.
test('a receipt made on a later page view states the GPC signal its decision was made under', async () => {
  const collector = await startCollector(port, join(dir, 'gpc-later.sqlite'), env.base);
  try {
    // GPC is on until this tab's sessionStorage says otherwise (it outlives the reload).
    const gpc = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => sessionStorage.getItem("gpc-off") === null, configurable: true });';
    const opened = await openPage(env, { initScript: gpc });
    const { context, page } = opened;
    const subject = await decideWithoutLocales(opened, () => window.assent.acceptAll());
    await page.evaluate(() => sessionStorage.setItem('gpc-off', '1'));
    await page.reload();
    assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), false, 'GPC is off on this page view');
    const [receipt] = await receiptsAt(port, subject, 1, 'the receipt, on the next page view');
    const claims = await verifiedClaims(receipt.jws);
    assert.deepEqual([claims.method, claims.gpc, claims.purposes.analytics.granted], ['api', true, true]);
    await context.close();
  } finally {
    collector.kill();
  }
});

// Three decisions in one page view, then the page goes at once (navigated, or the tab closed), before
// any receipt could be made: each decision is pending from the moment it is made, and the next page
// view makes all three, in the order they were made, chained. A further page view makes none again.
async function threeDecisionsThenGone(gone) {
  const collector = await startCollector(port, join(dir, `pending-${gone}.sqlite`), env.base);
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).waitFor();
    // All three in one task, and the page leaves in the same task: nothing of the receipt module runs.
    const subject = await page.evaluate((how) => {
      window.assent.acceptAll();
      window.assent.set({ analytics: false });
      window.assent.withdraw();
      const s = window.assent.consent().subject;
      if (how === 'navigated') location.reload();
      return s;
    }, gone);
    let next = page;
    if (gone === 'closed') {
      await page.close();
      next = await context.newPage();
      await load(next, `${env.base}/?region=DE&config=${configPath}`);
    } else {
      await page.waitForURL(/region=DE/);
    }
    const all = await receiptsAt(port, subject, 3, 'the three receipts, on the next page view');
    const claims = await Promise.all(all.map((r) => verifiedClaims(r.jws)));
    assert.deepEqual(claims.map((c) => c.method), ['api', 'api', 'withdrawal'], 'in the order they were made');
    assert.deepEqual(claims.map((c) => c.purposes.analytics.granted), [true, false, false]);
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked', 'linked']);
    assert.deepEqual(claims.map((c) => c.prev), [null, all[0].hash, all[1].hash], 'each links to the one before');
    assert.equal(await next.evaluate(() => localStorage.getItem('assent.pending')), '', 'nothing pending once made');
    // Another page view: nothing is made again.
    await next.reload();
    await next.evaluate(() => window.assent.ready);
    const log = track(next);
    await quiet(log);
    assert.equal((await exported(port, subject)).length, 3, 'no duplicate');
    await context.close();
  } finally {
    collector.kill();
  }
}

test('several decisions and an immediate navigation: every one reaches the collector on the next view, in order and chained', () =>
  threeDecisionsThenGone('navigated'));

test('several decisions and the tab closed at once: every one reaches the collector from the next tab, in order and chained', () =>
  threeDecisionsThenGone('closed'));

test('storage that refuses the pending list: one console warning, and the decisions and their receipts still go through', async () => {
  const collector = await startCollector(port, join(dir, 'pending-full.sqlite'), env.base);
  try {
    // A full store, for the pending list alone (everything else Assent keeps still fits).
    const full = `const set = Storage.prototype.setItem;
      Storage.prototype.setItem = function (k, v) {
        if (k === 'assent.pending') throw new DOMException('full', 'QuotaExceededError');
        return set.call(this, k, v);
      };`;
    const { context, page, log } = await openPage(env, { initScript: full });
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Accept all' }).click();
    await page.evaluate(() => window.assent.set({ analytics: false }));
    const consent = await page.evaluate(() => window.assent.consent());
    assert.equal(consent.purposes.analytics, false, 'the decision applies');
    // The page stays: both receipts are made and delivered.
    const all = await receiptsAt(port, consent.subject, 2, 'both receipts');
    assert.deepEqual(all.map((r) => r.chain), ['first', 'linked']);
    const warnings = log.consoleWarnings.filter((w) => w.startsWith('assent:'));
    assert.equal(warnings.length, 1, JSON.stringify(log.consoleWarnings));
    assert.match(warnings[0], /a decision's receipt may be lost if this page goes now: storage is full/);
    assert.deepEqual(log.consoleErrors.filter((e) => e.includes('assent')), []);
    await context.close();
  } finally {
    collector.kill();
  }
});
