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
  const log = { requests: [], consoleErrors: [], consoleWarnings: [], pageErrors: [] };
  page.on('request', (r) => log.requests.push(new URL(r.url()).pathname));
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text());
    if (m.type() === 'warning') log.consoleWarnings.push(m.text());
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  return { context, page, log };
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

/** Starts the collector binary on SQLite file `db`; resolves once /healthz answers. */
export async function startCollector(port, db, origin) {
  const child = spawn(COLLECTOR, ['--listen', `127.0.0.1:${port}`, '--db', db, '--api-key', KEY, '--allow-origin', origin],
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

/** Waits until the collector on `port` has exactly `n` receipts of `subject`; returns them. */
/** A receipt's claims, after `jose` (not our code) verified its signature with the key in its header. */
export async function verifiedClaims(jws) {
  return JSON.parse(new TextDecoder().decode((await compactVerify(jws, EmbeddedJWK)).payload));
}

export function receiptsAt(port, subject, n, what) {
  return waitFor(async () => { const r = await exported(port, subject); return r.length === n && r; }, what);
}

/** Polls `fn` until it returns something truthy. */
export async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
