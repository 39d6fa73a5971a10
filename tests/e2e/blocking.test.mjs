// Automatic blocking (issue 6): trackers injected at run time are held until their purpose is allowed,
// then run exactly once; requests to tracker hosts are dropped. Tracker hosts are routed to local
// fixtures, and every fixture records each request it receives: "zero requests before consent" is
// what the tracker hosts saw, and every page also proves the positive case (the request arrives once
// its purpose is allowed), so a route that saw nothing cannot pass by accident.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, banner, waitFor, quiet, receiptMade, WASM, DEMO_CONFIG } from './helpers.mjs';

const head = (body, { region = 'DE', extraHead = '' } = {}) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script src="/assent/assent.js" data-config="/assent.json" data-region="${region}"></script>
<script>window.tagRuns = {}; window.pageErrors = [];</script>${extraHead}
<title>blocking</title></head><body><h1>Blocking fixture</h1>${body}</body></html>`;

// What each tracker host serves: tag scripts count their runs in window.tagRuns and make the requests
// the real tag would (a collect beacon, a pixel).
const counter = (name) => `(window.tagRuns = window.tagRuns || {}).${name} = (window.tagRuns.${name} || 0) + 1;`;
const TAGS = {
  'www.googletagmanager.com/gtm.js': `${counter('gtm')}
    var ga = document.createElement('script'); ga.async = true; ga.src = 'https://www.googletagmanager.com/gtag/js?id=G-TEST';
    document.head.appendChild(ga);
    var fb = document.createElement('script'); fb.async = true; fb.src = 'https://connect.facebook.net/en_US/fbevents.js';
    var first = document.getElementsByTagName('script')[0]; first.parentNode.insertBefore(fb, first);`,
  'www.googletagmanager.com/gtag/js': `${counter('ga')}navigator.sendBeacon('https://region1.google-analytics.com/g/collect?v=2&en=page_view');`,
  'connect.facebook.net/en_US/fbevents.js': `${counter('meta')}new Image().src = 'https://www.facebook.com/tr?id=1&ev=PageView';`,
  'static.hotjar.com/c/hotjar-': counter('hotjar'),
  'www.clarity.ms/tag/': counter('clarity'),
  'cdn.segment.com/analytics.js': counter('segment'),
  'cdn.mxpnl.com/libs/': counter('mixpanel'),
  'snap.licdn.com/li.lms-analytics/insight.min.js': counter('linkedin'),
};
const TRACKER_HOSTS = ['googletagmanager.com', 'google-analytics.com', 'facebook.net', 'facebook.com', 'hotjar.com',
  'clarity.ms', 'segment.com', 'segment.io', 'mxpnl.com', 'doubleclick.net', 'licdn.com', 'linkedin.com', 'youtube-nocookie.com', 'amplitude.com', 'tiktok.com', 'google.de', 'vimeo.com'];

const pages = {
  // A tag manager container (GTM's official snippet) that injects GA and the Meta pixel.
  gtm: head(`<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new Date().getTime(),event:'gtm.js'});
    var f=d.getElementsByTagName(s)[0],j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;
    j.src='https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);})(window,document,'script','dataLayer','GTM-TEST');</script>`),
  // Hotjar's official snippet.
  hotjar: head(`<script>(function(h,o,t,j,a,r){h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
    h._hjSettings={hjid:123456,hjsv:6};a=o.getElementsByTagName('head')[0];r=o.createElement('script');r.async=1;
    r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;a.appendChild(r);})(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');</script>`),
  // Microsoft Clarity's official snippet.
  clarity: head(`<script>(function(c,l,a,r,i,t,y){c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
    t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
    })(window, document, "clarity", "script", "abc123");</script>`),
  // A pixel made with new Image(), a beacon and a fetch to collect endpoints: fired on load and
  // again whenever the decision changes (as a real tag would on its next event).
  network: head(`<script>
    function fire() {
      new Image().src = 'https://analytics.tiktok.com/i18n/pixel/events.js?sdkid=T1&ev=' + Date.now();
      new Image().src = 'https://www.google.de/ads/ga-audiences?v=1&t=sr&tid=G-1&z=' + Date.now(); // a country domain
      navigator.sendBeacon('https://api.segment.io/v1/t', JSON.stringify({ event: 'view' }));
      fetch('https://api2.amplitude.com/2/httpapi', { method: 'POST', body: '{}', mode: 'no-cors' }).catch(function (e) { window.fetchFailed = String(e); });
      var x = new XMLHttpRequest(); x.open('POST', 'https://px.ads.linkedin.com/collect'); x.onerror = function () { window.xhrFailed = true; };
      window.xhrEvents = [];
      ['readystatechange', 'error', 'loadend'].forEach(function (type) {
        x.addEventListener(type, function () { window.xhrEvents.push(type + ':' + x.readyState + ':' + x.status); });
      });
      x.send('{}');
      if (!window.syncXhr) {
        var s = new XMLHttpRequest(); s.open('GET', 'https://px.ads.linkedin.com/sync', false);
        try { s.send(); window.syncXhr = 'sent'; } catch (e) { window.syncXhr = e.name; }
      }
    }
    fire();
    document.addEventListener('assent:change', fire);
  </script>`),
  // A first-party script (allowed: not a tracker) that injects a tracker nested in a wrapper.
  nested: head(`<script src="/fixtures/first-party.js"></script>`),
  // Markup with a tracker pixel and a tracker script, inserted with insertAdjacentHTML.
  adjacent: head(`<div id="slot"></div><script>document.getElementById('slot').insertAdjacentHTML('beforeend',
    '<img id="li" alt="" width="1" height="1" src="https://px.ads.linkedin.com/collect/?pid=1&fmt=gif">');</script>`),
  // Markup inserted once the config has arrived (a view rendered later): a pixel with
  // insertAdjacentHTML and an embed with innerHTML.
  late: head(`<div id="slot"></div><div id="slot2"></div><script>
    window.assent.ready.then(function () { setTimeout(function () {
      document.getElementById('slot').insertAdjacentHTML('beforeend',
        '<img id="late-li" alt="" width="1" height="1" src="https://px.ads.linkedin.com/collect/?pid=2&fmt=gif">');
      document.getElementById('slot2').innerHTML =
        '<iframe title="Late video" width="560" height="315" src="https://www.youtube-nocookie.com/embed/late"></iframe>';
      window.lateInserted = true;
    }, 100); });</script>`),
  // A lazy loader: the tag is built at start-up and inserted later (on first scroll, say).
  detached: head(`<script>var lazy = document.createElement('script'); lazy.async = true;
    lazy.src = 'https://static.hotjar.com/c/hotjar-77.js?sv=6';
    window.insertLater = function () { document.head.appendChild(lazy); };</script>`),
  // document.write of a script tag, as old tag snippets do.
  write: head(`<script>document.write('<script src="https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js"><\\/script>');</script>`),
  // A YouTube embed created by a script (as embed widgets do).
  youtube: head(`<div id="video"></div><script>var f = document.createElement('iframe'); f.width = 560; f.height = 315;
    f.title = 'Demo video'; f.src = 'https://www.youtube-nocookie.com/embed/xyz'; document.getElementById('video').appendChild(f);</script>`),
  // A hidden 1×1 ad frame beside a visible embed, both injected by a script.
  adframe: head(`<div id="video"></div><script>
    var ad = document.createElement('iframe'); ad.width = 1; ad.height = 1; ad.id = 'ad';
    ad.src = 'https://googleads.g.doubleclick.net/pagead/viewthroughconversion/1/'; document.body.appendChild(ad);
    var f = document.createElement('iframe'); f.width = 560; f.height = 315; f.title = 'Demo video';
    f.src = 'https://www.youtube-nocookie.com/embed/xyz'; document.getElementById('video').appendChild(f);</script>`),
  // A single-page app: a route change renders a view that injects a tag.
  spa: head(`<nav><a href="/fixtures/b/spa.html?route=pricing" id="go">Pricing</a></nav><main id="view">Home</main><script>
    function render() {
      var view = document.getElementById('view');
      view.textContent = location.search.indexOf('pricing') >= 0 ? 'Pricing' : 'Home';
      // Like a real tag loader, the view injects the tag once per page load.
      if (location.search.indexOf('pricing') >= 0 && !window.liInjected) {
        window.liInjected = true;
        var s = document.createElement('script'); s.src = 'https://snap.licdn.com/li.lms-analytics/insight.min.js';
        view.appendChild(s);
      }
    }
    document.getElementById('go').addEventListener('click', function (e) { e.preventDefault(); history.pushState({}, '', this.href); render(); });
    window.addEventListener('popstate', render);
  </script>`),
};

let env;
/** When the second part of `streamed.html` may go out. */
let streamGate = Promise.resolve();
before(async () => {
  const files = { '/fixtures/first-party.js': { body: `window.firstParty = true;
    var wrap = document.createElement('div');
    wrap.innerHTML = '<span>widget</span>';
    var s = document.createElement('script'); s.src = 'https://cdn.segment.com/analytics.js/v1/KEY/analytics.min.js';
    wrap.appendChild(s);
    document.body.appendChild(wrap);` } };
  for (const [name, html] of Object.entries(pages)) files[`/fixtures/b/${name}.html`] = { body: html, type: 'text/html' };
  // In two parts: the host's start tag, then (when the test says) its declared shadow root.
  files['/fixtures/b/streamed.html'] = { type: 'text/html', gate: () => streamGate, body: head(`<div id="host">\n|<template shadowrootmode="open">
    <iframe title="Streamed video" width="480" height="270" src="https://www.youtube-nocookie.com/embed/streamed"></iframe></template></div>
    <p>after</p>`).split('|') };
  env = await setup(files);
});
after(() => env.close());

/** A page whose tracker hosts are served by fixtures that record every request. */
async function trackedPage(options) {
  const opened = await openPage(env, options);
  const seen = [];
  await opened.context.route((url) => TRACKER_HOSTS.some((h) => url.hostname === h || url.hostname.endsWith(`.${h}`)), (route) => {
    const url = new URL(route.request().url());
    seen.push(url.hostname + url.pathname);
    const key = Object.keys(TAGS).find((k) => (url.hostname + url.pathname).startsWith(k));
    if (key) return route.fulfill({ status: 200, contentType: 'text/javascript', body: TAGS[key] });
    if (url.hostname.includes('youtube')) return route.fulfill({ status: 200, contentType: 'text/html', body: '<p>video</p>' });
    return route.fulfill({ status: 204, body: '' });
  });
  return { ...opened, seen };
}

/** Waits until Assent has decided and the page has gone quiet (see `quiet`): then what did not reach a
 * tracker host, or did not run, will not, from anything the page had set going. */
const settle = async (t) => {
  await t.page.evaluate(() => window.assent.ready);
  await quiet(t.log);
};
const tagRuns = (page) => page.evaluate(() => window.tagRuns);
/** Waits until the frame in `host` (or in its shadow root) shows the placeholder a visitor sees: its
 * document, visible, with the "Load it" button. Read in the page: Playwright can lose track of a frame
 * whose cross-site navigation was cancelled, while the page shows it. */
const placeholderShown = (page, host) => page.waitForFunction((host) => {
  const el = document.querySelector(host);
  const doc = (el?.shadowRoot ?? el)?.querySelector('iframe')?.contentDocument;
  return doc?.URL === 'about:srcdoc' && doc.body && !doc.body.hidden && doc.getElementById('assent-load')?.textContent === 'Load it';
}, host);
const count = (seen, prefix) => seen.filter((s) => s.startsWith(prefix)).length;

/** Opens a fixture, asserts the tracker hosts saw nothing before consent, then allows `purposes`. */
async function beforeAndAfter(name, purposes, { stillHeld = [], heldReport } = {}) {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/${name}.html`);
  await settle(t);
  assert.deepEqual(t.seen, [], `${name}: no request reached a tracker host before consent`);
  assert.deepEqual(await tagRuns(t.page), {}, `${name}: no tracker tag ran before consent`);
  const report = () => t.page.evaluate(() => window.assent.report().map((r) => [r.service, r.purpose, r.kind, r.state]));
  if (heldReport) assert.deepEqual(await report(), heldReport, `${name}: assent.report() before consent`);
  await banner(t.page).waitFor();
  await t.page.evaluate((p) => window.assent.set(p), Object.fromEntries(purposes.map((p) => [p, true])));
  await settle(t);
  for (const s of stillHeld) assert.equal(count(t.seen, s), 0, `${name}: ${s} is still held`);
  if (heldReport) assert.deepEqual(await report(), heldReport.map((r) => [...r.slice(0, 3), 'ran']), `${name}: assent.report() after`);
  assert.deepEqual(t.log.pageErrors, [], `${name}: no page errors`);
  return t;
}

test('a GTM container injecting GA and the Meta pixel: nothing before consent, each tag once per allowed purpose', async () => {
  const t = await beforeAndAfter('gtm', ['analytics'], { stillHeld: ['connect.facebook.net', 'www.facebook.com/tr'] });
  assert.deepEqual(await tagRuns(t.page), { gtm: 1, ga: 1 }, 'GTM and GA ran once; Meta waits for marketing');
  assert.equal(count(t.seen, 'region1.google-analytics.com/g/collect'), 1, "GA's collect beacon went out once");
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.meta === 1), 'the Meta pixel script');
  await waitFor(() => count(t.seen, 'www.facebook.com/tr') === 1, 'the Meta pixel request');
  await quiet(t.log);
  assert.deepEqual(await tagRuns(t.page), { gtm: 1, ga: 1, meta: 1 }, 'each tag ran exactly once');
  assert.equal(count(t.seen, 'www.googletagmanager.com/gtm.js'), 1);
  assert.equal(count(t.seen, 'connect.facebook.net'), 1);
  // The held elements kept their attributes (async) and were replaced by running copies.
  const report = await t.page.evaluate(() => window.assent.report());
  const gtm = report.find((r) => r.service === 'Google Tag Manager');
  assert.deepEqual({ ...gtm, reason: undefined }, { service: 'Google Tag Manager', purpose: 'analytics', kind: 'script',
    url: 'https://www.googletagmanager.com/gtm.js?id=GTM-TEST', state: 'ran', reason: undefined });
  assert.match(gtm.reason, /analytics/);
  await t.context.close();
});

for (const [name, purpose, tag, host] of [
  ['hotjar', 'replay', 'hotjar', 'static.hotjar.com/c/hotjar-123456.js'],
  ['clarity', 'replay', 'clarity', 'www.clarity.ms/tag/abc123'],
  ['nested', 'analytics', 'segment', 'cdn.segment.com/analytics.js'],
  ['write', 'analytics', 'mixpanel', 'cdn.mxpnl.com/libs/mixpanel-2-latest.min.js'],
]) {
  test(`${name}: the tag is held until ${purpose} is allowed, then runs exactly once`, async () => {
    const t = await beforeAndAfter(name, [purpose]);
    await waitFor(() => tagRuns(t.page).then((r) => r[tag] === 1), `${tag} to run`);
    await quiet(t.log);
    assert.deepEqual(await tagRuns(t.page), { [tag]: 1 });
    assert.equal(count(t.seen, host), 1, `${host} was requested once`);
    if (name === 'nested') assert.equal(await t.page.evaluate(() => window.firstParty), true, 'the first-party script ran at once');
    await t.context.close();
  });
}

test('insertAdjacentHTML: a tracker pixel in markup is held with its attributes, then loads once', async () => {
  const t = await beforeAndAfter('adjacent', ['marketing'], {
    // The report follows the element the page inserted, not markup's <template> copy: an image in markup
    // is an "img", held, then run. It used to be a "pixel", "dropped" for good, even after it loaded.
    heldReport: [['LinkedIn Insight', 'marketing', 'img', 'held']],
  });
  await waitFor(() => count(t.seen, 'px.ads.linkedin.com/collect') === 1, 'the pixel');
  const img = await t.page.evaluate(() => {
    const i = document.getElementById('li');
    return { src: i.getAttribute('src'), width: i.getAttribute('width'), alt: i.getAttribute('alt') };
  });
  assert.deepEqual(img, { src: 'https://px.ads.linkedin.com/collect/?pid=1&fmt=gif', width: '1', alt: '' });
  await t.context.close();
});

// Markup inserted once the config has arrived is held like markup inserted before. It used to be held only
// while the config was on its way: once it had arrived, clean() thought it had held nothing (it counted the
// pre-config list), so the page's own markup went in and the pixel and the embed loaded before consent
// (and the observer's copy loaded them again later).
test('markup inserted after the config has arrived is held too, then loads once', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/late.html`);
  await waitFor(() => t.page.evaluate(() => window.lateInserted === true), 'the late markup');
  await settle(t);
  assert.deepEqual(t.seen, [], 'no request reached a tracker host before consent');
  assert.equal(await t.page.locator('#late-li').getAttribute('data-src'), 'https://px.ads.linkedin.com/collect/?pid=2&fmt=gif');
  await banner(t.page).waitFor();
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => count(t.seen, 'px.ads.linkedin.com/collect') > 0 && count(t.seen, 'www.youtube-nocookie.com/embed/late') > 0,
    'the pixel and the embed after consent');
  await settle(t);
  assert.equal(count(t.seen, 'px.ads.linkedin.com/collect'), 1, 'the pixel loads once');
  assert.equal(count(t.seen, 'www.youtube-nocookie.com/embed/late'), 1, 'the embed loads once');
  assert.deepEqual(t.log.pageErrors, []);
});

// A tracker host is looked up as the URL parser reads it, so a host spelled with percent-escapes, an entity
// in markup, a full-width dot or a tab (the browser's parser normalises all of them) is caught. The quick
// check used to test the raw string, and such a host was never looked up.
test('tracker hosts spelled so that only the URL parser sees them are caught too', async () => {
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/odd.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<div id="slot"></div><script>
    new Image().src = 'https://px.ads.linkedin%2Ecom/collect/?pid=3';
    fetch('https://api.segment\u3002io/v1/t', { method: 'POST', body: '{}', mode: 'no-cors' }).catch(function () {});
    navigator.sendBeacon('https://region1.google-ana\tlytics.com/g/collect?v=2');
    document.getElementById('slot').innerHTML = '<img id="ent" alt="" src="https://px.ads.linkedin&#46;com/collect/?pid=4">';
    // Backslashes, which the URL parser reads as slashes, around a percent-escaped host.
    var b = String.fromCharCode(92), s = document.createElement('script');
    s.src = 'https:' + b + b + 'connect.facebook%2Enet/en_US/fbevents.js'; document.head.appendChild(s);
    document.getElementById('slot').insertAdjacentHTML('beforeend', '<img id="bs" alt="" src="' + b + b + 'px.ads.linkedin%2Ecom/collect/?pid=5">');
  </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/odd.html`);
  await settle(t);
  assert.deepEqual(t.seen, [], 'no request reached a tracker host');
  assert.equal(await t.page.locator('#ent').getAttribute('data-src'), 'https://px.ads.linkedin.com/collect/?pid=4', 'the entity-spelled image is held');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// Trackers in shadow roots are held and released like any other. One declared in the markup used to go
// unobserved (its script ran before consent); one attached by a script used to be held but never released
// (the activation chain searched only the document).
test('tags inside shadow roots are held until their purpose is allowed, then run once', async () => {
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/shadow.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`
    <div id="host"><template shadowrootmode="open"><p>declared</p><script src="https://static.hotjar.com/c/hotjar-5.js?sv=6"></script>
      <iframe title="Shadow video" width="480" height="270" src="https://www.youtube-nocookie.com/embed/shadow"></iframe></template></div>
    <div id="host2"></div><script>
      var root = document.getElementById('host2').attachShadow({ mode: 'closed' });
      var s = document.createElement('script'); s.src = 'https://www.clarity.ms/tag/shadow'; root.appendChild(s);
    </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/shadow.html`);
  await settle(t);
  // (The declared script is in the HTML, which the preload scanner may request: see the honest limit.)
  assert.equal(count(t.seen, 'www.clarity.ms'), 0, 'the attached one is not requested before consent');
  assert.deepEqual(await tagRuns(t.page), {}, 'neither ran before consent');
  await placeholderShown(t.page, '#host');
  // (A frame in the HTML may be requested by the parser before any script sees it: the honest limit.)
  const early = count(t.seen, 'www.youtube-nocookie.com/embed/shadow');
  await banner(t.page).waitFor();
  await t.page.evaluate(() => window.assent.acceptAll());
  await waitFor(async () => { const r = await tagRuns(t.page); return r.hotjar > 0 && r.clarity > 0; }, 'both shadow-root tags to run');
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/shadow') > early, 'the shadow-root frame to load');
  await settle(t);
  assert.equal(count(t.seen, 'www.clarity.ms/tag/shadow'), 1);
  assert.equal(count(t.seen, 'www.youtube-nocookie.com/embed/shadow') - early, 1, 'the frame in the shadow root loads once after consent');
  assert.deepEqual(await tagRuns(t.page), { hotjar: 1, clarity: 1 }, 'each runs once, in its shadow root');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// A root the parser declares after the loader has seen its host (the HTML arrives in parts and the parse
// pauses between the host's start tag and its template) makes no mutation. It used to go unobserved for
// good: its embed loaded before consent and never got a placeholder.
test('a shadow root declared after the parse paused at its host still has its embed held, then loaded once', async () => {
  const t = await trackedPage();
  let release;
  streamGate = new Promise((r) => { release = r; });
  const loaded = t.page.goto(`${env.base}/fixtures/b/streamed.html`);
  await t.page.waitForFunction(() => document.getElementById('host')); // the first part is parsed
  release();
  await loaded;
  await settle(t);
  await placeholderShown(t.page, '#host');
  const early = count(t.seen, 'www.youtube-nocookie.com/embed/streamed');
  await banner(t.page).waitFor();
  await t.page.evaluate(() => window.assent.acceptAll());
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/streamed') > early, 'the frame to load after consent');
  await settle(t);
  assert.equal(count(t.seen, 'www.youtube-nocookie.com/embed/streamed') - early, 1, 'it loads once');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// A frame in the HTML starts to navigate as the parser inserts it, before any script sees it (its request
// may go out: the honest limit). Its page must still never run: here its response arrives only once the
// frame is held, and the visitor sees the placeholder.
test('a held frame from the HTML never runs the tracker\'s page before consent, and shows the placeholder', async () => {
  const t = await trackedPage();
  let held;
  const heldSeen = new Promise((r) => { held = r; });
  await t.context.route('**/www.youtube-nocookie.com/embed/parsed', async (route) => {
    await heldSeen;
    await route.fulfill({ contentType: 'text/html', body: '<script>parent.postMessage("embed ran", "*")</script><p>video</p>' }).catch(() => {});
  });
  await t.context.route('**/fixtures/b/parsed-frame.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`
    <div id="v"><iframe title="Parsed video" width="480" height="270" src="https://www.youtube-nocookie.com/embed/parsed"></iframe></div>`,
    { extraHead: '<script>window.embedRuns = 0; addEventListener("message", function (e) { if (e.data === "embed ran") window.embedRuns++; });</script>' }) }));
  await t.page.goto(`${env.base}/fixtures/b/parsed-frame.html`);
  await t.page.waitForFunction(() => document.querySelector('#v iframe').hasAttribute('data-assent-held'));
  held();
  await placeholderShown(t.page, '#v');
  await settle(t);
  assert.equal(await t.page.evaluate(() => window.embedRuns), 0, 'the embed\'s page did not run before consent');
  await placeholderShown(t.page, '#v');
  await banner(t.page).waitFor();
  await t.page.evaluate(() => window.assent.acceptAll());
  await t.page.waitForFunction(() => window.embedRuns === 1);
  await settle(t);
  assert.equal(await t.page.evaluate(() => window.embedRuns), 1, 'it runs once after consent');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// A frame's navigation is under way as the parser inserts it, and its page can commit in a process of its
// own before the loader runs. Taking its `src` away did not undo that: wherever the HTML paused, the
// tracker's page sometimes stayed in the frame, or the frame went blank, with no placeholder. Here the
// embed comes from a real server on loopback (no interception, so it answers as fast as it can), and the
// HTML pauses at each tag boundary in turn.
test('wherever the HTML pauses, a held frame ends on its placeholder and loads once after consent', async () => {
  let gate;
  const config = JSON.parse(DEMO_CONFIG);
  config.blocking = { services: [{ name: 'Embed Test', purpose: 'marketing', match: ['embed.test/'] }] };
  const top = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script type="application/json" id="cfg">${JSON.stringify(config)}</script>
<script src="/assent/assent.js" data-config="#cfg" data-region="DE"></script>
<script>window.embedRuns = 0; addEventListener('message', function (e) { if (e.data === 'embed ran') window.embedRuns++; });</script>
<title>frames</title></head><body><h1>Frames</h1>`;
  const body = (port) => `<div id="host"><template shadowrootmode="open"><p>declared</p>
  <iframe title="Embed" width="480" height="270" src="http://embed.test:${port}/embed.html"></iframe></template></div>
  <div id="v"><iframe title="Embed" width="480" height="270" src="http://embed.test:${port}/embed.html"></iframe></div><p>end</p></body></html>`;
  const files = {
    '/embed.html': { type: 'text/html', body: '<script>parent.postMessage("embed ran", "*")</script><p>video</p>' },
    '/frames.html': { type: 'text/html', gate: () => gate, body: [] },
  };
  const server = await setup(files, {}, ['--host-resolver-rules=MAP embed.test 127.0.0.1']);
  try {
    const port = new URL(server.base).port;
    const whole = body(port);
    const pauses = [...whole.matchAll(/<|>/g)].map((m) => m.index + (m[0] === '>' ? 1 : 0)).filter((i, k, all) => all.indexOf(i) === k);
    for (const at of pauses) {
      let release;
      gate = new Promise((r) => { release = r; });
      files['/frames.html'].body = [top + whole.slice(0, at), whole.slice(at)];
      const { context, page: p, log } = await openPage(server);
      const loaded = p.goto(`${server.base}/frames.html`);
      await p.waitForFunction(() => document.querySelector('h1')); // the first part is parsed
      release();
      await loaded;
      for (const host of ['#host', '#v']) await placeholderShown(p, host);
      await p.evaluate(() => window.assent.ready);
      await quiet(log);
      for (const host of ['#host', '#v']) await placeholderShown(p, host);
      // (A page that committed before the loader saw its frame may have run: the honest limit.)
      const before = await p.evaluate(() => window.embedRuns);
      await p.evaluate(() => window.assent.acceptAll());
      await p.waitForFunction((n) => window.embedRuns >= n + 2, before);
      await quiet(log);
      assert.equal(await p.evaluate(() => window.embedRuns) - before, 2, `paused at ${at}: each frame loads once after consent`);
      assert.deepEqual(log.pageErrors, []);
      await context.close();
    }
  } finally {
    await server.close();
  }
});

// Before its config arrives and in its activation chain, the loader keeps what the page relies on:
// - An ordered chain (`async = false`) keeps its order. A third-party script in it used to be held until
//   the config arrived, and the first-party script after it ran first (a ReferenceError on real sites).
// - `document.write` markup that leaves an element open for the next write (an ad slot) stays open; it
//   used to be closed.
// - A held script in a subtree the page detached does not stall the activation chain; it used to, for good.
test('before the config: ordered scripts keep their order; document.write keeps open elements; a detached held script does not stall the chain', async () => {
  const t = await trackedPage();
  const ordered = (name) => ({ contentType: 'text/javascript', body: `window.order.push(${JSON.stringify(name)});` });
  await t.context.route((url) => url.hostname.endsWith('libs-cdn.test'), (r) => r.fulfill(ordered(new URL(r.request().url()).pathname.slice(1))));
  await t.context.route('**/fixtures/app*.js', (r) => r.fulfill(ordered(new URL(r.request().url()).pathname.split('/').pop())));
  await t.context.route('**/static.hotjar.com/c/hotjar-9.js*', async (r) => {
    await new Promise((done) => setTimeout(done, 1500)); // slow: the chain waits for it
    return r.fulfill({ contentType: 'text/javascript', body: '(window.tagRuns = window.tagRuns || {}).slow = 1;' });
  });
  await t.context.route('**/fixtures/b/order.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`
    <script src="https://static.hotjar.com/c/hotjar-9.js?sv=6"></script>
    <div id="c"><script src="https://www.clarity.ms/tag/inside"></script></div>
    <script src="https://cdn.segment.com/analytics.js/v1/K/analytics.min.js"></script>
    <script>
      window.order = [];
      ['https://cdn.libs-cdn.test/lib.js', '/fixtures/app.js'].forEach(function (u) {
        var s = document.createElement('script'); s.async = false; s.src = u; document.head.appendChild(s);
      });
      // The usual snippet sets async after src.
      ['https://cdn.libs-cdn.test/lib2.js', '/fixtures/app2.js'].forEach(function (u) {
        var s = document.createElement('script'); s.src = u; s.async = false; document.head.appendChild(s);
      });
      var tag = '<script src="https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js"><' + '/script>';
      document.write('<div id="ad">' + tag);
      document.write('<p id="inside">ad slot</p></div>');
      // Markup whose end tags the parser may leave out, and a write that closes an earlier one's slot.
      document.write('<div id="ad2"><p>Sponsored' + tag + '</div><table id="t"><tr><td>' + tag + '</table>');
      document.write('<div id="ad3">'); document.write(tag + '</div>');
      document.write('<p id="after">page content</p>');
    </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/order.html`);
  await settle(t);
  await waitFor(() => t.page.evaluate(() => window.order.length === 4), 'the ordered scripts');
  assert.deepEqual(await t.page.evaluate(() => window.order), ['lib.js', 'app.js', 'lib2.js', 'app2.js'], 'the ordered chain keeps its order');
  assert.equal(await t.page.evaluate(() => document.getElementById('inside').parentElement.id), 'ad', 'the later write lands inside the open slot');
  assert.equal(await t.page.evaluate(() => document.getElementById('after').parentElement.tagName), 'BODY', 'the page\'s own end tags close each slot');
  assert.equal(await t.page.evaluate(() => document.querySelector('#ad3 script') !== null), true, 'the tag is written inside the slot an earlier write opened');
  // (These tags are in the HTML, which the preload scanner may request: what counts is that none ran.)
  assert.deepEqual(await tagRuns(t.page), {}, 'no tracker tag ran before consent');
  await banner(t.page).waitFor();
  await t.page.evaluate(() => { window.assent.acceptAll(); document.getElementById('c').remove(); });
  await waitFor(async () => (await tagRuns(t.page)).segment === 1, 'the script after the detached one');
  await waitFor(async () => { const r = await tagRuns(t.page); return r.slow > 0 && r.mixpanel >= 4; }, 'the slow tag and the written copies');
  await settle(t);
  assert.deepEqual(await tagRuns(t.page), { slow: 1, segment: 1, mixpanel: 4 }, 'each once (four written copies); the removed one not at all');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// On a returning visit, an ordered chain whose first script is a tracker the visitor allowed runs in order.
// The first-party script after it used to run first (it was released as soon as the config arrived, before
// the stored decision ran the tracker).
test('a returning visit runs an ordered chain led by an allowed tracker in order', async () => {
  const t = await trackedPage();
  await t.context.route('**/cdn.segment.com/analytics.js/v1/ORD/**', (r) => r.fulfill({ contentType: 'text/javascript', body: 'window.order.push("segment");' }));
  await t.context.route('**/fixtures/app.js', (r) => r.fulfill({ contentType: 'text/javascript', body: 'window.order.push("app");' }));
  await t.context.route('**/fixtures/b/chain.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<script>
    window.order = [];
    ['https://cdn.segment.com/analytics.js/v1/ORD/analytics.min.js', '/fixtures/app.js'].forEach(function (u) {
      var s = document.createElement('script'); s.src = u; s.async = false; document.head.appendChild(s);
    });</script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/chain.html`);
  await waitFor(() => t.page.evaluate(() => window.order.includes('app')), 'the first-party script');
  await settle(t);
  assert.deepEqual(await t.page.evaluate(() => window.order), ['app'], 'before consent only the first-party script runs');
  await banner(t.page).getByRole('button', { name: 'Accept all' }).click();
  await receiptMade(t.page);
  await t.page.reload();
  await settle(t);
  await waitFor(() => t.page.evaluate(() => window.order.length === 2), 'both scripts');
  assert.deepEqual(await t.page.evaluate(() => window.order), ['segment', 'app']);
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// A returning visit whose stored decision refuses a hidden tracking frame loads no wasm: such a frame gets
// no placeholder to draw. It used to load the wasm to draw one.
test('a returning visit holding only a hidden tracking frame loads no wasm', async () => {
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/hidden.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<script>
    var ad = document.createElement('iframe'); ad.width = 1; ad.height = 1; ad.id = 'ad';
    ad.src = 'https://googleads.g.doubleclick.net/pagead/viewthroughconversion/2/'; document.body.appendChild(ad);</script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/hidden.html`);
  await settle(t);
  await banner(t.page).getByRole('button', { name: 'Reject all' }).click();
  await receiptMade(t.page);
  await settle(t);
  const requested = [];
  t.page.on('request', (r) => requested.push(new URL(r.url()).pathname));
  await t.page.reload();
  await settle(t);
  assert.equal(await t.page.locator('#ad').getAttribute('data-category'), 'marketing', 'the frame is held');
  assert.deepEqual(requested.filter((p) => p.includes('assent_client')), [], 'no wasm or glue requested');
  assert.deepEqual(t.seen, []);
  await t.context.close();
});

// A tag held while out of the page runs once the page inserts it after consent. It used to keep its held
// form, and nothing ran it (the insertion wrappers skip what is already marked).
test('a tag built before consent and inserted after it runs once', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/detached.html`);
  await settle(t);
  await banner(t.page).waitFor();
  await t.page.evaluate(() => window.assent.set({ replay: true }));
  await settle(t);
  assert.deepEqual(t.seen, [], 'not in the page yet: nothing loaded');
  await t.page.evaluate(() => window.insertLater());
  await waitFor(() => tagRuns(t.page).then((r) => r.hotjar > 0), 'the inserted tag to run');
  await settle(t);
  assert.equal(count(t.seen, 'static.hotjar.com/c/hotjar-77.js'), 1, 'it loads once it is inserted');
  assert.deepEqual(await tagRuns(t.page), { hotjar: 1 });
  assert.deepEqual(t.log.pageErrors, []);
});

test('new Image(), sendBeacon, fetch and XMLHttpRequest to tracker hosts are dropped and counted, not queued', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/network.html`);
  await settle(t);
  assert.deepEqual(t.seen, []);
  const report = await t.page.evaluate(() => window.assent.report());
  assert.deepEqual(report.map((r) => [r.service, r.kind, r.state]).sort(), [
    ['Amplitude', 'fetch', 'dropped'], ['Google Ads', 'pixel', 'dropped'], ['LinkedIn Insight', 'xhr', 'dropped'], ['LinkedIn Insight', 'xhr', 'dropped'],
    ['Segment', 'beacon', 'dropped'], ['TikTok Pixel', 'pixel', 'dropped'],
  ]);
  assert.match(await t.page.evaluate(() => window.fetchFailed), /TypeError: assent: blocked/, 'fetch fails like a network error');
  assert.equal(await t.page.evaluate(() => window.xhrFailed), true, 'the XHR reports an error');
  assert.deepEqual(await t.page.evaluate(() => window.xhrEvents), ['readystatechange:4:0', 'error:4:0', 'loadend:4:0'],
    'the XHR ends as a network error does');
  assert.equal(await t.page.evaluate(() => window.syncXhr), 'NetworkError', 'a synchronous XHR throws as on a network error');
  assert.deepEqual(t.log.consoleErrors, [], 'dropping writes nothing red on the console');
  // Allowing the purposes sends nothing that was dropped; the tags' next events go out once each.
  await t.page.evaluate(() => window.assent.acceptAll());
  await waitFor(() => t.seen.length >= 5, 'the tags\' next events');
  await settle(t);
  assert.deepEqual(t.seen.map((s) => s.split('/')[0]).sort(),
    ['analytics.tiktok.com', 'api.segment.io', 'api2.amplitude.com', 'px.ads.linkedin.com', 'www.google.de']);
  await t.context.close();
});

test('a script-injected YouTube iframe is held until marketing is allowed, then loads once', async () => {
  const t = await beforeAndAfter('youtube', ['marketing']);
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/xyz') === 1, 'the embed');
  await quiet(t.log);
  assert.equal(count(t.seen, 'www.youtube-nocookie.com'), 1);
  await t.context.close();
});

// A hidden 1×1 ad frame is held without a placeholder. It used to get one whose "Load it" and "Always allow
// Google Ads" were invisible yet reachable with Tab, so a keyboard or screen-reader user could grant a
// lasting choice without seeing it.
test('a hidden tracking frame is held without a placeholder; a visible embed beside it gets one', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/adframe.html`);
  await settle(t);
  await t.page.frameLocator('#video iframe').getByRole('button', { name: 'Load it' }).waitFor();
  const ad = t.page.locator('#ad');
  assert.equal(await ad.getAttribute('data-assent-placeholder'), null, 'no placeholder in the hidden frame');
  assert.equal(await ad.getAttribute('srcdoc'), null);
  assert.equal(await ad.getAttribute('data-category'), 'marketing', 'it is held');
  assert.deepEqual(t.seen, [], 'nothing reached a tracker host');
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => count(t.seen, 'googleads.g.doubleclick.net/pagead/viewthroughconversion/1/') > 0, 'the ad frame');
  await settle(t);
  assert.equal(count(t.seen, 'googleads.g.doubleclick.net/pagead/viewthroughconversion/1/'), 1, 'the ad frame loads once allowed');
  await t.context.close();
});

test('single-page app: a tag added after a route change is held, runs once on consent, and route changes never run it again', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/spa.html`);
  await settle(t);
  await t.page.click('#go');
  // The loader has seen the tag the new view injected, and holds it.
  await waitFor(() => t.page.evaluate(() => window.assent.report().some((r) => r.url.includes('snap.licdn.com') && r.state === 'held')),
    'the injected tag to be held');
  await quiet(t.log);
  assert.equal(await t.page.locator('#view').textContent(), 'Pricing');
  assert.deepEqual(t.seen, [], 'the tag injected after pushState is held');
  await banner(t.page).getByRole('button', { name: 'Accept all' }).click();
  await waitFor(() => tagRuns(t.page).then((r) => r.linkedin === 1), 'the LinkedIn tag');
  const view = () => t.page.locator('#view').textContent();
  await t.page.goBack();
  await waitFor(async () => (await view()) === 'Home', 'the home view after going back');
  await t.page.goForward();
  await waitFor(async () => (await view()) === 'Pricing', 'the pricing view after going forward');
  await quiet(t.log);
  assert.equal(await banner(t.page).count(), 0, 'no re-prompt after route changes');
  assert.deepEqual(await tagRuns(t.page), { linkedin: 1 });
  assert.equal(count(t.seen, 'snap.licdn.com'), 1);
  await t.context.close();
});

test('with the wasm blocked, the page works and every tracker stays blocked', async () => {
  const t = await trackedPage();
  await t.context.route(`**${WASM}`, (route) => route.abort());
  for (const name of ['gtm', 'network', 'youtube', 'write']) {
    await t.page.goto(`${env.base}/fixtures/b/${name}.html`);
    await t.page.evaluate(() => window.assent.ready);
    await t.page.waitForLoadState('networkidle');
    assert.equal(await t.page.locator('h1').textContent(), 'Blocking fixture');
  }
  assert.deepEqual(t.seen, []);
  assert.deepEqual(t.log.pageErrors, []);
  assert.ok(t.log.consoleErrors.some((e) => /could not start/.test(e)), 'the console says what failed');
  await t.context.close();
});

test('withdrawal deletes the services\' cookies in every domain and path variant, and their storage keys', async () => {
  // A multi-label host, so that cookies can sit on the host and on its parent domain.
  const shop = await setup({
    '/fixtures/b/shop/cart.html': { type: 'text/html', body: head(`<script>
      document.cookie = '_ga=GA1.1; path=/';
      document.cookie = '_ga=GA1.2; domain=shop.test; path=/';
      document.cookie = '_ga_ABC123=GS1.3; domain=www.shop.test; path=/fixtures/b';
      document.cookie = '_gid=GA1.4; path=/fixtures/b/shop/';
      document.cookie = '_fbp=fb.1; domain=shop.test; path=/';
      document.cookie = 'cart=3; path=/';
      localStorage.setItem('ajs_user_id', 'u1'); localStorage.setItem('_hjSession_1', 'h');
      sessionStorage.setItem('mp_session', 'm'); localStorage.setItem('basket', 'b');
    </script>`) },
  }, {}, ['--host-resolver-rules=MAP *.shop.test 127.0.0.1']);
  try {
    const { context, page } = await openPage(shop);
    const url = `${shop.base.replace('127.0.0.1', 'www.shop.test')}/fixtures/b/shop/cart.html`;
    await page.goto(url);
    await page.evaluate(() => window.assent.ready);
    await page.evaluate(() => window.assent.acceptAll());
    const names = async () => (await context.cookies()).map((c) => `${c.name}@${c.domain}${c.path}`).sort();
    // document.cookie writes reach the browser's cookie jar asynchronously: wait until the jar shows them.
    const jarShows = (want) => waitFor(async () => {
      const got = (await names()).filter((n) => !n.startsWith('assent@'));
      return JSON.stringify(got) === JSON.stringify(want) || null;
    }, `cookies ${want}`, 5000).catch(async () => assert.deepEqual((await names()).filter((n) => !n.startsWith('assent@')), want));
    await jarShows([
      '_fbp@.shop.test/', '_ga@.shop.test/', '_ga@www.shop.test/', '_ga_ABC123@.www.shop.test/fixtures/b',
      '_gid@www.shop.test/fixtures/b/shop/', 'cart@www.shop.test/']);
    await page.evaluate(() => window.assent.withdraw('analytics'));
    // Every analytics cookie is gone, wherever it was set; marketing and first-party cookies stay.
    await jarShows(['_fbp@.shop.test/', 'cart@www.shop.test/']);
    const storage = await page.evaluate(() => [Object.keys(localStorage).sort(), Object.keys(sessionStorage)]);
    assert.deepEqual(storage[0].filter((k) => !k.startsWith('assent.')), ['_hjSession_1', 'basket'], 'Segment\'s key is gone');
    assert.deepEqual(storage[1], [], 'Mixpanel\'s session key is gone');
    await page.evaluate(() => window.assent.withdraw());
    await jarShows(['cart@www.shop.test/']);
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => !k.startsWith('assent.'))), ['basket']);
    // A withdrawn purpose's traces are removed again at pagehide: a tag that already ran keeps running
    // until the page goes and writes its cookie again (gtag does), which nothing used to clean. A purpose
    // allowed again since keeps its cookies.
    await page.evaluate(() => window.assent.set({ marketing: true }));
    await page.evaluate(() => {
      // biome-ignore lint/suspicious/noDocumentCookie: a tracker's own cookie, set as trackers set it
      document.cookie = '_ga=GA1.9; path=/';
      // biome-ignore lint/suspicious/noDocumentCookie: as above
      document.cookie = '_fbp=fb.9; path=/';
      localStorage.setItem('ajs_user_id', 'again');
    });
    await jarShows(['_fbp@www.shop.test/', '_ga@www.shop.test/', 'cart@www.shop.test/']);
    await page.goto(`${shop.base.replace('127.0.0.1', 'www.shop.test')}/assent/assent.js`); // the page goes
    await jarShows(['_fbp@www.shop.test/', 'cart@www.shop.test/']);
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => !k.startsWith('assent.'))), ['basket']);
    await context.close();
  } finally {
    await shop.close();
  }
});

test('a blocked embed shows a same-size placeholder; it is keyboard-reachable and "Load it" loads that embed alone', async () => {
  const t = await trackedPage();
  await t.page.goto(`${env.base}/fixtures/b/youtube.html`);
  await settle(t);
  const frame = t.page.locator('#video iframe');
  const box = await frame.boundingBox();
  assert.deepEqual(await frame.evaluate((f) => [f.clientWidth, f.clientHeight]), [560, 315], 'the page\'s own box for the embed');
  const placeholder = t.page.frameLocator('#video iframe');
  await placeholder.getByText('This content is hosted by YouTube, which may set cookies.').waitFor();
  assert.equal(await frame.getAttribute('title'), 'Demo video', 'the page\'s title is kept');
  // Refuse everything: the placeholder stays, and the keyboard reaches its button.
  await banner(t.page).getByRole('button', { name: 'Reject all' }).click();
  await banner(t.page).waitFor({ state: 'detached' });
  let focused = null;
  for (let i = 0; i < 10 && focused !== 'Load it'; i++) {
    await t.page.keyboard.press('Tab');
    // (count() does not wait: nothing focused in the placeholder yet is an answer, not a 30 s timeout.)
    focused = (await placeholder.locator(':focus').count()) ? await placeholder.locator(':focus').textContent() : null;
  }
  assert.equal(focused, 'Load it', 'Tab reaches the placeholder\'s button');
  // The report's reason follows the decision made since the embed was held.
  const held = (await t.page.evaluate(() => window.assent.report())).find((r) => r.service === 'YouTube');
  assert.deepEqual([held.state, held.reason], ['held', 'the visitor has not allowed `marketing`']);
  await t.page.keyboard.press('Enter');
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/xyz') === 1, 'the embed to load');
  assert.deepEqual(await frame.boundingBox(), box, 'no layout shift: the embed loads in the same box');
  assert.equal(await t.page.evaluate(() => window.assent.allowed('marketing')), false, 'loading one embed grants nothing else');
  // A returning visit with marketing refused: the placeholder again (the wasm starts to render it).
  await t.page.reload();
  await settle(t);
  await placeholder.getByRole('button', { name: 'Load it' }).waitFor();
  assert.equal(count(t.seen, 'www.youtube-nocookie.com'), 1, 'nothing loaded on the second view');
  await t.context.close();
});

test('demo: the blocking page holds its injected tracker and embed; the misplaced page shows the failure', async () => {
  const { context, page, log } = await openPage(env);
  const origin = new URL(env.base);
  const trackerHits = [];
  page.on('request', (r) => { if (new URL(r.url()).hostname.endsWith('.localhost')) trackerHits.push(new URL(r.url()).hostname + new URL(r.url()).pathname); });
  await page.goto(`${env.base}/blocking.html?region=DE`);
  await settle({ page, log });
  assert.equal(await page.locator('[data-run="tracker"]').textContent(), 'blocked');
  assert.deepEqual(trackerHits, [], 'nothing reached tracker.localhost or video.localhost');
  await page.frameLocator('#video iframe').getByRole('button', { name: 'Load it' }).waitFor();
  await page.getByRole('button', { name: 'Show what Assent blocked' }).click();
  assert.deepEqual(await page.locator('#report-table tbody tr td:first-child').allTextContents(), ['Demo Tracker', 'Demo Video']);
  await banner(page).getByRole('button', { name: 'Accept all' }).click();
  await page.locator('[data-run="tracker"]', { hasText: 'ran (1)' }).waitFor();
  const trackerCookie = async () => (await context.cookies(`http://${origin.host}`)).some((c) => c.name.startsWith('_demo_tracker'));
  await waitFor(trackerCookie, 'the tracker to set its cookie', 5000);
  await page.evaluate(() => window.assent.withdraw('analytics'));
  await waitFor(async () => !(await trackerCookie()), 'withdrawal to remove the tracker\'s cookie', 5000);
  // Misplaced: the tracker runs before any decision.
  const fresh = await openPage(env);
  await fresh.page.goto(`${env.base}/misplaced.html?region=DE`);
  await fresh.page.locator('[data-run="tracker"]', { hasText: 'ran (1)' }).waitFor();
  assert.equal(await fresh.page.evaluate(() => window.assent.consent()), null, 'it ran with no decision at all');
  assert.deepEqual(log.pageErrors, []);
  await fresh.context.close();
  await context.close();
});

test('honest limit: trackers written in the HTML below the loader never run before consent, but the browser may request them', async () => {
  const t = await trackedPage();
  await t.page.route('**/fixtures/b/markup.html', (route) => route.fulfill({ contentType: 'text/html', body: head(
    `<script src="https://www.googletagmanager.com/gtag/js?id=G-MARKUP"></script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/markup.html`);
  await settle(t);
  assert.deepEqual(await tagRuns(t.page), {}, 'the parser-inserted tracker script did not run');
  // The preload scanner fetches it before any script can see the tag: documented in docs/blocking.md.
  assert.ok(count(t.seen, 'www.googletagmanager.com/gtag/js') <= 1);
  await t.page.evaluate(() => window.assent.set({ analytics: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.ga === 1), 'the held script to run');
  await t.context.close();
});

test('config: a service recategorised, a service added and a host allow-listed apply to what the loader holds', async () => {
  const config = JSON.parse(DEMO_CONFIG);
  config.blocking = {
    services: [
      { name: 'Hotjar', purpose: 'analytics' },
      { name: 'Acme Stats', purpose: 'marketing', match: ['stats.acme-cdn.test/collect'] },
    ],
    allow: ['cdn.segment.com'],
  };
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/config.json', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(config) }));
  await t.context.route('https://stats.acme-cdn.test/**', (r) => { t.seen.push(`stats.acme-cdn.test${new URL(r.request().url()).pathname}`); r.fulfill({ status: 204 }); });
  await t.context.route('**/fixtures/b/config.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<script>
    // Injected at once, before the config has arrived.
    ['https://static.hotjar.com/c/hotjar-1.js?sv=6', 'https://cdn.segment.com/analytics.js/v1/K/analytics.min.js'].forEach(function (src) {
      var s = document.createElement('script'); s.src = src; document.head.appendChild(s);
    });
    var acme = new Image(); acme.id = 'acme'; acme.src = 'https://stats.acme-cdn.test/collect?e=view'; document.body.appendChild(acme);
  </script>`).replace('/assent.json', '/fixtures/b/config.json') }));
  await t.page.goto(`${env.base}/fixtures/b/config.html`);
  await waitFor(() => tagRuns(t.page).then((r) => r.segment > 0), 'the allow-listed script');
  await settle(t);
  assert.deepEqual(await tagRuns(t.page), { segment: 1 }, 'the allow-listed host ran at once; Hotjar waits');
  assert.deepEqual(t.seen.filter((s) => !s.startsWith('cdn.segment.com')), [], 'Hotjar and the added service sent nothing');
  const report = await t.page.evaluate(() => window.assent.report().map((r) => [r.service, r.purpose, r.state]));
  assert.deepEqual(report, [['Hotjar', 'analytics', 'held'], ['Acme Stats', 'marketing', 'held']]);
  await t.page.evaluate(() => window.assent.set({ analytics: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.hotjar === 1), 'Hotjar, now under analytics');
  assert.equal(count(t.seen, 'stats.acme-cdn.test'), 0, 'Acme Stats still waits for marketing');
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => count(t.seen, 'stats.acme-cdn.test/collect') === 1, 'the Acme pixel');
  await t.context.close();
});

// With `auto: false` the loader blocks nothing automatically, the config's own services included, as in the
// core and docs/blocking.md. It used to apply the config's services still, holding a tag the core knew
// nothing of.
test('config: auto false turns automatic blocking off in the loader as in the core, config services included', async () => {
  const config = JSON.parse(DEMO_CONFIG);
  config.blocking = { auto: false, services: [{ name: 'Acme Stats', purpose: 'marketing', match: ['stats.acme-cdn.test/collect'] }] };
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/off.json', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(config) }));
  await t.context.route('https://stats.acme-cdn.test/**', (r) => { t.seen.push(`stats.acme-cdn.test${new URL(r.request().url()).pathname}`); r.fulfill({ status: 204 }); });
  await t.context.route('**/fixtures/b/off.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<script>
    window.assent.ready.then(function () { var i = new Image(); i.src = 'https://stats.acme-cdn.test/collect?e=late'; document.body.appendChild(i); });
  </script>`).replace('/assent.json', '/fixtures/b/off.json') }));
  await t.page.goto(`${env.base}/fixtures/b/off.html`);
  await waitFor(() => count(t.seen, 'stats.acme-cdn.test/collect') === 1, 'the image loads: nothing is blocked automatically');
  assert.deepEqual(await t.page.evaluate(() => window.assent.report()), []);
  await t.context.close();
});

// Scripts and requests a page makes in less usual ways (each step of the fixture names what it guards).
test('a tracker whose type is set after its src stays held, script text is not rewritten, a released script keeps its onload, a dropped XHR fails like a network error', async () => {
  const t = await trackedPage();
  await t.context.route('https://js.payments.test/**', (r) => { t.seen.push('js.payments.test'); r.fulfill({ contentType: 'text/javascript', body: 'window.paymentsLoaded = true;' }); });
  await t.context.route('**/fixtures/b/script-quirks.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<script>
    // 1. A tracker whose type is set again after its src must stay held.
    var a = document.createElement('script');
    a.src = 'https://connect.facebook.net/en_US/fbevents.js';
    a.type = 'text/javascript';
    document.head.appendChild(a);
    // 2. A third-party script injected before the config arrived keeps its onload once released.
    var p = document.createElement('script');
    p.src = 'https://js.payments.test/v3/';
    p.onload = function () { window.paymentsOnload = true; };
    document.head.appendChild(p);
    // 3. Script text that looks like a host ("event.composedPath" holds "t.co") is not rewritten.
    var s = document.createElement('script');
    s.innerHTML = 'if (1 < 2 && typeof event === "undefined" || event.composedPath) window.rawText = "a && b";';
    document.head.appendChild(s);
    // 4. A dropped XHR ends like a network error: readyState 4, status 0.
    var x = new XMLHttpRequest();
    x.open('GET', 'https://api.segment.io/v1/p');
    x.onreadystatechange = function () { if (x.readyState === 4) window.xhrDone = x.status; };
    x.send();
  </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/script-quirks.html`);
  await settle(t);
  assert.equal(count(t.seen, 'connect.facebook.net'), 0, 'the Meta script stayed held');
  assert.equal(await t.page.evaluate(() => window.rawText), 'a && b', 'the inline script ran as written');
  await waitFor(() => t.page.evaluate(() => window.paymentsOnload === true), 'the released script\'s onload');
  assert.equal(await t.page.evaluate(() => window.xhrDone), 0);
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.meta === 1), 'the Meta script after consent');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// It used to be held again by its own activation.
test('a marked tracker script runs once when the wasm decides a returning visit', async () => {
  const t = await trackedPage();
  let config = DEMO_CONFIG;
  await t.context.route('**/fixtures/b/marked.json', (r) => r.fulfill({ contentType: 'application/json', body: config }));
  await t.context.route('**/fixtures/b/marked.html', (r) => r.fulfill({ contentType: 'text/html', body: head(
    `<script type="text/plain" data-category="analytics" src="https://www.googletagmanager.com/gtag/js?id=G-MARKED"></script>`)
    .replace('/assent.json', '/fixtures/b/marked.json') }));
  await t.page.goto(`${env.base}/fixtures/b/marked.html`);
  await settle(t);
  await t.page.evaluate(() => window.assent.set({ analytics: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.ga === 1), 'GA after consent');
  // A changed config: the loader cannot use the stored decision alone, so the wasm decides, and runs it.
  config = DEMO_CONFIG.replace('Demo Shop Ltd', 'Demo Shop Limited');
  await t.page.reload();
  await settle(t);
  await waitFor(() => tagRuns(t.page).then((r) => r.ga === 1), 'GA on the returning visit');
  await t.context.close();
});

// 1. A tracker tag marked with data-category but left live (no type="text/plain") is held, and so is a
//    marked frame with a live src. Both used to be skipped as if inert, so they ran before consent.
// 2. outerHTML on a <noscript> or <script> is cleaned like other markup. It used to be treated as raw text,
//    so its tracker markup loaded.
// 3. A dropped new Image() pixel fires error. It used to fire neither load nor error, so "track, then
//    navigate" code hung.
test('a live marked tracker is held, outerHTML of raw-text elements is cleaned, a dropped pixel fires error', async () => {
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/live-marked.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`
    <script data-category="analytics" async src="https://www.googletagmanager.com/gtag/js?id=G-DC"></script>
    <div id="v"></div><script>document.getElementById('v').innerHTML =
      '<iframe data-category="marketing" title="Marked video" width="560" height="315" src="https://www.youtube-nocookie.com/embed/dc"></iframe>';</script>
    <noscript id="ns"></noscript>
    <script>
      document.getElementById('ns').outerHTML = '<img alt="" src="https://www.facebook.com/tr?id=9&ev=Outer">';
      var px = new Image();
      px.onerror = function () { window.pixelDone = (window.pixelDone || 0) + 1; };
      px.src = 'https://px.ads.linkedin.com/collect/?pid=3&fmt=gif';
    </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/live-marked.html`);
  await settle(t);
  // (The browser's preload scanner may request a script written in the HTML: the documented limit.)
  const early = t.seen.filter((s) => !s.startsWith('www.googletagmanager.com/gtag/js'));
  assert.deepEqual(early, [], 'nothing else reached a tracker host before consent');
  assert.deepEqual(await tagRuns(t.page), {}, 'the marked GA tag did not run');
  await waitFor(() => t.page.evaluate(() => window.pixelDone === 1), 'the dropped pixel\'s error event');
  await t.page.evaluate(() => window.assent.set({ analytics: true, marketing: true }));
  await waitFor(() => tagRuns(t.page).then((r) => r.ga === 1), 'the marked GA tag after consent');
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/dc') === 1, 'the marked frame after consent');
  await waitFor(() => count(t.seen, 'www.facebook.com/tr') === 1, 'the outerHTML pixel after consent');
  await settle(t);
  assert.deepEqual(await tagRuns(t.page), { ga: 1 }, 'GA ran once');
  assert.equal(await t.page.evaluate(() => window.pixelDone), 1, 'error fired once');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// 1. A page's own gated script, built in JS with its src set last, keeps the page's category. The tracker
//    table used to re-categorise it (a Google Ads tag marked marketing ran once analytics was allowed).
// 2. Gated markup inserted with innerHTML (jQuery's .html(), Vue's v-html) runs on consent. It used to be
//    marked inert and never ran.
// 3. A frame that has run ("Load it") is checked again when pointed elsewhere. It used to be left alone, so
//    pointing it at another tracker loaded that one with no consent.
test('a gated tag keeps its own category, gated markup runs on consent, a frame that ran is checked again', async () => {
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/gated-own-category.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`
    <div id="m"></div><div id="v"></div>
    <script>
      var ads = document.createElement('script');
      ads.type = 'text/plain';
      ads.setAttribute('data-category', 'marketing');
      ads.src = 'https://www.googletagmanager.com/gtag/js?id=AW-1';
      document.head.appendChild(ads);
      document.getElementById('m').innerHTML =
        '<script type="text/plain" data-category="analytics" src="https://cdn.segment.com/analytics.js/v1/K/analytics.min.js"><\\/script>';
      var f = document.createElement('iframe'); f.width = 560; f.height = 315; f.title = 'Video';
      f.src = 'https://www.youtube-nocookie.com/embed/one';
      document.getElementById('v').appendChild(f);
      window.nextVideo = function (u) { f.src = u; };
    </script>`) }));
  await t.page.goto(`${env.base}/fixtures/b/gated-own-category.html`);
  await settle(t);
  assert.deepEqual(t.seen, [], 'nothing reached a tracker host before consent');
  await t.page.evaluate(() => window.assent.set({ analytics: true, marketing: false }));
  await waitFor(() => tagRuns(t.page).then((r) => r.segment === 1), 'the gated markup script, once analytics is allowed');
  await settle(t);
  assert.deepEqual(await tagRuns(t.page), { segment: 1 }, 'the Ads tag the page marked marketing did not run');
  // "Load it" loads this embed alone; the player may go on to its next video, not to another service.
  await t.page.frameLocator('#v iframe').getByRole('button', { name: 'Load it' }).click();
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/one') === 1, 'the embed, on "Load it"');
  // (Loaded, not only requested: under load, Chromium may drop a src set while the first navigation
  // is still committing.)
  await t.page.frameLocator('#v iframe').getByText('video').waitFor();
  await t.page.evaluate(() => window.nextVideo('https://www.youtube-nocookie.com/embed/two'));
  await waitFor(() => count(t.seen, 'www.youtube-nocookie.com/embed/two') === 1, 'the same player\'s next video');
  await waitFor(() => t.page.frames().some((f) => f.url().endsWith('/embed/two')), 'the next video to commit');
  await t.page.evaluate(() => window.nextVideo('https://player.vimeo.com/video/1'));
  await t.page.frameLocator('#v iframe').getByText('This content is hosted by Vimeo, which may set cookies.').waitFor();
  assert.equal(count(t.seen, 'player.vimeo.com'), 0, 'another service in the same frame waits for marketing, behind its placeholder');
  await t.page.evaluate(() => window.assent.set({ marketing: true }));
  await waitFor(() => count(t.seen, 'player.vimeo.com/video/1') === 1, 'the other service, once marketing is allowed');
  await waitFor(() => tagRuns(t.page).then((r) => r.ga === 1), 'the Ads tag, once marketing is allowed');
  await quiet(t.log);
  assert.deepEqual(await tagRuns(t.page), { segment: 1, ga: 1 }, 'each once');
  assert.deepEqual(t.log.pageErrors, []);
  await t.context.close();
});

// A malformed `blocking` section (the core refuses it with an error) leaves the loader's lookup working. It
// used to break it: a non-string allow entry let every tracker through, and a glob stopped the config's
// pass, leaving a third-party script injected before the config held for good.
test('a malformed blocking config keeps the tracker table working and releases what is no tracker', async () => {
  const config = JSON.parse(DEMO_CONFIG);
  config.blocking = { services: [{ name: 'Acme', purpose: 'marketing', match: ['*.acme-cdn.test', null] }, { purpose: 'analytics' }], allow: [{ host: 'x' }] };
  const t = await trackedPage();
  await t.context.route('**/fixtures/b/badconfig.json', (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify(config) }));
  await t.context.route('https://js.payments.test/**', (r) => r.fulfill({ contentType: 'text/javascript', body: 'window.paymentsLoaded = true;' }));
  await t.context.route('**/fixtures/b/badconfig.html', (r) => r.fulfill({ contentType: 'text/html', body: head(`<div id="slot"></div><script>
    var p = document.createElement('script'); p.src = 'https://js.payments.test/v3/'; document.head.appendChild(p);
    window.assent.ready.then(function () {
      document.getElementById('slot').insertAdjacentHTML('beforeend', '<img alt="" width="1" height="1" src="https://px.ads.linkedin.com/collect/?pid=4&fmt=gif">');
      window.lateInserted = true;
    });
  </script>`).replace('/assent.json', '/fixtures/b/badconfig.json') }));
  await t.page.goto(`${env.base}/fixtures/b/badconfig.html`);
  await settle(t);
  await waitFor(() => t.page.evaluate(() => window.lateInserted === true), 'the late pixel');
  await waitFor(() => t.page.evaluate(() => window.paymentsLoaded === true), 'the payment script, released once the config arrived');
  await settle(t);
  assert.deepEqual(t.seen, [], 'the LinkedIn pixel stayed held');
  await t.context.close();
});
