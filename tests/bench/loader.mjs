// `cargo xtask bench loader`: what the loader's interception costs the page, in headless Chromium.
// The same page runs the same DOM work with and without Assent's loader; the difference per call is the
// cost of interception. Run after `cargo xtask dist` (the task does it).
import { setup } from '../e2e/helpers.mjs';

const BATCH = 20000;
const ROUNDS = 15;
const page = (withAssent) => `<!doctype html><html lang="en"><head><meta charset="utf-8">
${withAssent ? '<script src="/assent/assent.js" data-config="/assent.json" data-region="DE" data-consent-mode></script>' : ''}
<title>bench</title></head><body><div id="root"></div></body></html>`;

// Each case builds its nodes first and times only the insertions (and the removals, which are not wrapped).
const CASES = {
  'appendChild(<div>)': `function () { var n = []; for (var i = 0; i < B; i++) n.push(document.createElement('div'));
    var t = performance.now(); for (var i = 0; i < B; i++) root.appendChild(n[i]); var d = performance.now() - t; root.textContent = ''; return d; }`,
  'appendChild(<div> with 3 children)': `function () { var n = []; for (var i = 0; i < B; i++) { var e = document.createElement('div');
    e.innerHTML = '<span>a</span><b>b</b><i>c</i>'; n.push(e); }
    var t = performance.now(); for (var i = 0; i < B; i++) root.appendChild(n[i]); var d = performance.now() - t; root.textContent = ''; return d; }`,
  'appendChild(<img src> first-party)': `function () { var n = []; for (var i = 0; i < B; i++) { var e = document.createElement('img'); e.setAttribute('src', '/x' + (i % 50) + '.gif'); n.push(e); }
    var t = performance.now(); for (var i = 0; i < B; i++) root.appendChild(n[i]); var d = performance.now() - t; root.textContent = ''; return d; }`,
  'innerHTML = (no tracker host)': `function () { var t = performance.now(); for (var i = 0; i < B / 10; i++) root.innerHTML = '<p>item ' + i + '</p>'; var d = performance.now() - t; root.textContent = ''; return d * 10; }`,
};

const env = await setup({ '/bench/with.html': { type: 'text/html', body: page(true) }, '/bench/without.html': { type: 'text/html', body: page(false) } });
const results = {};
try {
  for (const variant of ['without', 'with']) {
    const context = await env.browser.newContext();
    await context.route(/\/x\d+\.gif$/, (r) => r.fulfill({ status: 204 }));
    const p = await context.newPage();
    await p.goto(`${env.base}/bench/${variant}.html`);
    if (variant === 'with') await p.evaluate(() => window.assent.ready);
    for (const [name, fn] of Object.entries(CASES)) {
      const times = await p.evaluate(({ fn, B, R }) => {
        const root = document.getElementById('root');
        const run = new Function('root', 'B', `return (${fn})()`);
        run(root, B); // warm-up
        const out = [];
        for (let r = 0; r < R; r++) out.push(run(root, B));
        return out.sort((a, b) => a - b);
      }, { fn, B: BATCH, R: ROUNDS });
      results[name] ||= {};
      results[name][variant] = (times[Math.floor(times.length / 2)] / BATCH) * 1e6; // ns per call, median round
    }
    await context.close();
  }
} finally {
  await env.close();
}
console.log(`\nInterception cost per call (median of ${ROUNDS} rounds of ${BATCH} calls, headless Chromium)`);
console.log(`  ${'call'.padEnd(40)} ${'without'.padStart(10)} ${'with'.padStart(10)} ${'added'.padStart(10)}`);
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(40)} ${r.without.toFixed(0).padStart(7)} ns ${r.with.toFixed(0).padStart(7)} ns ${(r.with - r.without).toFixed(0).padStart(7)} ns`);
}
