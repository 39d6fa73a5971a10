// Activation: gated elements run in one chain for the whole page, so that document order holds. An
// external classic script without `async` holds back the elements after it until it has loaded, as
// the parser would.
import { serviceAt } from './blocking.js';
import { insertedByPage, ranFor, setAttr, URL_ATTR } from './elements.js';
import { state } from './state.js';
import { script as trustedScript, scriptURL } from './trusted.js';

/** The document, and the shadow roots seen in its markup or attached by a script: held elements are found there. */
export let roots = /** @type {(Document | ShadowRoot)[]} */ ([document]);

/** @type {Element[]} */
const chain = [];
let waiting = false;

/** Runs gated elements, in order after any still waiting. */
export function run(/** @type {Element[]} */ els) {
  if (state.failed) return; // the wasm trapped: nothing more runs on this page view
  chain.push(...els);
  if (!waiting) next();
}

function next() {
  waiting = false;
  while (chain.length) {
    const el = /** @type {HTMLElement} */ (chain.shift());
    // Each element runs once; one the page removed meanwhile does not run.
    // (`isConnected`: a script in a subtree the page detached would never load, and stall the chain.)
    if (el.hasAttribute('data-assent') || (el.tagName === 'SCRIPT' && !el.isConnected)) continue;
    setAttr.call(el, 'data-assent', 'ran');
    const type = el.getAttribute('data-type');
    if (el.tagName !== 'SCRIPT') {
      const srcset = el.getAttribute('data-srcset');
      if (srcset !== null) setAttr.call(el, 'srcset', srcset);
      const attr = URL_ATTR[el.tagName];
      const url = el.getAttribute(`data-${attr}`) || '';
      ranFor.set(el, serviceAt(url));
      setAttr.call(el, attr, url);
      // A frame that showed the client's placeholder: its `src` first, then the placeholder document
      // goes, so that it navigates once, to its `src` (see assent-client's `remove_placeholder`).
      if (el.hasAttribute('data-assent-placeholder')) {
        el.removeAttribute('srcdoc');
        el.removeAttribute('data-assent-placeholder');
      }
      continue;
    }
    if (insertedByPage.has(el)) {
      // A script the page inserted runs in place, as the page made it (its listeners, its async), by
      // setting its type back and its src anew.
      if (type) setAttr.call(el, 'type', type);
      else el.removeAttribute('type');
      const src = el.getAttribute('src') || '';
      el.removeAttribute('src');
      setAttr.call(el, 'src', /** @type {string} */ (scriptURL(src)));
      continue;
    }
    const script = document.createElement('script');
    for (const a of Array.from(el.attributes)) {
      if (a.name !== 'type' && a.name !== 'data-type') setAttr.call(script, a.name, a.name === 'src' ? /** @type {string} */ (scriptURL(a.value)) : a.value);
    }
    if (type) setAttr.call(script, 'type', type);
    if (el.nonce) script.nonce = el.nonce; // the nonce attribute reads empty once parsed; the property keeps it
    const external = el.hasAttribute('src');
    // In order, as the parser would: a classic external script without async (one that loads at all).
    const ordered = external && !el.hasAttribute('async') && !el.hasAttribute('nomodule') &&
      (!type || /^(module|(text|application)\/(java|ecma)script)$/i.test(type));
    if (external) script.async = !ordered;
    else script.text = /** @type {string} */ (trustedScript(/** @type {HTMLScriptElement} */ (el).text));
    if (ordered) {
      waiting = true;
      script.addEventListener('load', next);
      script.addEventListener('error', next);
    }
    el.parentNode?.replaceChild(script, el);
    if (waiting) return;
  }
}

/** Gated elements that have not run yet, in document order. */
export function pending() {
  return find(
    'script[type="text/plain"][data-category],iframe[data-category][data-src],img[data-category][data-src],link[data-category][data-href]',
  ).filter((el) => !el.hasAttribute('data-assent'));
}

/**
 * Matching elements in the document, then in each shadow root, in document order (an element in a
 * shadow root at its outermost host's place). Roots whose host left the page are let go (a
 * single-page app discards components).
 * @param {string} selector
 * @returns {HTMLElement[]}
 */
export function find(selector) {
  roots = roots.filter((r) => r === document || /** @type {ShadowRoot} */ (r).host.isConnected);
  const all = roots.flatMap((r) => /** @type {HTMLElement[]} */ (Array.from(r.querySelectorAll(selector))));
  if (roots.length === 1) return all;
  /** @param {Node} n */
  const top = (n) => {
    for (let root = n.getRootNode(); root !== document && root instanceof ShadowRoot; root = n.getRootNode()) n = root.host;
    return n;
  };
  return all.sort((a, b) => {
    const x = top(a);
    const y = top(b);
    return x === y ? 0 : x.compareDocumentPosition(y) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
  });
}
