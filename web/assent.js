/*! Assent loader | MIT OR Apache-2.0 */
// Loaded synchronously as the first tag in <head>. It holds no policy: it reads the stored form that
// the core wrote (see ARCHITECTURE.md, "The loader/core split") and, when that form covers this page
// view exactly, activates the allowed tags without the wasm. Everything else goes to the wasm client.
(function (w, d) {
  'use strict';
  if (w.assent && w.assent._) return;

  var me = d.currentScript;
  var base = me ? me.src.replace(/[^/]*$/, '') : '';
  var configUrl = me && me.getAttribute('data-config');
  var region = ((me && me.getAttribute('data-region')) || '').trim().toUpperCase();
  // The timezone matters only when the page's region names no place: read it only then. Codes ISO 3166
  // leaves to users (a CDN's XX for unknown) and typos count as none (as Region::parse in the core).
  var placed = /^(?!AA|ZZ|EU|AP|Q[M-Z]|X[A-JL-Z])[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(region);
  var timezone = '';
  if (!placed) {
    try { timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { /* no Intl */ }
  }
  var gpc = w.navigator.globalPrivacyControl === true;

  // --- Automatic blocking (docs/blocking.md) ---
  // From this synchronous moment on, a script, iframe, image or stylesheet whose URL belongs to a known
  // tracker is held inert (in place, attributes kept) until its purpose is allowed, and requests to
  // tracker hosts are dropped. The table is generated from data/trackers.json by `cargo xtask dist`
  // (assent_core::trackers::loader_table): `purpose|name|host/path,…` per service.
  var services = [];
  var allowList = [];
  var classified = false; // the config's additions are known
  // Until then, a third-party element the page injects may belong to a service only the config names.
  var UNKNOWN = { purpose: '?', name: '(waiting for the config)' };
  var held = []; // elements held before the config arrived, in or out of the page
  var blocked = []; // what assent.report() lists
  var marks = 0; // held elements in markup, numbered (see clean)
  '@TRACKERS@'.split(';').forEach(function (row) {
    var f = row.split('|');
    if (f[2]) services.push({ purpose: f[0], name: f[1], match: f[2].split(',') });
  });
  // Host → [service index, path prefix] of every pattern on it, and one regex of all the hosts: a URL
  // costs a lookup per label of its host, and markup one regex test.
  var byHost, hostRe, selfTracked;
  function index() {
    byHost = {};
    services.forEach(function (s, i) {
      s.match.forEach(function (m) {
        var h = m.split('/')[0];
        (byHost[h] = byHost[h] || []).push([i, m.slice(h.length) || '/']);
      });
    });
    hostRe = new RegExp('(^|[^a-z0-9-])(' + (Object.keys(byHost).join('|').replace(/\./g, '\\.') || '$^') + '|google\\.(com?\\.)?[a-z]{2})($|[^a-z0-9-])', 'i');
    selfTracked = hostRe.test(location.hostname); // then relative URLs can be trackers too
  }
  index();
  // A host (with a dot, not at either end) and an optional path: assent_core::trackers::is_pattern.
  var PATTERN = /^[a-z0-9-][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9-](\/[^?# |;,]*)?$/;
  // The URL attribute of each element type that loads something.
  var URL_ATTR = { SCRIPT: 'src', IFRAME: 'src', IMG: 'src', LINK: 'href' };
  var E = Element.prototype;
  var setAttr = E.setAttribute;
  var inner = Object.getOwnPropertyDescriptor(E, 'innerHTML');

  // A URL whose host only the URL parser reads as one: percent-escapes or non-ASCII (a dot like `。`) in
  // the host, or a tab or newline anywhere (browsers strip them). The parser reads `\` as `/`, and
  // `http:host` as `http://host`.
  var ODD_HOST = /^([a-z][\w+.-]*:[\/\\]*|[^?#]*?[\/\\]{2})[^/\\?#]*(%|[^\x00-\x7f])|[\t\n\r]/i;
  // In markup: a URL attribute whose host has an entity, a percent-escape or a non-ASCII character.
  var ODD_MARKUP = /(src|href)\s*=\s*["']?([a-z]+:)?[\/\\]{2}[^"'\s>/\\?#]*(&#|&period;|%|[^\x00-\x7f])/i;
  // The service a URL belongs to, unless the config allow-lists it (same rule as assent_core::trackers).
  // With `unknown`, a third-party URL seen before the config arrived is UNKNOWN.
  function tracker(url, unknown) {
    var u;
    // A URL that names no tracker host is no tracker: no parsing (the common case), unless its host is
    // spelled so that only the parser sees it (ODD_HOST).
    if (!(unknown && !classified) && !selfTracked && !hostRe.test(url) && !ODD_HOST.test(url)) return null;
    try { u = new URL(url, location.href); } catch (e) { return null; }
    if (!/^(https?|wss?):$/.test(u.protocol)) return null;
    // (Google's country domains serve google.com's Ads and Maps paths: assent_core::trackers does the same.)
    var h = u.hostname.replace(/\.$/, '').replace(/(^|\.)google\.(com?\.)?[a-z]{2}$/, '$1google.com');
    var hit = function (m) {
      var i = m.indexOf('/');
      var host = i < 0 ? m : m.slice(0, i);
      return (h === host || h.slice(-host.length - 1) === '.' + host) && u.pathname.indexOf(i < 0 ? '/' : m.slice(i)) === 0;
    };
    // The first service in table order with a pattern on the host or a parent domain of it.
    var best = -1;
    for (var x = h; x; x = x.slice(x.indexOf('.') + 1 || x.length)) {
      (byHost[x] || []).forEach(function (c) {
        if (u.pathname.indexOf(c[1]) === 0 && (best < 0 || c[0] < best)) best = c[0];
      });
    }
    if (best >= 0) return allowList.some(hit) ? null : services[best];
    return unknown && !classified && u.host !== location.host ? UNKNOWN : null;
  }
  // Its purpose is allowed, or the visitor allows the service always.
  function allows(s) {
    try {
      return api.allowed(s.purpose, { service: s.name });
    } catch (e) {
      return false;
    }
  }
  function why(purpose) {
    return purpose === '?' ? 'a third-party host seen before the config arrived'
      : (client || stored ? 'the visitor has not allowed `' : 'no decision yet on `') + purpose + '`';
  }
  // The report keeps the element: its service, purpose and state are read from it when asked.
  function note(s, url, kind, el) {
    blocked.push({ service: s.name, purpose: s.purpose, kind: kind, url: String(url), el: el, reason: why(s.purpose) });
  }
  // Holds an element inert in the gated-tag form the activation chain runs (see `pending`).
  // `own`: the page's script inserted it (not the parser), so it can run in place later.
  function hold(el, s, url, own) {
    var t = el.tagName;
    el.assentOwn = own;
    var type = el.getAttribute('type');
    setAttr.call(el, 'data-category', s.purpose);
    setAttr.call(el, 'data-service', s.name);
    setAttr.call(el, 'data-assent-held', '');
    if (!classified) held.push(el); // classified again once the config arrives
    if (t === 'SCRIPT') {
      if (type && type !== 'text/plain') setAttr.call(el, 'data-type', type);
      setAttr.call(el, 'type', 'text/plain'); // a script of an unknown type is neither fetched nor run
    } else {
      setAttr.call(el, 'data-' + URL_ATTR[t], url);
      el.removeAttribute(URL_ATTR[t]);
      if (el.hasAttribute('srcset')) {
        setAttr.call(el, 'data-srcset', el.getAttribute('srcset'));
        el.removeAttribute('srcset');
      }
    }
    // An image outside the page is a pixel: dropped (if it is inserted later, it waits like any tag).
    var pixel = t === 'IMG' && !el.isConnected && el.ownerDocument === d; // not markup's <template> copy
    // A held frame shows a placeholder, which the wasm renders (once the frame is in the page), unless
    // the stored decision lets it run once the config is known (a service the visitor allows always).
    if (s !== UNKNOWN && shown(el)) placeholder(el);
    // A dropped pixel ends like a failed load (once), so code waiting for it (track, then navigate) goes on.
    if (pixel && s !== UNKNOWN && !el.assentErr) {
      el.assentErr = 1;
      setTimeout(function () { el.dispatchEvent(new Event('error')); });
    }
    note(s, url, pixel ? 'pixel' : t.toLowerCase(), el);
  }
  // A frame the page shows, which a placeholder stands in for while it is held. One the page keeps out
  // of sight (a tracking frame: 1×1, hidden) gets none: its buttons would be invisible yet reachable
  // with Tab. The client's `unseen` is the same rule.
  function shown(el) {
    var style = (el.getAttribute('style') || '').toLowerCase().replace(/\s/g, '');
    return el.tagName === 'IFRAME' && !(parseInt(el.getAttribute('width'), 10) <= 2 || parseInt(el.getAttribute('height'), 10) <= 2 ||
      el.hasAttribute('hidden') || /display:none|visibility:hidden/.test(style));
  }
  // After the config (and the stored decision's own pass over the page): a frame still held needs the
  // wasm to draw its placeholder.
  function placeholder(el) {
    config.then(function () {
      setTimeout(function () {
        // (`el` may be a copy in markup that the page never inserts: what counts is what the page holds.)
        if (!el.hasAttribute('data-assent')) client ? use('rescan', []) : pending().some(shown) && boot();
      });
    });
  }
  function inspect(el, unknown) {
    // A held script whose type the page set again after its src: held again.
    if (el.tagName === 'SCRIPT' && el.hasAttribute('data-assent-held') && !el.hasAttribute('data-assent') && el.type !== 'text/plain') {
      setAttr.call(el, 'data-type', el.getAttribute('type') || '');
      setAttr.call(el, 'type', 'text/plain');
    }
    // One it held while out of the page, inserted once its purpose is allowed: it runs now.
    if (el.hasAttribute('data-assent-held') && !el.hasAttribute('data-assent')) {
      // (held before the page set `async = false` on it: the scripts after it in the chain wait too)
      behind(el, UNKNOWN, unknown);
      if (allows({ purpose: el.getAttribute('data-category'), name: el.getAttribute('data-service') })) {
        // (A frame may still show its placeholder: the client removes it as it runs the frame.)
        Promise.resolve().then(function () { if (el.isConnected) client ? use('rescan', []) : run([el]); });
      } else if (shown(el)) placeholder(el); // inserted after the config
      return;
    }
    var url = URL_ATTR[el.tagName] && el.getAttribute(URL_ATTR[el.tagName]);
    // Each element and URL once (the observer sees again what the insertion wrappers saw).
    // A tag marked with data-category is skipped only when it really is inert (type text/plain): a
    // marked tag that was left live is held like any other.
    if (!url || el.assentSeen === url || marked(el) || el.hasAttribute('data-assent')) return;
    el.assentSeen = url;
    var s = behind(el, tracker(url, unknown), unknown);
    if (s && !allows(s)) hold(el, s, url, unknown);
  }
  // A tag the page marked for gating (data-category) and left inert (type text/plain).
  function marked(el) {
    return el.type === 'text/plain' && el.hasAttribute('data-category') && !el.hasAttribute('data-assent-held');
  }
  // An ordered script (`async = false`) inserted while an earlier one is held before the config
  // arrives waits too, whatever its host: released after it, it cannot overtake it.
  function behind(el, s, unknown) {
    if (el.async === false && unknown && !classified) {
      if (!s && inOrder) s = UNKNOWN;
      if (s) inOrder = 1;
    }
    return s;
  }
  // A node about to be inserted, and everything inside it. Never throws into the page's call.
  // `unknown`: the page's script inserts it, so holding an unclassified one briefly is safe (the parser's
  // own scripts are not held that way: later scripts may depend on them).
  function check(n, unknown) {
    try {
      if (n && n.nodeType === 1) inspect(n, unknown);
      // Declarative shadow DOM in the page's markup: the observer must see inside it too.
      if (n && n.shadowRoot && mo && roots.indexOf(n.shadowRoot) < 0) {
        roots.push(n.shadowRoot);
        mo.observe(n.shadowRoot, OBSERVE);
        check(n.shadowRoot, unknown);
      }
      if (n && n.querySelectorAll && (n.nodeType === 11 || n.firstElementChild)) {
        [].forEach.call(n.querySelectorAll('script,iframe,img,link'), function (el) { inspect(el, unknown); });
      }
    } catch (e) { /* the page's own call goes on */ }
  }
  function wrap(proto, name, f) {
    var orig = proto && proto[name];
    if (orig) proto[name] = function () { return f.call(this, orig, arguments); };
  }
  // Insertion: the node arguments of every DOM method that inserts.
  function guard(proto, names, from, to) {
    names.forEach(function (name) {
      wrap(proto, name, function (orig, args) {
        for (var i = from; i < Math.min(to, args.length); i++) check(args[i], 1);
        return orig.apply(this, args);
      });
    });
  }
  guard(Node.prototype, ['appendChild', 'insertBefore', 'replaceChild'], 0, 1);
  guard(E, ['append', 'prepend', 'before', 'after', 'replaceWith', 'replaceChildren'], 0, 1e9);
  guard(DocumentFragment.prototype, ['append', 'prepend', 'replaceChildren'], 0, 1e9); // shadow roots
  guard(E, ['insertAdjacentElement'], 1, 2);
  // Shadow roots a script attaches, closed ones too: observed, and searched for held elements.
  wrap(E, 'attachShadow', function (orig, args) {
    var r = orig.apply(this, args);
    roots.push(r);
    mo.observe(r, OBSERVE);
    return r;
  });
  guard(w.Range && Range.prototype, ['insertNode'], 0, 1);
  // Markup: rewritten through an inert <template> when it names a tracker host. Scripts inserted as
  // markup never run, so they are only marked as done; document.write's do run, so they are held.
  // Returns null (use the page's own value) unless it held something.
  function clean(html, scripts) {
    try {
      var text = '' + html;
      if (!hostRe.test(text) && !ODD_MARKUP.test(text)) return null;
      var t = d.createElement('template');
      // What it held shows in `blocked` (`held` only lists what is held before the config arrives).
      var n = blocked.length;
      var changed = false;
      inner.set.call(t, text);
      [].forEach.call(t.content.querySelectorAll('script,iframe,img,link'), function (el) {
        if (el.tagName !== 'SCRIPT' || scripts) inspect(el);
        else if (!marked(el) && tracker(el.getAttribute('src'))) { // a gated one runs on consent, as any
          setAttr.call(el, 'data-assent', 'inert');
          changed = true;
        }
      });
      // The page inserts a copy of this markup: the report finds each held element's copy by its mark.
      blocked.slice(n).forEach(function (b) {
        b.mark = String(++marks);
        setAttr.call(b.el, 'data-assent-held', b.mark);
      });
      if (!changed && blocked.length === n) return null;
      var out = inner.get.call(t);
      // document.write's markup may leave elements open for a later write (an ad slot's `<div>`), or
      // close one an earlier write opened: it ends with the page's own end tags, not the template's.
      return scripts ? out.replace(TAIL, '') + text.match(TAIL)[0] : out;
    } catch (e) {
      return null; // e.g. Trusted Types: the page's value goes through untouched
    }
  }
  var TAIL = /(<\/[^>]+>\s*)*$/; // the end tags markup ends with
  // Replaces a property's setter: `set(original setter, value)` runs in its place.
  function hook(proto, prop, set) {
    var desc = proto && Object.getOwnPropertyDescriptor(proto, prop);
    if (desc && desc.set) {
      Object.defineProperty(proto, prop, { configurable: true, get: desc.get, set: function (v) { set.call(this, desc.set, v); } });
    }
  }
  function sink(orig, v, outer) {
    // The text of a script or style is not markup (but `outerHTML` replaces the element itself: its
    // new markup is parsed in the parent, so it is always cleaned).
    var c = !outer && /^(SCRIPT|STYLE|TEXTAREA|TITLE|NOSCRIPT|XMP)$/.test(this.tagName) ? null : clean(v);
    orig.call(this, c === null ? v : c);
  }
  hook(E, 'innerHTML', sink);
  hook(E, 'outerHTML', function (orig, v) { sink.call(this, orig, v, 1); });
  hook(w.ShadowRoot && ShadowRoot.prototype, 'innerHTML', sink);
  wrap(E, 'insertAdjacentHTML', function (orig, args) {
    var c = clean(args[1]);
    return orig.call(this, args[0], c === null ? args[1] : c);
  });
  ['write', 'writeln'].forEach(function (name) {
    wrap(Document.prototype, name, function (orig, args) {
      var c = clean([].join.call(args, ''), 1);
      return c === null ? orig.apply(this, args) : orig.call(this, c);
    });
  });
  // src/href set on an element (`new Image().src`, `script.src` before insertion).
  function intercept(el, url) {
    var s = tracker(url, 1);
    var done = el.hasAttribute('data-assent');
    // Marked by the page and inert: its own category decides when it runs, not the tracker table's.
    // A frame or image that ran goes on with its own service (a player's next video); pointed at another
    // tracker, it is checked again. (A script runs once, whatever its src becomes.)
    if (marked(el) || done && (el.tagName === 'SCRIPT' || !s || s === UNKNOWN || el.assentRan === s.name)) return false;
    s = behind(el, s, 1);
    if (!s || allows(s)) return false;
    el.removeAttribute('data-assent'); // held again: it may run again
    hold(el, s, url, 1);
    return el.tagName !== 'SCRIPT'; // a held script keeps its src: its type keeps it inert
  }
  ['Script', 'IFrame', 'Image', 'Link'].forEach(function (name) {
    var C = w['HTML' + name + 'Element'];
    hook(C && C.prototype, name === 'Link' ? 'href' : 'src', function (orig, v) {
      if (!intercept(this, v)) orig.call(this, v);
    });
  });
  E.setAttribute = function (name, value) {
    if (URL_ATTR[this.tagName] === ('' + name).toLowerCase() && intercept(this, value)) return;
    return setAttr.apply(this, arguments);
  };
  // Requests to tracker hosts: dropped and counted, never queued for later.
  function drop(url, kind) {
    url = url && url.url || url;
    var s = tracker(url);
    if (!s || allows(s)) return false;
    note(s, url, kind);
    return true;
  }
  wrap(w, 'fetch', function (orig, args) {
    return drop(args[0], 'fetch') ? Promise.reject(new TypeError('assent: blocked until its purpose is allowed')) : orig.apply(w, args);
  });
  wrap(w.navigator, 'sendBeacon', function (orig, args) {
    return drop(args[0], 'beacon') || orig.apply(w.navigator, args);
  });
  var XHR = w.XMLHttpRequest && XMLHttpRequest.prototype;
  var xhrOpen = XHR && XHR.open;
  wrap(XHR, 'open', function (orig, args) {
    this.assentOpen = args;
    return orig.apply(this, args);
  });
  // A dropped XHR is sent to `about:invalid` instead, so that it fails as a network error does
  // (readyState, events, and an exception for a synchronous one).
  wrap(XHR, 'send', function (orig, args) {
    var o = this.assentOpen;
    if (o && drop(o[1], 'xhr')) {
      var again = [].slice.call(o);
      again[1] = 'about:invalid';
      xhrOpen.apply(this, again);
    }
    return orig.apply(this, args);
  });
  // Tags the parser inserts after this script: the observer runs before the parser runs them.
  var OBSERVE = { childList: true, subtree: true };
  var inOrder = 0; // an ordered script is held until the config arrives
  var roots = [d]; // the document and the shadow roots seen in its markup, where held elements are found
  var mo = new MutationObserver(function (records) {
    records.forEach(function (r) { [].forEach.call(r.addedNodes, function (n) { check(n); }); });
  });
  mo.observe(d.documentElement, OBSERVE);
  // The config's changes to the table; elements held before it arrived are classified again.
  function configure(json) {
    var b = json && json.blocking;
    var later = [];
    classified = true;
    if (!b || typeof b !== 'object') b = {};
    // `auto: false` turns the database and the config's changes to it off: only `data-category` markup
    // is gated (as in the core).
    if (b.auto === false) {
      services = [];
      b = {};
    }
    // Only well-formed patterns (assent_core::trackers::is_pattern): a bad entry, which the core refuses
    // with an error, must not break the lookup for every other service.
    var patterns = function (list) {
      return Array.isArray(list) ? list.filter(function (m) { return typeof m === 'string' && PATTERN.test(m); }) : [];
    };
    (Array.isArray(b.services) ? b.services : []).forEach(function (r) {
      if (!r || typeof r.name !== 'string') return;
      var s = services.filter(function (x) { return x.name.toLowerCase() === r.name.toLowerCase(); })[0];
      if (!s && r.purpose && Array.isArray(r.match)) services.push(s = { name: r.name, match: [] });
      if (!s) return;
      if (typeof r.purpose === 'string') s.purpose = r.purpose;
      s.match = s.match.concat(patterns(r.match));
    });
    allowList = patterns(b.allow);
    index();
    held.concat(find('[data-assent-held]')).filter(function (el, i, all) {
      return all.indexOf(el) === i;
    }).forEach(function (el) {
      var a = URL_ATTR[el.tagName];
      var s = !el.hasAttribute('data-assent') && tracker(el.getAttribute(a) || el.getAttribute('data-' + a));
      if (s) {
        setAttr.call(el, 'data-category', s.purpose);
        setAttr.call(el, 'data-service', s.name);
        if (el.tagName === 'IFRAME') placeholder(el);
      } else if (!el.hasAttribute('data-assent')) {
        release(el, later);
      }
    });
    held = [];
    // After the stored decision's pass: an ordered script released here must not overtake the held
    // tracker before it, which that pass may run.
    Promise.resolve().then(function () { run(later); });
  }
  // Not a tracker after all: back to what the page wrote, loading now (an element in the page, or an
  // image, through the activation chain; a script not in the page yet runs when it is inserted).
  function release(el, later) {
    el.assentFree = true;
    ['data-category', 'data-service', 'data-assent-held'].forEach(function (n) { el.removeAttribute(n); });
    if (el.isConnected || el.tagName !== 'SCRIPT') return later ? later.push(el) : run([el]);
    var type = el.getAttribute('data-type');
    if (type) setAttr.call(el, 'type', type);
    else el.removeAttribute('type');
    el.removeAttribute('data-type');
  }

  // --- Google Consent Mode v2 ---
  // The loader only speaks Google's vocabulary: the core decides each type's state (the stored form's
  // Consent Mode field, or the client's commands), and this hands it to gtag.
  var TYPES = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage',
    'functionality_storage', 'personalization_storage', 'security_storage'];
  var sent = []; // every command this script gave gtag, in order
  function gtag() { sent.push(arguments); (w.dataLayer = w.dataLayer || []).push(arguments); }
  function consentState(letters) {
    var o = {};
    for (var i = 0; i < TYPES.length; i++) o[TYPES[i]] = letters.charAt(i) === 'g' ? 'granted' : 'denied';
    return o;
  }
  var consentMode = !!me && me.hasAttribute('data-consent-mode');
  function consentDefault() {
    var o = consentState('ddddddg'); // everything denied until decided; security storage serves what is necessary
    o.wait_for_update = +(me && me.getAttribute('data-consent-mode')) || 500;
    gtag('consent', 'default', o);
    // A page script that later assigns `dataLayer = [...]` (a pattern Google's own docs show for page
    // data) would drop the default, and Google tags with no default act as if granted: the commands
    // given so far go first in the new array.
    var layer = w.dataLayer;
    try {
      Object.defineProperty(w, 'dataLayer', { configurable: true, enumerable: true, get: function () { return layer; },
        set: function (v) {
          if (v && v !== layer && v.unshift) v.unshift.apply(v, sent.filter(function (c) { return v.indexOf(c) < 0; }));
          layer = v;
        } });
    } catch (e) { /* dataLayer defined unconfigurable by an earlier script: left as it is */ }
  }
  // Before any tag can run: this script is the first in <head>, and this runs synchronously.
  if (consentMode) consentDefault();
  var queue = [];
  var client = null;
  // A trap in the wasm (a panic aborts at once) leaves its instance unusable. The loader then lets it
  // go, answers as if nothing were allowed, runs nothing more, and says so on one console line.
  var failed = false;
  function fail(e, during) {
    if (!failed) console.error('assent: the wasm client failed in ' + during + ' (' + e + '); optional tags ' +
      'that have not run stay blocked until the page is loaded again.');
    failed = true;
    client = null;
    queue.splice(0).forEach(function (q) { q.done(undefined); });
  }
  // A client method, called so that a trap inside it ends the client instead of leaving it half-done.
  function use(name, args) {
    if (!client) return undefined;
    try {
      return client[name].apply(client, args);
    } catch (e) {
      fail(e, name);
      return undefined;
    }
  }
  // A trap in a handler or task the wasm runs (a click in the banner) reaches the page as an uncaught
  // error or rejection: take it as the client's failure, with the one line instead of the browser's.
  ['error', 'unhandledrejection'].forEach(function (type) {
    w.addEventListener(type, function (e) {
      var error = type === 'error' ? e.error : e.reason;
      var trap = w.WebAssembly && error instanceof w.WebAssembly.RuntimeError;
      // The client's module or the preferences module (assent_client…, assent_prefs…).
      if (client && trap && ('' + error.stack).indexOf(base + 'assent_') >= 0) {
        e.preventDefault();
        fail(error, 'an event handler');
      }
    });
  });
  var booting = null;
  var stored = null; // the stored decision the loader acted on, while the wasm is not loaded
  var storedIn; // its cookie's name
  // The stored decision now: another tab may have decided since (the cookie is shared), and a
  // withdrawal made there holds here too, in `allowed` and `stamp`.
  function fresh() {
    var s = stored && decode(readCookie(storedIn));
    if (s && s.receipt !== stored.receipt && s.decidedAt >= stored.decidedAt && s.noticeVersion === stored.noticeVersion) {
      stored = s;
      // As on a returning visit: Google tags hear the new state before a tag it allows runs.
      if (s.consentMode) gtag('consent', 'update', consentState(s.consentMode));
      if (!applyStored()) boot();
    }
    return stored;
  }
  var version = null; // the config's notice version, once it has arrived
  var resolveReady;
  var ready = new Promise(function (r) { resolveReady = r; });

  // Gated elements that have not run yet, in document order.
  function pending() {
    return find(
      'script[type="text/plain"][data-category],iframe[data-category][data-src],img[data-category][data-src],link[data-category][data-href]'
    ).filter(function (el) { return !el.hasAttribute('data-assent'); });
  }
  // Matching elements in the document, then in each shadow root its markup declared.
  // Roots whose host left the page are let go (a single-page app discards components).
  function find(selector) {
    roots = roots.filter(function (r) { return r === d || r.host.isConnected; });
    var all = [].concat.apply([], roots.map(function (r) { return [].slice.call(r.querySelectorAll(selector)); }));
    // In document order, an element in a shadow root at its outermost host's place.
    var top = function (n) {
      while (n.getRootNode() !== d && n.getRootNode().host) n = n.getRootNode().host;
      return n;
    };
    return roots.length > 1 ? all.sort(function (a, b) {
      var x = top(a);
      var y = top(b);
      return x === y ? 0 : x.compareDocumentPosition(y) & 4 ? -1 : 1;
    }) : all;
  }

  // Activation, one chain for the whole page so that document order holds: an external classic
  // script without `async` holds back the elements after it until it has loaded, as the parser would.
  var chain = [];
  var waiting = false;
  function run(els) {
    if (failed) return; // the wasm trapped: nothing more runs on this page view
    chain.push.apply(chain, els);
    if (!waiting) next();
  }
  function next() {
    waiting = false;
    while (chain.length) {
      var el = chain.shift();
      // Each element runs once; one the page removed meanwhile does not run.
      // (`isConnected`: a script in a subtree the page detached would never load, and stall the chain.)
      if (el.hasAttribute('data-assent') || el.tagName === 'SCRIPT' && !el.isConnected) continue;
      setAttr.call(el, 'data-assent', 'ran');
      var type = el.getAttribute('data-type');
      if (el.tagName !== 'SCRIPT') {
        if (el.hasAttribute('data-srcset')) setAttr.call(el, 'srcset', el.getAttribute('data-srcset'));
        var attr = URL_ATTR[el.tagName];
        var u = el.getAttribute('data-' + attr);
        el.assentRan = (tracker(u) || {}).name; // the service it runs for (see `intercept`)
        setAttr.call(el, attr, u);
        continue;
      }
      if (el.assentOwn) {
        // A script the page inserted: it runs in place, as the page made it (its listeners, its async),
        // by setting its type back and its src anew.
        if (type) setAttr.call(el, 'type', type);
        else el.removeAttribute('type');
        var src = el.getAttribute('src');
        el.removeAttribute('src');
        setAttr.call(el, 'src', src);
        continue;
      }
      var s = d.createElement('script');
      for (var i = 0; i < el.attributes.length; i++) {
        var a = el.attributes[i];
        if (a.name !== 'type' && a.name !== 'data-type') setAttr.call(s, a.name, a.value);
      }
      if (type) setAttr.call(s, 'type', type);
      if (el.nonce) s.nonce = el.nonce; // the nonce attribute reads empty once parsed; the property keeps it
      var external = el.hasAttribute('src');
      // In order, as the parser would: a classic external script without async (one that loads at all).
      var ordered = external && !el.hasAttribute('async') && !el.hasAttribute('nomodule') &&
        (!type || /^(module|(text|application)\/(java|ecma)script)$/i.test(type));
      if (external) s.async = !ordered;
      else s.text = el.text;
      if (ordered) {
        waiting = true;
        s.addEventListener('load', next);
        s.addEventListener('error', next);
      }
      el.parentNode.replaceChild(s, el);
      if (waiting) return;
    }
  }

  // --- The stored form (written by the core; this only reads it) ---
  function readCookie(name) {
    try {
      var m = d.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
      return m ? m[1] : null;
    } catch (e) {
      return null; // cookies blocked: behave as a first visit
    }
  }
  function decode(v) {
    var f = v ? v.split('|') : [];
    if (f.length !== 17 || f[0] !== '3') return null;
    var list = function (s) { return s ? s.split('.') : []; };
    return {
      subject: f[1], noticeVersion: f[2], decidedAt: +f[3], expiresAt: +f[4],
      granted: list(f[5]), denied: list(f[6]), fingerprint: f[7], method: f[8], region: f[9], flow: f[10],
      receipt: f[11], doNotTrain: f[12] === '1', source: f[13], gpc: f[14] === '1', persistent: f[15] === '1',
      consentMode: f[16]
    };
  }
  // FNV-1a over the UTF-8 bytes of the config text: the same function as assent-core's `config_fingerprint`.
  function fingerprint(text) {
    var bytes = new TextEncoder().encode(text);
    var h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return ('0000000' + h.toString(16)).slice(-8);
  }
  function view(s) {
    var purposes = {};
    s.granted.forEach(function (p) { purposes[p] = true; });
    s.denied.forEach(function (p) { purposes[p] = false; });
    return {
      subject: s.subject, noticeVersion: s.noticeVersion,
      decidedAt: new Date(s.decidedAt * 1000).toISOString(), expiresAt: new Date(s.expiresAt * 1000).toISOString(),
      method: s.method, region: s.region || null, flow: s.flow, receipt: s.receipt, purposes: purposes
    };
  }

  // The tracker service of a gated element: the one it names, else the one its URL belongs to (as the core's
  // `service_of`).
  function serviceOf(el) {
    var a = URL_ATTR[el.tagName];
    var s = !el.hasAttribute('data-service') && tracker(el.getAttribute('data-' + a) || el.getAttribute(a) || '');
    return el.getAttribute('data-service') || s && s.name;
  }

  // Applies the stored decision alone. Returns false when it does not cover what the page holds
  // (an element whose purpose the decision never answered, or a refused embed, whose placeholder the
  // wasm renders): then the core must decide.
  function applyStored() {
    var els = pending();
    var go = [];
    var frames = false; // a refused frame shows a placeholder, which the wasm renders
    for (var i = 0; i < els.length; i++) {
      var cat = els[i].getAttribute('data-category');
      // The service is looked up only for what the decision refuses (it may be allowed always).
      if (stored.granted.indexOf(cat) >= 0 || api.allowed(cat, { service: serviceOf(els[i]) })) go.push(els[i]);
      else if (stored.denied.indexOf(cat) < 0) return false;
      else frames = frames || shown(els[i]);
    }
    run(go);
    return !frames;
  }

  // --- Receipts: signed and delivered by assent-receipts.js, loaded only when one is made or pending ---
  var receiptsModule = null;
  var receiptsLoading = null;
  function receipts() {
    return receiptsLoading || (receiptsLoading = import(base + 'assent-receipts.js').then(function (m) {
      receiptsModule = m;
      return m;
    }));
  }
  try {
    if (w.localStorage.getItem('assent.outbox')) receipts().then(function (m) { m.flush(true); });
  } catch (e) { /* storage blocked */ }
  w.addEventListener('pagehide', function () { if (receiptsModule) receiptsModule.beacon(); });
  d.addEventListener('visibilitychange', function () {
    if (receiptsModule && d.visibilityState === 'hidden') receiptsModule.flush();
  });

  // Whether this browser already made the receipt the stored decision names (unknown storage: assume so).
  // The decision's receipt was made, and so was each kind's newest scoped choice's (a conversation's
  // AI-training choice, a service allowed always): a page that went away first leaves it to the wasm.
  function receiptMade(id) {
    try {
      var ls = w.localStorage;
      return ls.getItem('assent.receipt') === id && ['conversation', 'service'].every(function (kind) {
        var lines = ls.getItem('assent.' + kind + 's');
        return !lines || lines.slice(lines.lastIndexOf('\n') + 1).split('|')[5] === ('' + ls.getItem('assent.receipt.' + kind)).split('|')[0];
      });
    } catch (e) {
      return true;
    }
  }

  // A conversation's or a service's own choice from the stored form the core wrote (assent-core's
  // `scoped` module: `2|id|purpose|on|subject|receipt|decidedAt|expiresAt|noticeVersion` per line, newest
  // last; version 1 lines have no notice version).
  function ownChoice(id, kind) {
    if (!id) return null;
    var text = null;
    try { text = w.localStorage.getItem('assent.' + kind); } catch (e) { /* blocked */ }
    var lines = text ? text.split('\n') : [];
    for (var i = lines.length - 1; i >= 0; i--) {
      var f = lines[i].split('|');
      // Version 2 and 3 lines carry the notice version they were made under: another version's do not count
      // (the wasm decides once the config is known; before it, `version` is null and only version 1 counts).
      var current = f[0] === '1' && f.length === 8 || (f[0] === '2' && f.length === 9 || f[0] === '3' && f.length === 10) && f[8] === version;
      // Service names match in any case, as in the core; conversation ids exactly.
      var same = kind === 'services' ? f[1].toLowerCase() === ('' + id).toLowerCase() : f[1] === '' + id;
      if (current && same && +f[7] * 1000 > Date.now()) {
        return { purpose: f[2], on: f[3] === '1', receipt: f[5] };
      }
    }
    return null;
  }

  // <assent-ai-toggle conversation="…">: rendered by the wasm client into the element's own shadow
  // root. Defined here so it works wherever it is placed: the page, another component's shadow DOM,
  // or a widget iframe that loads Assent itself.
  if (w.customElements && !w.customElements.get('assent-ai-toggle')) {
    w.customElements.define('assent-ai-toggle', class extends HTMLElement {
      static get observedAttributes() { return ['conversation']; }
      connectedCallback() { call('mountToggle', [this]); }
      disconnectedCallback() { if (client) use('unmountToggle', [this]); }
      attributeChangedCallback() { if (this.isConnected && client) use('mountToggle', [this]); }
    });
  }

  // --- IAB GPP: the __gpp stub queues calls until the CMP (the wasm client) is ready ---
  var gppQueue = null;
  if (me && me.hasAttribute('data-gpp') && !w.__gpp) {
    gppQueue = [];
    w.__gpp = function (command, callback, parameter) {
      // A vendor may keep this function and call it after the CMP is ready.
      if (client || failed) return use('gpp', [command, callback, parameter]);
      if (command === 'ping') {
        return callback({ gppVersion: '1.1', cmpStatus: 'stub', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
          supportedAPIs: ['7:usnat'], cmpId: 0, sectionList: [], applicableSections: [], gppString: '', parsedSections: {} }, true);
      }
      gppQueue.push([command, callback, parameter]);
      boot();
    };
  }

  // --- The wasm client, loaded only when something must be decided, shown or sent ---
  // The config's text, with its JSON parsed once for what the loader reads in it (the cookie name,
  // Consent Mode settings), and the stored decision, read once: the fast path and the wasm start from it.
  function configFrom(text) {
    var json = null;
    try { json = JSON.parse(text); } catch (e) { /* the core reports it */ }
    return { text: text, json: json, cookie: readCookie(cookieName(json)) };
  }
  // The config: inline in the page (data-config="#id" names a <script type="application/json"> before
  // this tag, read at once), or fetched.
  var inline = configUrl && configUrl.charAt(0) === '#' && d.getElementById(configUrl.slice(1));
  var config = inline
    ? Promise.resolve(configFrom(inline.textContent))
    : configUrl && configUrl.charAt(0) === '#'
    ? Promise.resolve({ error: 'data-config="' + configUrl + '" names no element: put <script type="application/json" id="' +
        configUrl.slice(1) + '"> before the <script> tag of assent.js' })
    : configUrl
    ? fetch(configUrl, { credentials: 'same-origin' }).then(function (r) {
        return r.text().then(function (text) {
          if (!r.ok) throw new Error('HTTP ' + r.status);
          return configFrom(text);
        });
      }).then(null, function (e) {
        return { error: 'could not load config ' + configUrl + ': ' + e.message };
      })
    : Promise.resolve({ error: 'the <script> tag that loads assent.js needs data-config="/path/to/assent.json"' });

  // Requests started before the client asked for them (see `prefetch`), by URL: each is handed over once.
  var started = {};
  function handOver(url) {
    var p = started[url];
    delete started[url];
    return p || fetch(url);
  }
  function prefetch(url) {
    // Read to the end at once, so that a guess the client never asks for does not hold a request open.
    started[url] = fetch(url).then(function (r) {
      return r.text().then(function (text) { return new Response(text, r); });
    });
    started[url].then(null, function () { /* the client reports it when it asks */ });
  }
  // The glue and the wasm, fetched in parallel and compiled while the config is still on its way.
  var loading = null;
  function load() {
    if (!loading) {
      var wasm = fetch(base + 'assent_client_bg.wasm');
      wasm.then(null, function () { /* reported by boot */ });
      loading = import(base + 'assent_client.js').then(function (m) {
        return m.default({ module_or_path: wasm }).then(function () { return m; });
      });
    }
    return loading;
  }
  // The preferences module (the dialog and the AI toggle, in Leptos): the client asks for it when one
  // is first needed, or once the banner is idle. A failed load is asked for again on the next need.
  var prefsLoading = null;
  function prefs() {
    return prefsLoading || (prefsLoading = import(base + 'assent_prefs.js').then(function (m) {
      return m.default({ module_or_path: base + 'assent_prefs_bg.wasm' }).then(function () { return m; });
    }).then(null, function (e) {
      prefsLoading = null;
      throw e;
    }));
  }
  function boot() {
    return booting || (booting = Promise.all([config, load()]).then(function (both) {
      var c = both[0];
      return both[1].start({
        configText: c.text || null, configError: c.error || null, region: region || null,
        timezone: timezone || null, gpc: gpc, gtag: gtag,
        stored: c.cookie || null, base: base, run: run, pending: pending, receipts: receipts, prefs: prefs, fetch: handOver
      });
    }).then(function (c) {
      client = c;
      stored = null;
      if (gppQueue) gppQueue.splice(0).forEach(function (q) { c.gpp(q[0], q[1], q[2]); });
      queue.splice(0).forEach(function (q) { q.done(call(q.name, q.args)); });
      resolveReady(api);
      return c;
    }, function (e) {
      if (w.WebAssembly && e instanceof w.WebAssembly.RuntimeError) fail(e, 'start');
      else console.error('assent: could not start (' + e + '); optional tags stay blocked. Serve ' + base +
        'assent_client.js, and assent_client_bg.wasm as application/wasm.');
      resolveReady(api);
    }));
  }
  function cookieName(json) {
    var c = json && json.cookie;
    return (c && typeof c.name === 'string' && c.name) || 'assent';
  }
  // Consent Mode settings that need no decision, once the config has arrived.
  function consentSettings(json) {
    var cm = json && json.consentMode;
    if (!cm || typeof cm !== 'object') {
      if (consentMode && json) console.warn('assent: data-consent-mode is on the <script> tag, but the config has no ' +
        '"consentMode", so Google tags stay denied whatever the visitor decides: add "consentMode": {} to the config.');
      return;
    }
    if (!consentMode) {
      console.warn('assent: the config uses Google Consent Mode: add data-consent-mode to the <script> tag of ' +
        'assent.js, or its default is set late, after tags may have run.');
      consentMode = true;
      consentDefault();
    }
    if (cm.adsDataRedaction === true) gtag('set', 'ads_data_redaction', true);
    if (cm.urlPassthrough === true) gtag('set', 'url_passthrough', true);
  }

  // Always a Promise, whether the wasm is loaded yet or not (see assent.d.ts).
  function call(name, args) {
    if (client || failed) return Promise.resolve(use(name, args));
    return new Promise(function (done) {
      queue.push({ name: name, args: args, done: done });
      boot();
    });
  }
  function later(name) {
    return function () { return call(name, [].slice.call(arguments)); };
  }

  var api = w.assent = {
    ready: ready,
    consent: function () {
      return client || failed ? use('consent', []) || null : fresh() ? view(stored) : null;
    },
    allowed: function (purpose, options) {
      if (client || failed) return use('allowed', [purpose, options]) === true;
      // A conversation's choice decides either way; a service allowed always only widens (so storage is
      // read for it only when the decision itself refuses).
      var service = options && options.service;
      var granted = !!fresh() && stored.granted.indexOf(purpose) >= 0;
      if (service && granted) return true;
      var own = service ? ownChoice(service, 'services') : ownChoice(options && options.conversation, 'conversations');
      if (own && own.purpose === purpose && (own.on || !service)) return own.on;
      return granted;
    },
    set: later('set'),
    acceptAll: later('acceptAll'),
    rejectAll: later('rejectAll'),
    withdraw: later('withdraw'),
    showBanner: later('showBanner'),
    showPreferences: later('showPreferences'),
    // The payload plus the consent facts that must travel with it.
    stamp: function (payload, options) {
      var facts = client || failed ? use('stampFacts', [options]) : fresh() ? { receipt: stored.receipt, purposes: stored.granted.slice(), do_not_train: stored.doNotTrain } : null;
      facts = facts || { receipt: null, purposes: [], do_not_train: true };
      var own = !client && ownChoice(options && options.conversation, 'conversations');
      if (own) {
        // The conversation's own AI-training choice, as the core stored it.
        facts.receipt = own.receipt;
        facts.purposes = facts.purposes.filter(function (p) { return p !== own.purpose; });
        if (own.on) facts.purposes.push(own.purpose);
        facts.do_not_train = !own.on;
      }
      if (!client && options && options.conversation) facts.scope = 'conversation:' + options.conversation;
      var out = {};
      for (var k in payload) out[k] = payload[k];
      out.assent = facts;
      return out;
    },
    rescan: function () {
      if (client || failed) return use('rescan', []);
      if (stored && !applyStored()) boot();
    },
    // What automatic blocking held or dropped on this page view (see docs/blocking.md).
    // Elements released once the config showed they are no trackers are not listed.
    report: function () {
      return blocked.filter(function (b) { return !(b.el && b.el.assentFree); }).map(function (b) {
        var el = b.mark && d.querySelector('[data-assent-held="' + b.mark + '"]') || b.el;
        var purpose = el && el.getAttribute('data-category') || b.purpose;
        var state = el && el.hasAttribute('data-assent') ? 'ran' : el && el.isConnected ? 'held' : 'dropped';
        return { service: el && el.getAttribute('data-service') || b.service, purpose: purpose, kind: b.kind, url: b.url,
          state: state, reason: state === 'held' ? why(purpose) : b.reason };
      });
    },
    on: function (type, fn) {
      if (type !== 'change') throw new TypeError('assent.on: the only event is "change"');
      var h = function (e) { fn(e.detail); };
      d.addEventListener('assent:change', h);
      return function () { d.removeEventListener('assent:change', h); };
    },
    _: { run: run, pending: pending, fingerprint: fingerprint, decode: decode, view: view, tracker: tracker }
  };

  if (!configUrl && !me) return; // evaluated without a tag (tests): primitives only

  // The locale file the client will most likely ask for, from the first of <html lang> and the
  // browser's languages that one serves: a file named by its first two subtags or by its language. The
  // build writes the files and the core's answers for the tags that rule misses (`zh-tw:zh-Hant`;
  // xtask's `locale_guesses`). The client negotiates the real one with the config's languages: a wrong guess costs one more request,
  // never the wrong language.
  function likelyLocale() {
    var serves = {}; // lowercase tag → file: `de`, or `zh-tw:zh-Hant`
    '@LOCALES@'.split(',').forEach(function (entry) {
      var pair = entry.split(':');
      serves[pair[0].toLowerCase()] = pair[1] || pair[0];
    });
    var tags = [d.documentElement.getAttribute('lang')].concat([].slice.call(w.navigator.languages || []));
    for (var i = 0; i < tags.length; i++) {
      var sub = ('' + (tags[i] || '')).trim().replace(/_/g, '-').toLowerCase().split('-');
      var file = serves[sub.slice(0, 2).join('-')] || serves[sub[0]];
      if (file) return file;
    }
    return 'en';
  }
  // No stored form in any cookie (a first visit): the core will decide and show a banner, so its wasm,
  // its glue, the likely locale file (and the timezone table, without a usable data-region) start now,
  // beside the config, instead of one after another once it has arrived.
  function storedAnywhere() {
    try { return /(?:^|; )[^=;]+=[23]\|/.test(d.cookie); } catch (e) { return false; }
  }
  if (!storedAnywhere()) {
    prefetch(base + 'locales/' + likelyLocale() + '.json');
    if (!placed) prefetch(base + 'timezones.txt');
    boot();
  }

  config.then(function (c) {
    var n = c.json && c.json.notice;
    version = n && typeof n.version === 'string' ? n.version : null;
    var s = c.text != null ? decode(c.cookie) : null;
    // The stored region must have come from where this page view's would: the same data-region, the
    // geo endpoint asked from the same timezone (a traveller is asked again), or the same timezone.
    var sameRegion = s && (placed ? s.source === 'page' && s.region === region
      : s.source === 'geo:' + timezone || s.source === 'tz:' + timezone);
    var covered = s && sameRegion && s.gpc === gpc && s.expiresAt * 1000 > Date.now() &&
      s.fingerprint === fingerprint(c.text) && receiptMade(s.receipt);
    try { configure(c.json); } catch (e) { console.error('assent: could not apply blocking from the config: ' + e); }
    consentSettings(c.json);
    if (covered && s.consentMode) gtag('consent', 'update', consentState(s.consentMode));
    if (covered) {
      stored = s;
      storedIn = cookieName(c.json);
      covered = applyStored();
    }
    if (!covered) return boot();
    resolveReady(api);
    // The core keeps something on screen on every page view (the opt-out entry point): start it once
    // the page has loaded, off the critical path.
    if (s.persistent) {
      var later = function () { setTimeout(boot, 0); };
      if (d.readyState === 'complete') later();
      else w.addEventListener('load', later);
    }
  });
  // Elements parsed after the first pass.
  if (d.readyState === 'loading') {
    d.addEventListener('DOMContentLoaded', function () { config.then(function () { api.rescan(); }); });
  }
})(window, document);
