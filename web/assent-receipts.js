/*! Assent receipts | MIT OR Apache-2.0 */
// Signs receipts with a per-browser WebCrypto key and delivers them from an IndexedDB outbox.
// Loaded only when a receipt is made or one is still waiting to be delivered. It holds no policy:
// the wasm client (assent-core) builds the canonical payload; this module hashes, signs, stores, sends.
//
// - The key is made once with WebCrypto, non-extractable, and kept in IndexedDB: Ed25519 (alg EdDSA),
//   or ECDSA P-256 (alg ES256) where the browser has no Ed25519.
// - The outbox survives reloads and offline spells. Delivery retries with exponential backoff and
//   jitter, in chain order per endpoint, and is idempotent by receipt id on the collector's side.
// - On pagehide the outbox is handed to sendBeacon as one ordered batch per endpoint; a later
//   successful POST confirms and removes it (collectors are idempotent by receipt id).

const FLAG = 'assent.outbox';
const utf8 = (s) => new TextEncoder().encode(s);
const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

let database;
function db() {
  database ||= new Promise((resolve, reject) => {
    const open = indexedDB.open('assent', 1);
    open.onupgradeneeded = () => {
      const d = open.result;
      d.createObjectStore('keys');
      d.createObjectStore('chain');
      d.createObjectStore('acks');
      d.createObjectStore('outbox', { keyPath: 'id' });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return database;
}

// Runs `fn(stores)` in one transaction and resolves when it has committed.
function tx(names, mode, fn) {
  return db().then((d) => new Promise((resolve, reject) => {
    const t = d.transaction(names, mode);
    const stores = {};
    names.forEach((n) => { stores[n] = t.objectStore(n); });
    let result;
    fn(stores, (value) => { result = value; });
    t.oncomplete = () => resolve(result);
    t.onerror = t.onabort = () => reject(t.error);
  }));
}
const get = (store, key) => tx([store], 'readonly', (s, done) => {
  s[store].get(key).onsuccess = (e) => done(e.target.result);
});

/** SHA-256 of a string, lowercase hex. */
export async function sha256(text) {
  return hex(await crypto.subtle.digest('SHA-256', utf8(text)));
}

let keyPromise;
function key() {
  keyPromise ||= get('keys', 'browser').then(async (stored) => {
    if (stored) return stored;
    let pair;
    let alg = 'EdDSA';
    try {
      pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    } catch (_e) {
      alg = 'ES256';
      pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    }
    const pub = await crypto.subtle.exportKey('jwk', pair.publicKey);
    // Members in sorted order, so the header is canonical JSON too.
    const jwk = alg === 'EdDSA' ? { crv: 'Ed25519', kty: 'OKP', x: pub.x } : { crv: 'P-256', kty: 'EC', x: pub.x, y: pub.y };
    const record = { alg: alg, jwk: jwk, privateKey: pair.privateKey };
    await tx(['keys'], 'readwrite', (s) => s.keys.put(record, 'browser'));
    return record;
  });
  return keyPromise;
}

// Reading the head (`prev`) and advancing it (`issue`) are one step across tabs: two tabs deciding at the
// same moment would otherwise both chain onto the same head, and the collector refuses the second as a
// fork (the decision would leave no evidence). `prev` takes a Web Lock per subject; `issue` releases it.
// Without the Locks API (browsers before 2022) the step is unguarded, as before.
const held = {};
/** Each subject's receipt ids made already, as `prev` read them under the lock. */
const madeIds = {};
function lock(subject) {
  if (!navigator.locks) return Promise.resolve();
  return new Promise((granted) => {
    navigator.locks.request(`assent-chain:${subject}`, () => new Promise((release) => {
      held[subject] = release;
      setTimeout(release, 10000); // a receipt that is never issued must not block the next for good
      granted(undefined);
    }));
  });
}
function unlock(subject) {
  const release = held[subject];
  delete held[subject];
  if (release) release();
}

/** The hash of this subject's latest receipt (the next receipt's `prev`), or null. Holds the subject's
 * chain lock until `issue` (see `lock`). */
export async function prev(subject) {
  await lock(subject);
  try {
    const head = await get('chain', subject);
    madeIds[subject] = head?.ids || [];
    return (head?.hash) || head || null; // {hash, id}; a bare hash from before ids were kept
  } catch (e) {
    unlock(subject);
    throw e;
  }
}

/** Signs a canonical payload as a compact JWS. */
export async function sign(payload) {
  const k = await key();
  const header = JSON.stringify({ alg: k.alg, jwk: k.jwk, typ: 'assent-receipt+jws' });
  const input = `${b64u(utf8(header))}.${b64u(utf8(payload))}`;
  const params = k.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  return `${input}.${b64u(await crypto.subtle.sign(params, k.privateKey, utf8(input)))}`;
}

/**
 * Signs, advances the subject's chain and queues the receipt, in one transaction; then delivers.
 * `marker` is the localStorage key that records the latest receipt made of its kind ('assent.receipt'
 * for site-wide decisions, 'assent.receipt.conversation' for AI-toggle choices,
 * 'assent.receipt.service' for services allowed always); `at`, a scoped choice's decidedAt.
 */
export async function issue(payload, id, subject, endpoints, marker, at) {
  try {
    await record(payload, id, subject, endpoints);
  } finally {
    unlock(subject);
  }
  // A scoped choice's marker also keeps when it was decided (`id|at`): once a later choice for the same
  // scope has replaced it, the time still tells which choices came after it.
  issued(marker || 'assent.receipt', at ? `${id}|${at}` : id);
  if (endpoints.length) flag(true);
  flush();
}

async function record(payload, id, subject, endpoints) {
  // Made already (a page view that went away before it could say so): not signed again.
  if (madeIds[subject]?.includes(id)) return;
  const jws = await sign(payload);
  const hash = await sha256(jws);
  await tx(['outbox', 'chain'], 'readwrite', (s) => {
    // Made already, by a page view that went away before it could record so (the marker below), or
    // by another tab: making it again would fork the chain with a second receipt under the same id.
    // The head keeps the subject's latest 64 receipt ids.
    s.chain.get(subject).onsuccess = (e) => {
      const head = e.target.result || {};
      const made = head.ids || [];
      if (made.includes(id)) return;
      s.chain.put({ hash: hash, id: id, ids: made.concat(id).slice(-64) }, subject);
      if (!endpoints.length) return;
      // The outbox is sent in the order receipts were made: a counter, not the clock (a clock stepped
      // back between two receipts would send the later one first, and the collector would see a gap).
      s.chain.get('#order').onsuccess = (o) => {
        const order = (o.target.result || 0) + 1;
        s.chain.put(order, '#order');
        const item = { id: id, jws: jws, endpoints: endpoints, delivered: [], retry: {}, order: order, queuedAt: Date.now() };
        s.outbox.put(item);
        pending.push(item); // for sendBeacon, should the page go away before the next delivery run
      };
    };
  });
}

// The id of the latest receipt of its kind made in this browser. The loader and the client compare it
// with the stored choice's: a difference means a choice whose receipt was never made (the page went away first).
function issued(marker, id) {
  try {
    localStorage.setItem(marker, id);
  } catch { /* storage blocked */ }
}

function flag(on) {
  try {
    if (on) localStorage.setItem(FLAG, '1');
    else localStorage.removeItem(FLAG);
  } catch { /* storage blocked: the loader simply won't know to flush early */ }
}

let pending = []; // in-memory copy of the outbox, for sendBeacon on pagehide
/** @type {Promise<unknown> | null} */
let flushing = null;
let timer = 0;

/**
 * Delivers what the outbox holds. One run at a time; failures are retried later with backoff.
 * `fresh` (a new page view) tries every endpoint once now, whatever the backoff said.
 */
export function flush(fresh) {
  if (flushing) {
    // A run is under way and may have read the outbox before this call's receipt was queued: go again.
    again = true;
    return flushing;
  }
  flushing = run(fresh === true).then(() => {
    flushing = null;
    if (again) {
      again = false;
      return flush();
    }
  }, (e) => {
    flushing = null;
    console.error('assent: receipt delivery failed:', e);
  });
  return flushing;
}
let again = false;

async function run(fresh) {
  const items = (await tx(['outbox'], 'readonly', (s, done) => {
    s.outbox.getAll().onsuccess = (e) => done(e.target.result);
  })).sort((a, b) => (a.order || 0) - (b.order || 0) || a.queuedAt - b.queuedAt);
  pending = items;
  const blocked = {}; // an endpoint that failed holds back later receipts, so chains arrive in order
  let retryAt = Infinity;
  for (const item of items) {
    for (const url of item.endpoints) {
      if (item.delivered.includes(url) || blocked[url]) continue;
      // Each endpoint has its own backoff: one that is down must not hold the others up.
      // (`next`/`attempts` on the item: queued by a version that kept one backoff per receipt.)
      item.retry ||= {};
      item.retry[url] ||= { next: item.next || 0, attempts: item.attempts || 0 };
      const r = item.retry[url];
      // A `next` further off than the longest wait (a day) means the clock was stepped back since:
      // due now, or the receipt would wait as long as the clock was off.
      if (!fresh && r.next > Date.now() && r.next - Date.now() <= 864e5) {
        blocked[url] = true;
        retryAt = Math.min(retryAt, r.next);
        continue;
      }
      const outcome = await send(url, item, r);
      if (typeof outcome === 'number') {
        r.attempts += 1;
        // Exponential backoff with full jitter: up to 2^attempts seconds, capped at 10 minutes; never
        // before the collector's Retry-After (`outcome`, in seconds).
        // (At most a day: a clock weeks ahead must not overflow the timer, which would then fire at once.)
        r.next = Date.now() + Math.max(Math.min(outcome, 86400) * 1000, Math.random() * Math.min(600000, 1000 * 2 ** r.attempts));
        retryAt = Math.min(retryAt, r.next);
        blocked[url] = true;
      } else {
        item.delivered.push(url);
      }
    }
    const done = item.endpoints.every((u) => item.delivered.includes(u));
    await tx(['outbox'], 'readwrite', (s) => (done ? s.outbox.delete(item.id) : s.outbox.put(item)));
  }
  pending = pending.filter((item) => !item.endpoints.every((u) => item.delivered.includes(u)));
  // From the outbox itself, not this tab's copy: another tab may have queued a receipt since this run
  // read it, and clearing the flag would leave that receipt unsent until a decision loads the module.
  flag(await tx(['outbox'], 'readonly', (s, done) => { s.outbox.count().onsuccess = (e) => done(e.target.result); }) > 0);
  clearTimeout(timer);
  if (retryAt < Infinity) timer = setTimeout(flush, Math.min(864e5, Math.max(0, retryAt - Date.now())));
}

// Delivers one receipt: 'delivered', 'refused' (for good), or a number: retry, not before that many
// seconds (0: as the backoff says). `r` is this endpoint's retry state for the receipt.
async function send(url, item, r) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST', body: item.jws, keepalive: true, credentials: 'omit', mode: 'cors',
      headers: { 'content-type': 'text/plain' },
      // A collector that accepts the connection but never answers must not hold the outbox up for good.
      signal: AbortSignal.timeout ? AbortSignal.timeout(15000) : undefined,
    });
  } catch (_e) {
    return 0; // offline, the collector is down, or it timed out
  }
  const reason = () => res.text().catch(() => '');
  if (res.ok) {
    // An HTML page is not a collector's answer (a single-page app's fallback route, a wrong URL).
    if (/html/.test(res.headers.get('content-type'))) {
      console.error(`assent: ${url} answered receipt ${item.id} with an HTML page, not a collector's answer: check receipts.endpoints`);
      return 60;
    }
    try {
      const body = await res.json();
      // One per endpoint: each collector countersigns its own copy.
      if (body.ack) await tx(['acks'], 'readwrite', (s) => s.acks.put({ url: url, ack: body.ack, chain: body.chain }, [item.id, url]));
    } catch { /* delivered; an unreadable acknowledgment is not a reason to send again */ }
    return 'delivered';
  }
  const status = res.status;
  if (status === 408 || status === 429 || status === 425 || status >= 500) return +res.headers.get('retry-after') || 0;
  const text = await reason();
  // 403: the collector does not serve this site yet (its --allow-origin): kept and tried again slowly,
  // so that fixing the collector's settings recovers the evidence.
  if (status === 403) {
    console.error(`assent: ${url} refused receipt ${item.id} (403), kept to retry: ${text}`);
    return 600;
  }
  let why;
  try {
    const body = JSON.parse(text);
    if (Object.keys(body).join() === 'error') why = body.error;
  } catch { /* not a collector's answer */ }
  // Any other 4xx with a collector's reason (exactly {"error": "…"}: a framework's error page such as
  // Spring's {"status", "error", "path"} is not one) is refused for good: the same bytes will never be
  // accepted. Without one it is no verdict on the receipt (a proxy's 404 during a deploy, a
  // firewall's page, a redirect turned into a GET): kept, tried every 10 minutes for a day, then dropped.
  r.unclear ||= Date.now();
  if (typeof why !== 'string' && Date.now() - r.unclear < 864e5) {
    console.error(`assent: ${url} answered receipt ${item.id} with ${status} but no collector's reason ({"error"}), kept to retry: ${text.slice(0, 200)}`);
    return 600;
  }
  console.error(`assent: ${url} refused receipt ${item.id} (${status}): ${why || text.slice(0, 200)}`);
  return 'refused';
}

/**
 * Hands the undelivered receipts to sendBeacon (the page is going away): one batch per endpoint, in
 * chain order, so they cannot overtake each other. text/plain keeps it a CORS simple request.
 */
export function beacon() {
  const batches = {};
  for (const item of pending) {
    for (const url of item.endpoints) {
      if (item.delivered.includes(url)) continue;
      batches[url] ||= [];
      batches[url].push(item.jws);
    }
  }
  Object.keys(batches).forEach((url) => {
    navigator.sendBeacon(url, new Blob([JSON.stringify({ receipts: batches[url] })], { type: 'text/plain' }));
  });
}

/** The acknowledgment `{url, ack, chain}` that the collector at `url` sent for a receipt; without `url`,
 * the one whose URL sorts first. Undefined until one arrived. */
export function ack(id, url) {
  return url ? get('acks', [id, url]) : tx(['acks'], 'readonly', (s, done) => {
    s.acks.getAll(IDBKeyRange.bound([id], [id, []])).onsuccess = (e) => done(e.target.result[0]);
  }).then((a) => a || get('acks', id)); // stored under the receipt id alone before acks were kept per endpoint
}
