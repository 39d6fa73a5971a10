// One harness for the three engines the suite runs in (DEVELOPERS.md lists the traps behind each
// choice):
// - Chromium through playwright-core;
// - Firefox through Debian's firefox-esr and puppeteer-core's WebDriver BiDi;
// - WebKit through Debian's WebKitWebDriver (webkit2gtk-driver) and selenium-webdriver, under Xvfb.
// A session is a fresh profile: `go` loads a page, `run` evaluates a function body in it and returns
// its JSON-able result, `until` polls one until it is truthy. Pages record their own errors (WebKit's
// WebDriver reports no console events), and every request that leaves the page for another host goes
// through a recording proxy, the same in all three engines.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { Builder } from 'selenium-webdriver';
import { startServer } from '../../web/demo/serve.mjs';
import { waitFor } from '../e2e/helpers.mjs';

/** The engines to run in: all three, or those `ENGINES` names (`ENGINES=webkit npm test` is not how CI runs). */
export const ENGINES = (process.env.ENGINES || 'chromium,firefox,webkit').split(',');

/**
 * The first thing in every test page's <head>: errors, rejections, Content Security Policy violations and
 * console.error lines, kept in the page (`nonce`: the page's, under a CSP).
 */
export const recordErrors = (nonce = '') => `<script${nonce ? ` nonce="${nonce}"` : ''}>window.__errors = [];
addEventListener('error', (e) => __errors.push('error: ' + e.message));
addEventListener('unhandledrejection', (e) => __errors.push('rejection: ' + e.reason));
document.addEventListener('securitypolicyviolation', (e) => __errors.push('csp: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
const __consoleError = console.error;
console.error = (...a) => { __errors.push(a.map(String).join(' ')); __consoleError.apply(console, a); };</script>`;
export const RECORD_ERRORS = recordErrors();

/**
 * A proxy that records every request for another host: `host/path` of a plain-HTTP request (answered
 * by `answer(url)`: `{ type, body, delay }`, or null for 204), and `host:port` of a CONNECT (an HTTPS request,
 * or one the browser upgraded for an HSTS-preloaded host), which is refused.
 * @param {(url: URL) => { type: string, body: string } | null} answer
 */
function startProxy(answer) {
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url);
    requests.push(url.host + url.pathname);
    const file = answer(url);
    if (file?.delay) await new Promise((r) => setTimeout(r, file.delay));
    res.writeHead(file ? 200 : 204, { 'content-type': file ? file.type : 'text/plain', 'cache-control': 'no-store' });
    res.end(file ? file.body : '');
  });
  server.on('connect', (req, socket) => {
    requests.push(req.url);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, requests, port: server.address().port })));
}

/**
 * The demo server (with `files`) and the recording proxy, for every engine of a run.
 * @param {Record<string, { body: string, type?: string }>} files
 * @param {(url: URL) => { type: string, body: string } | null} answer what the proxy answers a plain-HTTP request with
 */
export async function startEnv(files, answer) {
  const site = await startServer({ port: 0, files });
  const proxy = await startProxy(answer);
  return {
    base: `http://127.0.0.1:${site.address().port}`,
    proxy,
    async close() {
      await new Promise((r) => site.close(r));
      await new Promise((r) => proxy.server.close(r));
    },
  };
}

/**
 * The browsers' own traffic through the proxy (updates, settings, sign-in), which no page started:
 * Chromium's component updater and sign-in, Firefox's remote settings and services. None of these hosts
 * is in the tracker database.
 */
const BROWSER_OWN = /^([a-z0-9-]+\.)*(mozilla\.(com|net|org)|firefox\.com|gvt1\.com)(:\d+)?(\/|$)|^(update|safebrowsing|content-autofill|optimizationguide-pa)\.googleapis\.com(:\d+)?(\/|$)|^(accounts|clients\d?)\.google\.com(:\d+)?(\/|$)/;

/** What the page sent to other hosts through the proxy: `host/path`, or `host:port` for HTTPS. */
export const pageRequests = (proxy) => proxy.requests.filter((r) => !BROWSER_OWN.test(r));

/** Polls a function until it returns something truthy (at most `ms`), and returns that: the e2e suite's `waitFor`. */
export const until = waitFor;

/**
 * Waits until no request has reached the proxy for `idle` ms (at most `max`): what has not gone out
 * by then, from anything the page set going, does not go out.
 */
export async function proxyQuiet(proxy, { idle = 500, max = 10000 } = {}) {
  const end = Date.now() + max;
  let count = proxy.requests.length;
  let since = Date.now();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    if (proxy.requests.length !== count) {
      count = proxy.requests.length;
      since = Date.now();
    } else if (Date.now() - since >= idle) return;
  }
}

/** A session over a Playwright or Puppeteer browser context (the same page API): `evaluate(page, body)`
 * runs a function body in the current tab. */
function tabs(context, first, evaluate) {
  let page = first;
  return {
    go: (url) => page.goto(url),
    run: (body) => evaluate(page, body),
    async closeTab() {
      const next = await context.newPage();
      await page.close();
      page = next;
    },
    close: () => context.close(),
  };
}

/** Starts an engine; `session()` opens a fresh profile in it, with one tab: `go` loads a page in it, `run`
 * evaluates a function body there, and `closeTab` closes it for a new tab in the same profile. */
export async function launch(engine, env) {
  const proxy = `127.0.0.1:${env.proxy.port}`;
  if (engine === 'chromium') {
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
      proxy: { server: `http://${proxy}`, bypass: '127.0.0.1' },
    });
    return {
      async session() {
        const context = await browser.newContext();
        return tabs(context, await context.newPage(), (page, body) => page.evaluate((b) => new Function(b)(), body));
      },
      close: () => browser.close(),
    };
  }
  if (engine === 'firefox') {
    const [host, port] = proxy.split(':');
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
      protocol: 'webDriverBiDi',
      headless: true,
      extraPrefsFirefox: {
        'network.proxy.type': 1,
        'network.proxy.http': host,
        'network.proxy.http_port': Number(port),
        'network.proxy.ssl': host,
        'network.proxy.ssl_port': Number(port),
        'network.proxy.no_proxies_on': '127.0.0.1',
      },
    });
    return {
      async session() {
        const context = await browser.createBrowserContext();
        return tabs(context, await context.newPage(), (page, body) => page.evaluate(new Function(body)));
      },
      close: () => browser.close(),
    };
  }
  // WebKit: Xvfb for its display (it has no headless mode), and WebKitWebDriver, which starts a fresh
  // MiniBrowser profile for each session. libsoup takes the proxy from the environment.
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const display = await new Promise((resolve, reject) => {
    xvfb.stdio[3].once('data', (d) => resolve(`:${String(d).trim()}`));
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code})`)));
  });
  const port = await new Promise((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const driverEnv = {
    ...process.env, DISPLAY: display, WEBKIT_DISABLE_COMPOSITING_MODE: '1',
    http_proxy: `http://${proxy}`, https_proxy: `http://${proxy}`, no_proxy: '127.0.0.1',
  };
  const driver = spawn(process.env.WEBKIT_DRIVER || '/usr/bin/WebKitWebDriver', [`--port=${port}`], { stdio: 'ignore', env: driverEnv });
  const server = `http://127.0.0.1:${port}`;
  await until(() => fetch(`${server}/status`).then((r) => r.ok, () => false), 'WebKitWebDriver to listen', 15000);
  return {
    async session() {
      const wd = await new Builder().usingServer(server).withCapabilities({
        browserName: 'MiniBrowser',
        'webkitgtk:browserOptions': { binary: process.env.MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', args: ['--automation'] },
      }).build();
      await wd.manage().setTimeouts({ script: 10000, pageLoad: 20000 });
      return {
        go: (url) => wd.get(url),
        run: (body) => wd.executeScript(body),
        async closeTab() {
          const old = await wd.getWindowHandle();
          await wd.switchTo().newWindow('tab');
          const next = await wd.getWindowHandle();
          await wd.switchTo().window(old);
          await wd.close();
          await wd.switchTo().window(next);
        },
        close: () => wd.quit(),
      };
    },
    async close() {
      driver.kill();
      xvfb.kill();
    },
  };
}
