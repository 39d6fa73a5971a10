// `window.assent` (typed in web/assent.d.ts). Until the wasm client has started, the loader answers
// from the stored decision the core wrote; from then on, every call goes to the client.
import { pending, run } from './activate.js';
import { blocked, serviceTable, shown, why } from './blocking.js';
import { boot, call, use } from './client.js';
import { readCookie } from './config.js';
import { consentUpdate } from './consent-mode.js';
import { released } from './elements.js';
import { handedOver, state } from './state.js';
import { adopts, allows, conversationChoice, decode, view } from './stored.js';
import { serviceOf } from './trackers.js';

/** @typedef {import('../assent').Assent} Assent */

/** @type {(value: Assent) => void} */
let resolveReady = () => {};
/** @type {Promise<Assent>} */
const ready = new Promise((resolve) => {
  resolveReady = resolve;
});
/** Settles `assent.ready`: the stored decision is applied, or the client has started (or failed to). */
export const settle = () => resolveReady(api);

const now = () => Math.floor(Date.now() / 1000);
/** The scoped lines the core stored (unreadable storage: none), each kind read only when asked for. */
const read = (/** @type {string} */ key) => {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage blocked
  }
};
const lines = {
  get services() {
    return read('assent.services');
  },
  get conversations() {
    return read('assent.conversations');
  },
};

/**
 * The stored decision now: another tab may have decided since (the cookie is shared), and a
 * withdrawal made there holds here too, in `allowed` and `stamp`.
 */
function fresh() {
  const own = state.stored;
  const next = own && decode(readCookie(state.storedIn));
  if (own && next && adopts(own, next, now())) {
    state.stored = next;
    // As on a returning visit: Google tags hear the new state before a tag it allows runs.
    consentUpdate(next.consentMode);
    if (!applyStored()) boot();
  }
  return state.stored;
}

/**
 * Applies the stored decision alone. Returns false when it does not cover what the page holds (an
 * element whose purpose the decision never answered, or a refused embed, whose placeholder the wasm
 * renders): then the core must decide.
 */
export function applyStored() {
  const stored = /** @type {import('./stored.js').Stored} */ (state.stored);
  /** @type {Element[]} */
  const go = [];
  let frames = false; // a refused frame shows a placeholder, which the wasm renders
  for (const el of pending()) {
    const purpose = el.getAttribute('data-category') || '';
    // The service is looked up only for what the decision refuses (it may be allowed always).
    if (stored.granted.includes(purpose)) go.push(el);
    else if (allows(stored, lines, purpose, { service: serviceOf(serviceTable, el) || '' }, state.version, now())) go.push(el);
    else if (!stored.denied.includes(purpose)) return false;
    else frames ||= shown(el);
  }
  run(go);
  return !frames;
}

/** @param {string} name */
const later = (name) => (/** @type {unknown[]} */ ...args) => /** @type {Promise<void>} */ (call(name, args));

/** @type {Assent & { _: { run: typeof run, pending: typeof pending } }} */
export const api = {
  ready,
  consent() {
    if (handedOver()) return use('consent', []) || null;
    const stored = fresh();
    return stored ? view(stored) : null;
  },
  allowed(purpose, options) {
    if (handedOver()) return use('allowed', [purpose, options]) === true;
    return allows(fresh(), lines, purpose, options, state.version, now());
  },
  set: later('set'),
  acceptAll: later('acceptAll'),
  rejectAll: later('rejectAll'),
  withdraw: later('withdraw'),
  showBanner: later('showBanner'),
  showPreferences: later('showPreferences'),
  // The payload plus the consent facts that must travel with it.
  stamp(payload, options) {
    /** @type {Omit<import('../assent').StampFacts, 'content_usage'>} */
    let facts;
    if (handedOver()) facts = use('stampFacts', [options]) || { receipt: null, purposes: [], do_not_train: true };
    else {
      const stored = fresh();
      facts = stored
        ? { receipt: stored.receipt, purposes: stored.granted.slice(), do_not_train: stored.doNotTrain }
        : { receipt: null, purposes: [], do_not_train: true };
      const own = conversationChoice(lines.conversations, options?.conversation, state.version, now());
      if (own) {
        // The conversation's own AI-training choice, as the core stored it.
        facts.receipt = own.receipt;
        facts.purposes = facts.purposes.filter((p) => p !== own.purpose);
        if (own.on) facts.purposes.push(own.purpose);
        facts.do_not_train = !own.on;
      }
    }
    if (!state.client && options?.conversation) facts.scope = `conversation:${options.conversation}`;
    // The choice in the AIPREF vocabulary too, for the `Content-Usage` header (docs/ai-training-data.md).
    const usage = /** @type {'train-ai=n' | 'train-ai=y'} */ (`train-ai=${facts.do_not_train ? 'n' : 'y'}`);
    return { ...payload, assent: { ...facts, content_usage: usage } };
  },
  rescan() {
    if (handedOver()) return use('rescan', []);
    if (state.stored && !applyStored()) boot();
  },
  // What automatic blocking held or dropped on this page view (see docs/blocking.md). Elements
  // released once the config showed they are no trackers are not listed.
  report() {
    return blocked
      .filter((b) => !(b.el && released.has(b.el)))
      .map((b) => {
        const el = (b.mark && document.querySelector(`[data-assent-held="${b.mark}"]`)) || b.el;
        const purpose = el?.getAttribute('data-category') || b.purpose;
        const state = el?.hasAttribute('data-assent') ? 'ran' : el?.isConnected ? 'held' : 'dropped';
        return {
          service: el?.getAttribute('data-service') || b.service, purpose, kind: /** @type {any} */ (b.kind), url: b.url,
          state, reason: state === 'held' ? why(purpose) : b.reason,
        };
      });
  },
  on(type, fn) {
    if (type !== 'change') throw new TypeError('assent.on: the only event is "change"');
    const h = (/** @type {Event} */ e) => fn(/** @type {CustomEvent} */ (e).detail);
    document.addEventListener('assent:change', h);
    return () => document.removeEventListener('assent:change', h);
  },
  _: { run, pending },
};
