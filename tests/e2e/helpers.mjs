// Shared set-up for the end-to-end tests: the demo server on a free loopback port, Debian's Chromium
// through playwright-core, and a per-page request log (what the browser actually fetched).
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { compactVerify, EmbeddedJWK } from 'jose';
import { startServer } from '../../web/demo/serve.mjs';

export const DEMO_CONFIG = readFileSync(new URL('../../web/demo/assent.json', import.meta.url), 'utf8');

/** URLs of the demo's gated tags, by purpose. */
export const GATED = {
  analytics: ['/tags/analytics.js', '/tags/pixel.gif'],
  marketing: ['/tags/marketing.js', '/tags/embed.html'],
};
export const ALL_GATED = [...GATED.analytics, ...GATED.marketing];
export const WASM = '/assent/assent_client_bg.wasm';

/** Starts the server (with extra in-memory files and, optionally, a collector behind it) and the browser. */
export async function setup(files = {}, serverOptions = {}, launchArgs = []) {
  const server = await startServer({ port: 0, files, ...serverOptions });
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', ...launchArgs],
  });
  return {
    base,
    browser,
    async close() {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A fresh context (empty cookie jar) and page that records requests, console errors and page errors.
 * `context` takes Playwright's context options (`locale`, `colorScheme`, `reducedMotion`, …). */
export async function openPage(env, { initScript, viewport, context: options = {} } = {}) {
  const context = await env.browser.newContext({ viewport: viewport || { width: 1280, height: 800 }, ...options });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const log = track(page, { requests: [], consoleErrors: [], consoleWarnings: [], pageErrors: [] });
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
    if (m.type() === 'warning') log.consoleWarnings.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  return { context, page, log };
}

const frameOf = (request) => { try { return request.frame(); } catch { return null; } }; // none for a worker's

/** Records `page`'s requests in `log` (created if not given): `requests`, the path of each in order, and
 * what `quiet` reads, the requests still in flight and when the last one started or ended. `openPage`
 * does this for its page; call it for a page made otherwise. Returns `log`. */
export function track(page, log = { requests: [] }) {
  log.inFlight = new Map(); // request → { seq, frame, navigation, answered }
  log.lastActivity = Date.now();
  let seq = 0;
  const pending = new Map(); // frame → the seq of its latest navigation request not yet committed
  const touch = () => { log.lastActivity = Date.now(); };
  const drop = (keep) => {
    for (const [r, state] of log.inFlight) if (!keep(state)) log.inFlight.delete(r);
    touch();
  };
  page.on('request', (r) => {
    seq += 1;
    const frame = frameOf(r);
    const navigation = r.isNavigationRequest();
    log.requests.push(new URL(r.url()).pathname);
    log.inFlight.set(r, { seq, frame, navigation, answered: false });
    if (navigation && frame) pending.set(frame, seq);
    touch();
  });
  const ended = (r) => {
    log.inFlight.delete(r);
    touch();
  };
  page.on('requestfinished', ended);
  page.on('requestfailed', ended);
  // A frame's requests end with its document, and a frame's navigation with the next one it commits (a
  // placeholder's srcdoc, say): Chromium reports no end for the requests it cancels then, nor for a keepalive
  // request (a receipt's delivery, or the outbox's flush on `pagehide` during a reload) whose page went away
  // before its answer was read. Every request of the frame still in flight when the next document commits
  // was made by the one that went (the new one has run nothing yet), and nothing of it can reach the page any
  // more. (A same-document navigation, pushState, ends only the frame's navigations.)
  page.on('framenavigated', (frame) => {
    const from = pending.get(frame) ?? 0;
    pending.delete(frame);
    drop((s) => s.frame !== frame || !(s.navigation || from));
  });
  page.on('framedetached', (frame) => drop((s) => s.frame !== frame));
  page.on('response', (res) => {
    const state = log.inFlight.get(res.request());
    if (!state) return;
    state.answered = true;
    touch();
  });
  return log;
}

/** Waits until the page `log` records (see `track`) has gone quiet: no request in flight, and none started
 * or ended for `idle` ms. It throws if that has not happened within `max` ms.
 *
 * What it proves: everything the page had set going by the time of the call (a released tag, the requests
 * that tag makes, the frame it loads, the next tag those inject) has run its course, since each step of such
 * a chain goes through the network. Call it before asserting that something did NOT happen (no request
 * reached a host, a tag ran once and no more): the assertion then covers everything the page did until it
 * went quiet, not merely the first few hundred milliseconds. It does not see work a page defers on a timer
 * without touching the network: wait for that, and for what MUST happen, with a signal of its own first
 * (`waitFor`, `page.waitForFunction`, a locator). Quiet proves an absence, not an arrival. */
export async function quiet(log, { idle = 500, max = 15000 } = {}) {
  const end = Date.now() + max;
  for (;;) {
    const now = Date.now();
    if (log.inFlight.size === 0 && now - log.lastActivity >= idle) return;
    if (now > end) {
      const open = [...log.inFlight].map(([r, s]) => `${r.url()} (${s.answered ? 'answered' : 'unanswered'})`).join(', ');
      throw new Error(`the page did not go quiet within ${max} ms${open ? `; still in flight: ${open}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the page shows its current state: web fonts loaded, every finite CSS animation and
 * transition (in the document and in open shadow roots) finished, and two animation frames rendered
 * since, so that the layout and paint of the current DOM, and the layout shifts it caused, are done.
 * It proves what the page looks like after the last change, not that no later change will come. */
export async function painted(target) {
  await target.evaluate(async () => {
    await document.fonts.ready;
    const roots = [document];
    for (let i = 0; i < roots.length; i++) for (const e of roots[i].querySelectorAll('*')) if (e.shadowRoot) roots.push(e.shadowRoot);
    const running = new Set(roots.flatMap((r) => r.getAnimations()));
    await Promise.all([...running]
      .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
      .map((a) => a.finished.catch(() => {})));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
}

/** Requests made so far to any of `paths` (query strings ignored). */
export function hits(log, paths) {
  return log.requests.filter((p) => paths.includes(p));
}

/** Loads a page and waits until Assent has decided and the network is quiet. */
export async function load(page, url) {
  await page.goto(url);
  await page.evaluate(() => window.assent.ready);
  await page.waitForLoadState('networkidle');
}

/** The banner (the first layer). Playwright's role locators pierce Assent's open shadow root. */
export function banner(page) {
  return page.getByRole('dialog', { name: /privacy choices|Datenschutz|confidentialité/i });
}

export function prefsDialog(page) {
  return page.getByRole('dialog', { name: /preferences|einstellungen|préférences/i });
}

/** The stored decision cookie, or undefined. */
export async function decisionCookie(context) {
  return (await context.cookies()).find((c) => c.name === 'assent');
}

/** Waits until the receipt of the current decision has been signed and stored in this browser. */
export async function receiptMade(page) {
  await page.waitForFunction(() => {
    const c = window.assent.consent();
    return c !== null && localStorage.getItem('assent.receipt') === c.receipt;
  });
}

// --- The real collector binary (built by `cargo xtask test`) and the CLI ---
export const COLLECTOR = new URL('../../target/debug/assent-collector', import.meta.url).pathname;
export const CLI = new URL('../../target/debug/assent', import.meta.url).pathname;
export const KEY = 'test-api-key';

export const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

/** Starts the collector binary on SQLite file `db` (with `extra` arguments); resolves once /healthz answers. */
export async function startCollector(port, db, origin, extra = []) {
  const child = spawn(COLLECTOR, ['--listen', `127.0.0.1:${port}`, '--db', db, '--api-key', KEY, '--allow-origin', origin, ...extra],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, RUST_LOG: 'warn' } });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('collector did not start');
}

/** A subject's receipts as the collector exports them. */
export async function exported(port, subject) {
  const res = await fetch(`http://127.0.0.1:${port}/v1/subjects/${subject}/receipts`, { headers: { authorization: `Bearer ${KEY}` } });
  if (res.status !== 200) throw new Error(`export answered ${res.status}`);
  return (await res.json()).receipts;
}

/** A receipt's claims, after `jose` (not our code) verified its signature with the key in its header. */
export async function verifiedClaims(jws) {
  return JSON.parse(new TextDecoder().decode((await compactVerify(jws, EmbeddedJWK)).payload));
}

/** Waits until the collector on `port` has exactly `n` receipts of `subject`; returns them. */
export function receiptsAt(port, subject, n, what) {
  return waitFor(async () => { const r = await exported(port, subject); return r.length === n && r; }, what);
}

/** Polls `fn` until it returns something truthy. */
/**
 * Makes the wasm trap at its next decision: `Date.now`, which the client reads for every decision and
 * calls without catching, throws as a trap would. `untrap` puts a clock back.
 */
export async function trapNextDecision(page) {
  await page.evaluate(() => {
    window.trapAt = Date.now();
    Date.now = () => { throw new WebAssembly.RuntimeError('unreachable'); };
  });
  return () => page.evaluate(() => { Date.now = () => window.trapAt; });
}

export async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
