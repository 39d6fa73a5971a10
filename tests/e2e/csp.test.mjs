// A page under a strict, nonce-based Content Security Policy (docs/csp.md): Assent's banner, dialog,
// AI toggle and embed placeholder are styled, a gated inline script runs once allowed, the receipt
// module loads, and nothing Assent does is refused: no `securitypolicyviolation` in the page or in the
// placeholder's frame, and nothing red on the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, banner, prefsDialog, waitFor, quiet } from './helpers.mjs';

const NONCE = 'cspTestNonce0123456789';
const POLICY = `script-src 'nonce-${NONCE}' 'strict-dynamic' 'wasm-unsafe-eval'; style-src 'self' 'nonce-${NONCE}'; ` +
  "object-src 'none'; base-uri 'none'";
const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<script nonce="${NONCE}" src="/assent/assent.js" data-config="/assent.json" data-region="DE"></script>
<title>strict CSP</title></head><body>
<h1>A page under a strict CSP</h1>
<script type="text/plain" data-category="analytics" nonce="${NONCE}">window.ranAnalytics = (window.ranAnalytics || 0) + 1;</script>
<iframe id="video" title="Video" width="480" height="270" src="https://www.youtube.com/embed/csp"></iframe>
<assent-ai-toggle conversation="c-csp"></assent-ai-toggle>
</body></html>`;

// Every violation, in the page and in each frame (the placeholder's srcdoc document inherits the policy).
const RECORD = `window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  (window.top.__violations || window.__violations).push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || ''));
});`;

let env;
before(async () => {
  env = await setup({ '/csp.html': { type: 'text/html', body: PAGE, headers: { 'content-security-policy': POLICY } } });
});
after(() => env.close());

async function cspPage() {
  const opened = await openPage(env, { initScript: RECORD });
  await opened.context.route((url) => url.hostname === 'www.youtube.com', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<p>video</p>' }));
  // No collector runs here: the receipt POST is answered as a collector that stored it would.
  await opened.context.route((url) => url.pathname === '/v1/receipts', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: '{}' }));
  await opened.page.goto(`${env.base}/csp.html`);
  return opened;
}

test('under a strict nonce-based CSP the banner is styled as a fixed first layer, with nothing refused', async () => {
  const { context, page, log } = await cspPage();
  await banner(page).waitFor();
  const layout = await page.evaluate(() => {
    const root = document.getElementById('assent-ui').shadowRoot;
    const section = root.querySelector('section.banner');
    const buttons = [...section.querySelectorAll('button')].map((b) => b.getBoundingClientRect());
    return { position: getComputedStyle(section).position, widths: buttons.map((b) => Math.round(b.width)), heights: buttons.map((b) => Math.round(b.height)) };
  });
  assert.equal(layout.position, 'fixed', 'the banner is a fixed first layer, not unstyled in the flow');
  assert.equal(new Set(layout.heights).size, 1, `the three choices are equally prominent: ${JSON.stringify(layout)}`);
  // The embed's placeholder, in a srcdoc document that inherits the policy, is styled too.
  const frame = page.frameLocator('#video');
  await frame.getByRole('button', { name: /Load/ }).waitFor();
  const shown = await page.evaluate(() => {
    const doc = document.getElementById('video').contentDocument;
    return { hidden: doc.body.hidden, display: getComputedStyle(doc.body).display };
  });
  assert.deepEqual(shown, { hidden: false, display: 'flex' });
  await quiet(log);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(log.consoleErrors, []);
  assert.equal(await page.evaluate(() => window.ranAnalytics), undefined, 'nothing optional ran before a choice');
  await context.close();
});

test('under a strict CSP the dialog and the AI toggle are styled, a gated inline script runs once allowed, and receipts are made', async () => {
  const { context, page, log } = await cspPage();
  await banner(page).getByRole('button', { name: 'Preferences' }).click();
  const dialog = prefsDialog(page);
  await dialog.waitFor();
  const radius = await page.evaluate(() => getComputedStyle(document.getElementById('assent-ui').shadowRoot.querySelector('.dialog')).borderRadius);
  assert.notEqual(radius, '0px', 'the dialog has its stylesheet');
  await dialog.getByRole('switch', { name: /Analytics/ }).click();
  await dialog.getByRole('button', { name: 'Save choices' }).click();
  await waitFor(() => page.evaluate(() => window.ranAnalytics === 1), 'the gated inline script to run with its nonce');
  // The receipt module loads under the policy, and the decision's receipt is made.
  await waitFor(() => page.evaluate(() => localStorage.getItem('assent.receipt') !== null), 'the receipt');
  const toggle = await page.evaluate(() => {
    const host = document.querySelector('assent-ai-toggle');
    const sw = host.shadowRoot?.querySelector('[role=switch]');
    return sw ? getComputedStyle(sw).cursor : null;
  });
  assert.equal(toggle, 'pointer', 'the toggle has its stylesheet');
  await quiet(log);
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(log.consoleErrors, []);
  await context.close();
});
