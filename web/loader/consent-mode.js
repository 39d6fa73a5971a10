// Google Consent Mode v2, and Microsoft's consent APIs fed from it. The loader only speaks the vendors'
// vocabulary: the core decides each type's state (the stored form's Consent Mode field, or the client's
// commands), and this hands it to gtag, and to UET and Clarity where data-consent-mode names them.
import { me } from './page.js';

const TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage', 'functionality_storage',
  'personalization_storage', 'security_storage'];
/** @type {IArguments[]} every command the loader gave gtag, in order */
const sent = [];
let on = !!me?.hasAttribute('data-consent-mode');
/** data-consent-mode's words: `wait_for_update` in ms, and `uet` and `clarity` for Microsoft's APIs. */
const words = (me?.getAttribute('data-consent-mode') || '').split(/\s+/).filter(Boolean);
for (const w of words) {
  if (!/^(\d+|uet|clarity)$/.test(w)) {
    console.warn(`assent: data-consent-mode takes a number (wait_for_update in ms), uet and clarity, not "${w}".`);
  }
}

/** gtag(), as Google's snippet defines it. */
export function gtag() {
  // biome-ignore lint/complexity/noArguments: gtag queues its `arguments` object itself, as Google's snippet does
  const command = arguments;
  sent.push(command);
  const w = /** @type {any} */ (window);
  w.dataLayer = w.dataLayer || [];
  w.dataLayer.push(command);
  // Microsoft's, from the same state (a region's default is for Google's own geolocation only).
  const state = command[2];
  if (command[0] !== 'consent' || state.region) return;
  if (words.includes('uet')) {
    w.uetq = w.uetq || [];
    w.uetq.push('consent', command[1], { ad_storage: state.ad_storage });
  }
  if (words.includes('clarity')) {
    // Clarity's own stub, as its snippet defines it: the tag reads the queue when it loads.
    w.clarity =
      w.clarity ||
      function () {
        w.clarity.q = w.clarity.q || [];
        // biome-ignore lint/complexity/noArguments: Clarity's stub queues its `arguments` objects
        w.clarity.q.push(arguments);
      };
    w.clarity('consentv2', { ad_Storage: state.ad_storage, analytics_Storage: state.analytics_storage });
  }
}

/** The stored form's Consent Mode letters (`g` granted, `d` denied per type) as gtag's state. */
export function consentState(/** @type {string} */ letters) {
  /** @type {Record<string, string | number>} */
  const state = {};
  TYPES.forEach((t, i) => {
    state[t] = letters.charAt(i) === 'g' ? 'granted' : 'denied';
  });
  return state;
}

/** The default, before any tag can run: the loader is the first script in <head>, and this runs synchronously. */
export function consentDefault() {
  if (!on) return;
  const state = consentState('ddddddg'); // everything denied until decided; security storage serves what is necessary
  state.wait_for_update = Number(words.find((w) => /^\d+$/.test(w))) || 500;
  /** @type {Function} */ (gtag)('consent', 'default', state);
  // A page script that later assigns `dataLayer = [...]` (a pattern Google's own docs show for page
  // data) would drop the default, and Google tags with no default act as if granted: the commands
  // given so far go first in the new array.
  let layer = /** @type {any} */ (window).dataLayer;
  try {
    Object.defineProperty(window, 'dataLayer', {
      configurable: true,
      enumerable: true,
      get: () => layer,
      set(v) {
        if (v && v !== layer && v.unshift) v.unshift(...sent.filter((c) => !v.includes(c)));
        layer = v;
      },
    });
  } catch {
    // dataLayer defined unconfigurable by an earlier script: left as it is
  }
}

/** Consent Mode settings that need no decision, once the config has arrived. */
export function consentSettings(/** @type {any} */ json) {
  const cm = json?.consentMode;
  const g = /** @type {Function} */ (gtag);
  if (!cm || typeof cm !== 'object') {
    if (on && json) {
      console.warn('assent: data-consent-mode is on the <script> tag, but the config has no "consentMode", so Google ' +
        'tags stay denied whatever the visitor decides: add "consentMode": {} to the config.');
    }
    return;
  }
  if (!on) {
    console.warn('assent: the config uses Google Consent Mode: add data-consent-mode to the <script> tag of assent.js, ' +
      'or its default is set late, after tags may have run.');
    on = true;
    consentDefault();
  }
  if (cm.adsDataRedaction === true) g('set', 'ads_data_redaction', true);
  if (cm.urlPassthrough === true) g('set', 'url_passthrough', true);
}

/** Sends the stored decision's state (`assent.d.ts`: what the page's Google tags hear). */
export function consentUpdate(/** @type {string} */ letters) {
  if (letters) /** @type {Function} */ (gtag)('consent', 'update', consentState(letters));
}
