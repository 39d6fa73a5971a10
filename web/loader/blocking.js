// Automatic blocking (docs/blocking.md). From the loader's synchronous run on, a script, iframe, image
// or stylesheet whose URL belongs to a known tracker is held inert (in place, attributes kept) until its
// purpose is allowed, and requests to tracker hosts are dropped. The table is generated from
// data/trackers.json by `cargo xtask dist` (assent_core::trackers::loader_table).
import { find, pending, roots, run } from './activate.js';
import { api } from './api.js';
import { boot, use } from './client.js';
import { config } from './config.js';
import { insertedByPage, ranFor, released, setAttr, URL_ATTR } from './elements.js';
import { hidden } from './rules.js';
import { state } from './state.js';
import { trackers } from './trackers.js';
import { isTrusted, refused, html as trustedHTML, tt as trustedTypesIn } from './trusted.js';

/** @typedef {import('./trackers.js').Service} Service */

const table = trackers('@TRACKERS@', location);
/** The config's additions to the table are known. */
let classified = false;
/** Until then, a third-party element the page injects may belong to a service only the config names. */
const UNKNOWN = { purpose: '?', name: '(waiting for the config)', match: [] };
/** @type {Element[]} elements held before the config arrived, in or out of the page */
let heldEarly = [];
/**
 * What `assent.report()` lists. `mark` finds the page's copy of an element held in markup.
 * @type {{ service: string, purpose: string, kind: string, url: string, el?: Element, reason: string, mark?: string }[]}
 */
export const blocked = [];
let marks = 0;
/** An ordered script was held before the config arrived: the ordered scripts after it wait too. */
let ordered = false;
/** Tracker elements seen, by the URL they were seen with. */
const seen = new WeakMap();
/** Pixels whose drop was already reported to the page as a failed load. */
const failedLoads = new WeakSet();
/** @type {WeakMap<XMLHttpRequest, any[]>} each XHR's `open` arguments */
const opened = new WeakMap();

const E = Element.prototype;
const replaceWith = E.replaceWith;
const innerHTML = /** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(E, 'innerHTML'));
// In markup: a URL attribute whose host has an entity, a percent-escape or a non-ASCII character.
// biome-ignore lint/suspicious/noControlCharactersInRegex: `[^\x00-\x7f]` is "not ASCII"
const ODD_MARKUP = /(src|href)\s*=\s*["']?([a-z]+:)?[/\\]{2}[^"'\s>/\\?#]*(&#|&period;|%|[^\x00-\x7f])/i;
const TAIL = /(<\/[^>]+>\s*)*$/; // the end tags markup ends with
const OBSERVE = { childList: true, subtree: true };
/** Nodes the page's script inserted: the observer's other elements are the parser's. */
const placed = new WeakSet();
/** The parser's open elements when it last inserted a node the observer saw (see `declared`). */
let open = /** @type {Node[]} */ ([]);
// Tags the parser inserts after the loader: the observer runs before the parser runs them.
const observer = new MutationObserver((records) => {
  declared();
  let last;
  for (const r of records) {
    for (const n of Array.from(r.addedNodes)) {
      check(n, false);
      if (n.nodeType === 1 && !placed.has(n)) last = n;
    }
  }
  // (the parser inserts at its deepest open element: the last node it inserted, or an ancestor of it)
  if (last && document.readyState === 'loading') for (open = []; last; last = last.parentNode) open.push(last);
});
/**
 * A shadow root the parser declared on an element after the observer had seen it (the parse paused
 * between the host's start tag and its template) makes no mutation: the elements open then are looked
 * at again on each later batch, and when the parse ends.
 */
function declared() {
  for (const el of open) shadow(el, false);
}
document.addEventListener('DOMContentLoaded', declared);

/**
 * The service a URL belongs to, unless the config allow-lists it. With `early`, a third-party URL
 * the page's script uses before the config arrived is UNKNOWN.
 * @param {string} url
 * @param {boolean} [early]
 * @returns {Service | null}
 */
function tracker(url, early) {
  const s = table.classify(url);
  if (s || !early || classified) return s;
  try {
    const u = new URL(url, location.href);
    return /^(https?|wss?):$/.test(u.protocol) && u.host !== location.host ? UNKNOWN : null;
  } catch {
    return null;
  }
}
/** The name of the service a URL belongs to. */
export const serviceAt = (/** @type {string} */ url) => tracker(url)?.name;
export const serviceTable = table;

/** Its purpose is allowed, or the visitor allows the service always. */
function allows(/** @type {{ purpose: string, name: string }} */ s) {
  try {
    return api.allowed(s.purpose, { service: s.name });
  } catch {
    return false;
  }
}
/** Why something is held, for the report. */
export function why(/** @type {string} */ purpose) {
  if (purpose === '?') return 'a third-party host seen before the config arrived';
  return `${state.client || state.stored ? 'the visitor has not allowed' : 'no decision yet on'} \`${purpose}\``;
}
/**
 * The report keeps the element: its service, purpose and state are read from it when asked.
 * @param {Service} s
 * @param {unknown} url
 * @param {string} kind
 * @param {Element} [el]
 */
function note(s, url, kind, el) {
  blocked.push({ service: s.name, purpose: s.purpose, kind, url: String(url), el, reason: why(s.purpose) });
}
/** A frame the page shows, which a placeholder stands in for while it is held. */
export const shown = (/** @type {Element} */ el) => el.tagName === 'IFRAME' && !hidden(el);

/**
 * Holds an element inert in the gated-tag form the activation chain runs. `byPage`: the page's script
 * inserted it (not the parser), so it can run in place later.
 * @param {HTMLElement} el
 * @param {Service} s
 * @param {string} url
 * @param {boolean} byPage
 */
function hold(el, s, url, byPage) {
  const tag = el.tagName;
  if (byPage) insertedByPage.add(el);
  else insertedByPage.delete(el);
  const type = el.getAttribute('type');
  setAttr.call(el, 'data-category', s.purpose);
  setAttr.call(el, 'data-service', s.name);
  setAttr.call(el, 'data-assent-held', '');
  if (tag === 'SCRIPT') {
    if (type && type !== 'text/plain') setAttr.call(el, 'data-type', type);
    setAttr.call(el, 'type', 'text/plain'); // a script of an unknown type is neither fetched nor run
  } else {
    setAttr.call(el, `data-${URL_ATTR[tag]}`, url);
    el.removeAttribute(URL_ATTR[tag]);
    const srcset = el.getAttribute('srcset');
    if (srcset !== null) {
      setAttr.call(el, 'data-srcset', srcset);
      el.removeAttribute('srcset');
    }
  }
  // A frame the parser inserted is already navigating, and its page can commit in a process of its own
  // before anything here runs; taking its `src` away does not undo that. A copy without it takes its
  // place: the frame and whatever it loaded go, and the copy only ever shows the placeholder.
  if (tag === 'IFRAME' && !byPage && el.isConnected) {
    const copy = /** @type {HTMLElement} */ (el.cloneNode());
    replaceWith.call(el, copy);
    el = copy;
  }
  if (!classified) heldEarly.push(el); // classified again once the config arrives
  // An image outside the page is a pixel: dropped (if it is inserted later, it waits like any tag).
  const pixel = tag === 'IMG' && !el.isConnected && el.ownerDocument === document; // not markup's <template> copy
  // A held frame shows a placeholder, which the wasm renders (once the frame is in the page), unless
  // the stored decision lets it run once the config is known (a service the visitor allows always).
  if (s !== UNKNOWN && shown(el)) placeholder(el);
  // A dropped pixel ends like a failed load (once), so code waiting for it (track, then navigate) goes on.
  if (pixel && s !== UNKNOWN && !failedLoads.has(el)) {
    failedLoads.add(el);
    setTimeout(() => el.dispatchEvent(new Event('error')));
  }
  note(s, url, pixel ? 'pixel' : tag.toLowerCase(), el);
}

/**
 * After the config (and the stored decision's own pass over the page): a frame still held needs the
 * wasm to draw its placeholder. (`el` may be a copy in markup that the page never inserts: what counts
 * is what the page holds.)
 * @param {Element} el
 */
export function placeholder(el) {
  config().then(() => {
    setTimeout(() => {
      if (el.hasAttribute('data-assent')) return;
      if (state.client) use('rescan', []);
      else if (pending().some(shown)) boot();
    });
  });
}

/** A tag the page marked for gating (data-category) and left inert (type text/plain). */
const marked = (/** @type {Element} */ el) =>
  /** @type {HTMLScriptElement} */ (el).type === 'text/plain' && el.hasAttribute('data-category') && !el.hasAttribute('data-assent-held');

/**
 * An ordered script (`async = false`) inserted while an earlier one is held before the config
 * arrives waits too, whatever its host: released after it, it cannot overtake it.
 * @param {Element} el
 * @param {Service | null} s
 * @param {boolean} early
 */
function behind(el, s, early) {
  if (/** @type {HTMLScriptElement} */ (el).async === false && early && !classified) {
    if (!s && ordered) s = UNKNOWN;
    if (s) ordered = true;
  }
  return s;
}

/**
 * One element about to be inserted, or just inserted.
 * @param {HTMLElement} el
 * @param {boolean} early the page's script inserts it (see `check`)
 */
function inspect(el, early) {
  const held = el.hasAttribute('data-assent-held') && !el.hasAttribute('data-assent');
  // A held script whose type the page set again after its src: held again.
  if (held && el.tagName === 'SCRIPT' && /** @type {HTMLScriptElement} */ (el).type !== 'text/plain') {
    setAttr.call(el, 'data-type', el.getAttribute('type') || '');
    setAttr.call(el, 'type', 'text/plain');
  }
  // One it held while out of the page, inserted once its purpose is allowed: it runs now.
  if (held) {
    // (held before the page set `async = false` on it: the scripts after it in the chain wait too)
    behind(el, UNKNOWN, early);
    if (allows({ purpose: el.getAttribute('data-category') || '', name: el.getAttribute('data-service') || '' })) {
      // (A frame may still show its placeholder: the client removes it as it runs the frame.)
      Promise.resolve().then(() => {
        if (!el.isConnected) return;
        if (state.client) use('rescan', []);
        else run([el]);
      });
    } else if (shown(el)) placeholder(el); // inserted after the config
    return;
  }
  const url = URL_ATTR[el.tagName] && el.getAttribute(URL_ATTR[el.tagName]);
  // A tag marked with data-category is skipped only when it really is inert (type text/plain): a
  // marked tag that was left live is held like any other.
  if (!url || marked(el) || el.hasAttribute('data-assent')) return;
  const s = behind(el, tracker(url, early), early);
  // Each tracker element and URL once: the observer sees again what the insertion wrappers saw.
  if (!s || seen.get(el) === url) return;
  seen.set(el, url);
  if (!allows(s)) hold(el, s, url, early);
}

/**
 * A node about to be inserted, and everything inside it. Never throws into the page's call.
 * `early`: the page's script inserts it, so holding an unclassified one briefly is safe (the parser's
 * own scripts are not held that way: later scripts may depend on them).
 * @param {unknown} n
 * @param {boolean} early
 */
function check(n, early) {
  // (Node types, not `instanceof`: a node made in another frame's document is checked too. 1 is an
  // element, 11 a fragment.)
  const node = /** @type {any} */ (n);
  try {
    if (early) placed.add(node); // (a string throws here: there is nothing in it to check)
    if (node?.nodeType === 1) inspect(node, early);
    shadow(node, early);
    if (node?.querySelectorAll && (node.nodeType === 11 || node.firstElementChild)) {
      // (An index loop: this runs on every insertion of a subtree, mostly over an empty list.)
      const found = node.querySelectorAll('script,iframe,img,link');
      for (let i = 0; i < found.length; i++) inspect(found[i], early);
    }
  } catch {
    // the page's own call goes on
  }
}

/**
 * Declarative shadow DOM in the page's markup: the observer sees inside it too.
 * @param {any} node
 * @param {boolean} early
 */
function shadow(node, early) {
  const root = node?.shadowRoot;
  if (root && !roots.includes(root)) {
    observe(root);
    check(root, early);
  }
}

function observe(/** @type {ShadowRoot} */ root) {
  roots.push(root);
  observer.observe(root, OBSERVE);
}

/**
 * Replaces a method: `f(original, arguments)` runs in its place.
 * @param {any} proto
 * @param {string} name
 * @param {(this: any, orig: Function, args: any[]) => unknown} f
 */
function wrap(proto, name, f) {
  const orig = proto?.[name];
  if (orig) {
    proto[name] = function (/** @type {any[]} */ ...args) {
      return f.call(this, orig, args);
    };
  }
}
/**
 * Insertion: the node arguments (from `from` to before `to`) of every DOM method that inserts.
 * @param {any} proto
 * @param {string[]} names
 * @param {number} from
 * @param {number} to
 */
function guard(proto, names, from, to) {
  for (const name of names) {
    wrap(proto, name, function (orig, args) {
      for (let i = from; i < Math.min(to, args.length); i++) check(args[i], true);
      return orig.apply(this, args);
    });
  }
}
/**
 * Replaces a property's setter: `set(original setter, value)` runs in its place.
 * @param {any} proto
 * @param {string} prop
 * @param {(this: any, orig: (v: unknown) => void, v: unknown) => void} set
 */
function hook(proto, prop, set) {
  const desc = proto && Object.getOwnPropertyDescriptor(proto, prop);
  if (desc?.set) {
    const orig = desc.set;
    Object.defineProperty(proto, prop, {
      configurable: true,
      get: desc.get,
      set(v) {
        set.call(this, orig, v);
      },
    });
  }
}

/**
 * Markup, rewritten through an inert <template> when it names a tracker host. Scripts inserted as
 * markup never run, so they are only marked as done; document.write's do run (`written`), so they are
 * held. Returns null (use the page's own value) unless it held something. Markup the page passed as
 * TrustedHTML comes back as TrustedHTML (through the `assent` policy); a string stays a string.
 * @param {unknown} html
 * @param {boolean} [written]
 * @param {boolean} [trusted]
 */
function clean(html, written, trusted) {
  let parsed = false;
  try {
    const text = String(html);
    if (!table.mayName(text) && !ODD_MARKUP.test(text)) return null;
    // Asked only of markup that may name a tracker: every other write goes by untouched, at once.
    trusted ??= isTrusted(html);
    const kind = (/** @type {string} */ s) => (trusted ? trustedHTML(s) : s);
    // It may name a tracker, and what the loader holds could not be written back: nothing is written.
    if (trusted && refused()) return kind('');
    const t = document.createElement('template');
    // What it held shows in `blocked`.
    const before = blocked.length;
    let changed = false;
    innerHTML.set?.call(t, kind(text));
    parsed = true;
    for (const el of Array.from(t.content.querySelectorAll('script,iframe,img,link'))) {
      if (el.tagName !== 'SCRIPT' || written) inspect(/** @type {HTMLElement} */ (el), false);
      else if (!marked(el) && tracker(el.getAttribute('src') || '')) {
        // a gated one runs on consent, as any
        setAttr.call(el, 'data-assent', 'inert');
        changed = true;
      }
    }
    // The page inserts a copy of this markup: the report finds each held element's copy by its mark.
    for (const b of blocked.slice(before)) {
      b.mark = String(++marks);
      if (b.el) setAttr.call(b.el, 'data-assent-held', b.mark);
    }
    if (!changed && blocked.length === before) return null;
    const out = innerHTML.get?.call(t);
    // document.write's markup may leave elements open for a later write (an ad slot's `<div>`), or
    // close one an earlier write opened: it ends with the page's own end tags, not the template's.
    return kind(written ? out.replace(TAIL, '') + /** @type {RegExpMatchArray} */ (text.match(TAIL))[0] : out);
  } catch (e) {
    // A string where the page requires TrustedHTML: the browser refused it here, as it would the page's
    // own write, so the page gets that refusal (once, not twice).
    if (!parsed && !trusted && trustedTypesIn) throw e;
    return null;
  }
}

/**
 * A URL set on an element (`new Image().src`, `script.src` before insertion): whether it is held
 * instead of set.
 * @param {HTMLElement} el
 * @param {unknown} value
 */
function intercept(el, value) {
  const url = String(value);
  let s = tracker(url, true);
  const done = el.hasAttribute('data-assent');
  // Marked by the page and inert: its own category decides when it runs, not the tracker table's.
  // A frame or image that ran goes on with its own service (a player's next video); pointed at another
  // tracker, it is checked again. (A script runs once, whatever its src becomes.)
  if (marked(el) || (done && (el.tagName === 'SCRIPT' || !s || s === UNKNOWN || ranFor.get(el) === s.name))) return false;
  s = behind(el, s, true);
  if (!s || allows(s)) return false;
  el.removeAttribute('data-assent'); // held again: it may run again
  hold(el, s, url, true);
  return el.tagName !== 'SCRIPT'; // a held script keeps its src: its type keeps it inert
}

/**
 * A request to a tracker host: dropped and counted (never queued for later). Whether it was dropped.
 * @param {unknown} target
 * @param {string} kind
 */
function drop(target, kind) {
  const url = target instanceof Request ? target.url : String(target);
  const s = tracker(url);
  if (!s || allows(s)) return false;
  note(s, url, kind);
  return true;
}

/** Installs every hook, before any other script on the page runs. */
export function install() {
  guard(Node.prototype, ['appendChild', 'insertBefore', 'replaceChild'], 0, 1);
  guard(E, ['append', 'prepend', 'before', 'after', 'replaceWith', 'replaceChildren'], 0, 1e9);
  guard(DocumentFragment.prototype, ['append', 'prepend', 'replaceChildren'], 0, 1e9); // shadow roots
  guard(E, ['insertAdjacentElement'], 1, 2);
  guard(window.Range?.prototype, ['insertNode'], 0, 1);
  // Shadow roots a script attaches, closed ones too: observed, and searched for held elements.
  wrap(E, 'attachShadow', function (orig, args) {
    const root = orig.apply(this, args);
    observe(root);
    return root;
  });
  /** @type {(this: Element, orig: (v: unknown) => void, v: unknown, outer?: boolean) => void} */
  const sink = function (orig, v, outer) {
    // The text of a script or style is not markup (but `outerHTML` replaces the element itself: its
    // new markup is parsed in the parent, so it is always cleaned).
    const text = !outer && /^(SCRIPT|STYLE|TEXTAREA|TITLE|NOSCRIPT|XMP)$/.test(this.tagName);
    const c = text ? null : clean(v);
    orig.call(this, c === null ? v : c);
  };
  hook(E, 'innerHTML', sink);
  hook(E, 'outerHTML', function (orig, v) {
    sink.call(this, orig, v, true);
  });
  hook(window.ShadowRoot?.prototype, 'innerHTML', sink);
  wrap(E, 'insertAdjacentHTML', function (orig, args) {
    const c = clean(args[1]);
    return orig.call(this, args[0], c === null ? args[1] : c);
  });
  for (const name of ['write', 'writeln']) {
    wrap(Document.prototype, name, function (orig, args) {
      const c = clean(args.join(''), true, args.length > 0 && args.every(isTrusted));
      return c === null ? orig.apply(this, args) : orig.call(this, c);
    });
  }
  for (const name of ['Script', 'IFrame', 'Image', 'Link']) {
    hook(/** @type {any} */ (window)[`HTML${name}Element`]?.prototype, name === 'Link' ? 'href' : 'src', function (orig, v) {
      if (!intercept(this, v)) orig.call(this, v);
    });
  }
  E.setAttribute = function (/** @type {[string, string]} */ ...args) {
    if (URL_ATTR[this.tagName] === String(args[0]).toLowerCase() && intercept(/** @type {HTMLElement} */ (this), args[1])) return;
    return setAttr.apply(this, args);
  };
  wrap(window, 'fetch', (orig, args) =>
    drop(args[0], 'fetch') ? Promise.reject(new TypeError('assent: blocked until its purpose is allowed')) : orig.apply(window, args),
  );
  wrap(navigator, 'sendBeacon', (orig, args) => drop(args[0], 'beacon') || orig.apply(navigator, args));
  const XHR = window.XMLHttpRequest?.prototype;
  wrap(XHR, 'open', function (orig, args) {
    opened.set(this, args);
    delete this.readyState; // a dropped request's state ends when the page opens it again
    return orig.apply(this, args);
  });
  // A dropped XHR is never sent: it fails as a network error does, with nothing on the console. A
  // synchronous one throws a NetworkError; an asynchronous one reaches readyState 4 with status 0,
  // then fires `readystatechange`, `error` and `loadend`, as the XHR standard's network error does.
  wrap(XHR, 'send', function (orig, args) {
    const o = opened.get(this);
    if (!o || !drop(o[1], 'xhr')) return orig.apply(this, args);
    if (o[2] === false) throw new DOMException('assent: blocked until its purpose is allowed', 'NetworkError');
    setTimeout(() => {
      Object.defineProperty(this, 'readyState', { configurable: true, get: () => 4 });
      this.dispatchEvent(new Event('readystatechange'));
      for (const type of ['error', 'loadend']) this.dispatchEvent(new ProgressEvent(type));
    });
  });
  observer.observe(document.documentElement, OBSERVE);
}

/**
 * The config's changes to the table; elements held before it arrived are classified again.
 * @param {any} json the config
 */
export function configure(json) {
  classified = true;
  table.configure(json?.blocking);
  /** @type {Element[]} */
  const free = [];
  const all = heldEarly.concat(find('[data-assent-held]'));
  for (const el of all.filter((el, i) => all.indexOf(el) === i)) {
    if (el.hasAttribute('data-assent')) continue;
    const a = URL_ATTR[el.tagName];
    const s = tracker(el.getAttribute(a) || el.getAttribute(`data-${a}`) || '');
    if (s) {
      setAttr.call(el, 'data-category', s.purpose);
      setAttr.call(el, 'data-service', s.name);
      if (el.tagName === 'IFRAME') placeholder(el);
    } else release(el, free);
  }
  heldEarly = [];
  // After the stored decision's pass: an ordered script released here must not overtake the held
  // tracker before it, which that pass may run.
  Promise.resolve().then(() => run(free));
}

/**
 * Not a tracker after all: back to what the page wrote, loading now (an element in the page, or an
 * image, through the activation chain; a script not in the page yet runs when it is inserted).
 * @param {Element} el
 * @param {Element[]} free
 */
function release(el, free) {
  released.add(el);
  for (const n of ['data-category', 'data-service', 'data-assent-held']) el.removeAttribute(n);
  if (el.isConnected || el.tagName !== 'SCRIPT') {
    free.push(el);
    return;
  }
  const type = el.getAttribute('data-type');
  if (type) setAttr.call(el, 'type', type);
  else el.removeAttribute('type');
  el.removeAttribute('data-type');
}
