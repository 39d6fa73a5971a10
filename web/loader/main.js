/*! Assent loader | MIT OR Apache-2.0 */
// Loaded synchronously as the first tag in <head>. It holds no policy: it reads the stored form that
// the core wrote (see ARCHITECTURE.md, "The loader/core split") and, when that form covers this page
// view exactly, activates the allowed tags without the wasm. Everything else goes to the wasm client.
// `cargo xtask dist` bundles these modules into the one synchronous dist/assent/assent.js.
import { api, applyStored, settle } from './api.js';
import { configure, install } from './blocking.js';
import { boot, catchTraps, deliverReceipts, prefetch } from './client.js';
import { config, cookieName } from './config.js';
import { consentDefault, consentSettings, consentUpdate } from './consent-mode.js';
import { defineToggle } from './element.js';
import { installGppStub, installTcfStub } from './cmp-stub.js';
import { base, configUrl, gpc, likelyLocale, me, placed, region, timezone } from './page.js';
import { state } from './state.js';
import { decode, fingerprint, scopedLines, unmade } from './stored.js';

/** A stored form in any cookie: not a first visit. */
function storedAnywhere() {
  try {
    return /(?:^|; )[^=;]+=[23]\|/.test(document.cookie);
  } catch {
    return false;
  }
}

/** The returning visit: the stored decision applied alone when it covers this page view exactly. */
function applyOnArrival(/** @type {import('./config.js').Config} */ c) {
  const n = c.json?.notice;
  state.version = n && typeof n.version === 'string' ? n.version : null;
  const s = c.text != null ? decode(c.cookie) : null;
  // The stored region must have come from where this page view's would: the same data-region, the geo
  // endpoint asked from the same timezone (a traveller is asked again), or the same timezone.
  const sameRegion = s &&
    (placed ? s.source === 'page' && s.region === region : s.source === `geo:${timezone}` || s.source === `tz:${timezone}`);
  // Only version 3 is acted on: a version-2 cookie goes to the core once, which checks it again.
  let covered = !!s && s.version === '3' && !!sameRegion && s.gpc === gpc && s.expiresAt * 1000 > Date.now() &&
    s.fingerprint === fingerprint(c.text || '') && receiptMade(s.receipt);
  try {
    configure(c.json);
  } catch (e) {
    console.error(`assent: could not apply blocking from the config: ${e}`);
  }
  consentSettings(c.json);
  // TCF's vendors ask `__tcfapi` on every page view: the client and the module answer.
  installTcfStub(!!c.json?.tcf);
  if (!s || !covered) return boot();
  consentUpdate(s.consentMode);
  state.stored = s;
  state.storedIn = cookieName(c.json);
  covered = applyStored();
  if (!covered) return boot();
  settle();
  if (c.json?.tcf) return boot();
  // The core keeps something on screen on every page view (the opt-out entry point): start it once the
  // page has loaded, off the critical path.
  if (s.persistent) {
    const soon = () => setTimeout(boot, 0);
    if (document.readyState === 'complete') soon();
    else window.addEventListener('load', soon);
  }
}

/**
 * Whether this browser already made the receipt the stored decision names (unknown storage: assume
 * so): the decision's, each kind's newest scoped choice's (a conversation's AI-training choice, a
 * service allowed always), and every decision still pending (`assent_core::pending`). A page that went
 * away first leaves them to the wasm.
 */
function receiptMade(/** @type {string} */ id) {
  try {
    return localStorage.getItem('assent.receipt') === id && !localStorage.getItem('assent.pending') &&
      /** @type {const} */ (['conversation', 'service']).every((kind) => {
        const choices = scopedLines(localStorage.getItem(`assent.${kind}s`), `${kind}s`);
        return unmade(choices, localStorage.getItem(`assent.receipt.${kind}`) || '').length === 0;
      });
  } catch {
    return true;
  }
}

function main() {
  install();
  consentDefault();
  catchTraps();
  deliverReceipts();
  defineToggle();
  installGppStub();
  installTcfStub(false);
  /** @type {any} */ (window).assent = api;
  if (!configUrl && !me) return; // evaluated without a tag (tests): primitives only
  // No stored form in any cookie (a first visit): the core will decide and show a banner, so its wasm,
  // its glue, the likely locale file (and the timezone table, without a usable data-region) start now,
  // beside the config, instead of one after another once it has arrived.
  if (!storedAnywhere()) {
    prefetch(`${base}locales/${likelyLocale()}.json`);
    if (!placed) prefetch(`${base}timezones.txt`);
    boot();
  }
  config().then(applyOnArrival);
  // Elements parsed after the first pass.
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => config().then(() => api.rescan()));
  }
}

if (!(/** @type {any} */ (window).assent?._)) main();
