// The wasm client (assent-client), loaded only when something must be decided, shown or sent, and
// the modules it loads in turn: the preferences module and the receipt signer.
import { pending, run } from './activate.js';
import { settle } from './api.js';
import { config } from './config.js';
import { gtag } from './consent-mode.js';
import { cmpReady, tcfStarted } from './cmp-stub.js';
import { base, gpc, likelyLocale, region, timezone } from './page.js';
import { state } from './state.js';
import { html } from './trusted.js';

/** @type {{ name: string, args: unknown[], done: (value: unknown) => void }[]} calls made before the client started */
const queue = [];

/**
 * A trap in the wasm (a panic aborts at once) leaves its instance unusable. The loader then lets it
 * go, answers as if nothing were allowed, runs nothing more, and says so on one console line.
 * @param {unknown} e
 * @param {string} during
 */
function fail(e, during) {
  if (!state.failed) {
    console.error(`assent: the wasm client failed in ${during} (${e}); optional tags that have not run stay blocked ` +
      'until the page is loaded again.');
  }
  state.failed = true;
  state.client = null;
  for (const q of queue.splice(0)) q.done(undefined);
}

/** A client method, called so that a trap inside it ends the client instead of leaving it half-done. */
export function use(/** @type {string} */ name, /** @type {unknown[]} */ args) {
  const client = state.client;
  if (!client) return undefined;
  try {
    return client[name](...args);
  } catch (e) {
    fail(e, name);
    return undefined;
  }
}

/** Always a Promise, whether the wasm is loaded yet or not (see assent.d.ts). */
export function call(/** @type {string} */ name, /** @type {unknown[]} */ args) {
  if (state.client || state.failed) return Promise.resolve(use(name, args));
  return new Promise((done) => {
    queue.push({ name, args, done });
    boot();
  });
}

/**
 * A trap in a handler or task the wasm runs (a click in the banner) reaches the page as an uncaught
 * error or rejection: taken as the client's failure, with the one line instead of the browser's.
 */
export function catchTraps() {
  for (const type of ['error', 'unhandledrejection']) {
    window.addEventListener(type, (e) => {
      const error = e instanceof ErrorEvent ? e.error : /** @type {PromiseRejectionEvent} */ (e).reason;
      const trap = window.WebAssembly && error instanceof WebAssembly.RuntimeError;
      // The client's module or the preferences module (assent_client…, assent_prefs…).
      if (state.client && trap && String(error.stack).includes(`${base}assent_`)) {
        e.preventDefault();
        fail(error, 'an event handler');
      }
    });
  }
}

/** @type {Record<string, Promise<Response>>} requests started before the client asked for them, by URL */
const started = {};
/** Hands a started request over to the client (once), or starts it. */
function handOver(/** @type {string} */ url) {
  const p = started[url];
  delete started[url];
  return p || fetch(url);
}
/** Starts a request the client will most likely make. */
export function prefetch(/** @type {string} */ url) {
  // Read to the end at once, so that a guess the client never asks for does not hold a request open.
  const p = fetch(url).then((r) => r.text().then((text) => new Response(text, r)));
  started[url] = p;
  p.catch(() => {
    // the client reports it when it asks
  });
}

/** @type {Promise<any> | null} */
let loading = null;
/** The glue and the wasm, fetched in parallel and compiled while the config is still on its way. */
function load() {
  if (!loading) {
    const wasm = fetch(`${base}assent_client_bg.wasm`);
    wasm.catch(() => {
      // reported by boot
    });
    loading = import(`${base}assent_client.js`).then((m) => m.default({ module_or_path: wasm }).then(() => m));
  }
  return loading;
}

/** @type {Promise<any> | null} */
let prefsLoading = null;
/**
 * The preferences module (the dialog and the AI toggle, in Leptos): the client asks for it when one is
 * first needed, or once the banner is idle. A failed load is asked for again on the next need.
 */
export function prefs() {
  // A site with TCF gets the module's TCF build (assent_tcf), everyone else the one without it.
  prefsLoading ||= config()
    .then((c) => {
      const name = c.json?.tcf ? 'assent_tcf' : 'assent_prefs';
      return import(`${base}${name}.js`).then((m) => m.default({ module_or_path: `${base}${name}_bg.wasm` }).then(() => m));
    })
    .catch((e) => {
      prefsLoading = null;
      throw e;
    });
  return prefsLoading;
}

/**
 * TCF's first layer says what its vendors do, so the client starts once the vendor list (and the
 * TCF strings in the likely language) are in: the module's TCF build, started, or nothing (the banner
 * then shows without TCF, and the console says why). It is handed the client once that has started.
 */
function startTcf(/** @type {unknown} */ section) {
  return prefs()
    .then((m) =>
      m.tcfStart(JSON.stringify(section), base, likelyLocale()).then(() => {
        tcfStarted(m);
        return m;
      }),
    )
    .catch((/** @type {unknown} */ e) => console.error(`assent: TCF could not start (${e}); TCF vendors get no consent.`));
}

/** @type {any} */
let receiptsModule = null;
/** @type {Promise<any> | null} */
let receiptsLoading = null;
/** Receipts: signed and delivered by assent-receipts.js, loaded only when one is made or pending. */
export function receipts() {
  receiptsLoading ||= import(`${base}assent-receipts.js`).then((m) => {
    receiptsModule = m;
    return m;
  });
  return receiptsLoading;
}
/** A receipt waiting from an earlier page view is sent; the outbox goes out as the page is hidden or left. */
export function deliverReceipts() {
  try {
    if (localStorage.getItem('assent.outbox')) receipts().then((m) => m.flush(true));
  } catch {
    // storage blocked
  }
  window.addEventListener('pagehide', () => receiptsModule?.beacon());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') receiptsModule?.flush();
  });
}

/** @type {Promise<unknown> | null} */
let booting = null;
/** Starts the client (once): the core decides from here on. */
export function boot() {
  booting ||= Promise.all([config(), load()])
    .then(([c, m]) => Promise.all([c, m, c.json?.tcf && startTcf(c.json.tcf)]))
    .then(([c, m]) =>
      m.start({
        configText: c.text ?? null, configError: c.error || null, region: region || null, timezone: timezone || null,
        gpc, gtag, stored: c.cookie || null, base, run, pending, receipts, prefs, fetch: handOver, html,
      }),
    )
    .then(
      (/** @type {any} */ client) => {
        state.client = client;
        state.stored = null;
        // Before the calls made meanwhile, as the client would have had them: TCF's first layer, if it
        // asks again, goes under a dialog the page asked for.
        try {
          cmpReady(client);
        } catch (e) {
          fail(e, 'TCF');
        }
        for (const q of queue.splice(0)) q.done(call(q.name, q.args));
        settle();
        return client;
      },
      (e) => {
        if (window.WebAssembly && e instanceof WebAssembly.RuntimeError) fail(e, 'start');
        else {
          console.error(`assent: could not start (${e}); optional tags stay blocked. Serve ${base}assent_client.js, and ` +
            'assent_client_bg.wasm as application/wasm.');
        }
        settle();
      },
    );
  return booting;
}
