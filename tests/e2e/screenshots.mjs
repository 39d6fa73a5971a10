// Screenshots of every flow as a person sees it, for docs/screenshots/: the opt-in banner, the
// preferences dialog, the opt-out notice with the GPC status, the chat widget's AI toggle and an embed's
// placeholder, each in English, German, Arabic and Japanese, light and dark, desktop and mobile.
// Run with `npm run screenshots` (`cargo xtask screenshots`, which builds first). With `--sheets DIR`,
// it also writes one contact sheet per flow into DIR, to look at them side by side.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { setup, openPage, painted } from './helpers.mjs';

const GPC_ON = 'Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true, configurable: true });';
const OUT = 'docs/screenshots';
const LANGS = ['en', 'de', 'ar', 'ja'];
const SCHEMES = ['light', 'dark'];
const SIZES = [[1280, 800], [375, 700]];
const first = (page) => page.locator('#assent-ui .banner');
const button = (page, n) => page.locator('#assent-ui .banner .btn').nth(n);

// name → [page path, open options, what to do before the shot, what to capture]
const FLOWS = {
  'banner-opt-in': ['/?region=DE', {}, async (p) => first(p).waitFor(), (p) => p],
  preferences: ['/?region=DE', {}, async (p) => { await button(p, 2).click(); await p.locator('#assent-ui .dialog').waitFor(); }, (p) => p],
  'banner-opt-out-gpc': ['/?region=US-CA', { initScript: GPC_ON }, async (p) => p.locator('#assent-ui .status').waitFor(), (p) => p],
  'chat-toggle': ['/chat.html?region=DE', {}, async (p) => { await button(p, 1).click(); await first(p).waitFor({ state: 'detached' }); await p.getByRole('switch').first().waitFor(); }, (p) => p.locator('demo-chat')],
  placeholder: ['/blocking.html?region=DE', {}, async (p) => { await button(p, 1).click(); await first(p).waitFor({ state: 'detached' }); await p.frameLocator('#video iframe').getByRole('button').first().waitFor(); }, (p) => p.locator('#video')],
};

const env = await setup();
mkdirSync(OUT, { recursive: true });
for (const f of readdirSync(OUT)) if (f.endsWith('.png')) rmSync(`${OUT}/${f}`);
const shots = {};
for (const [flow, [path, options, show, target]] of Object.entries(FLOWS)) {
  shots[flow] = [];
  for (const lang of LANGS) {
    for (const colorScheme of SCHEMES) {
      for (const [width, height] of SIZES) {
        const { context, page } = await openPage(env, { ...options, viewport: { width, height }, context: { colorScheme } });
        await page.goto(`${env.base}${path}${path.includes('?') ? '&' : '?'}lang=${lang}`);
        await page.evaluate(() => window.assent.ready);
        await show(page);
        await painted(page);
        const file = `${OUT}/${flow}-${lang}-${colorScheme}-${width}x${height}.png`;
        await target(page).screenshot({ path: file });
        shots[flow].push(file);
        await context.close();
      }
    }
  }
}

// Contact sheets: every shot of a flow on one page, labelled.
const at = process.argv.indexOf('--sheets');
if (at > 0) {
  const dir = process.argv[at + 1];
  mkdirSync(dir, { recursive: true });
  const { context, page } = await openPage(env, { viewport: { width: 1600, height: 1000 } });
  for (const [flow, files] of Object.entries(shots)) {
    const cells = files.map((f) => `<figure><img src="data:image/png;base64,${readFileSync(f).toString('base64')}"><figcaption>${f.split('/').pop()}</figcaption></figure>`).join('');
    await page.route('**/sheet', (r) => r.fulfill({ contentType: 'text/html', body: `<!doctype html><style>body{margin:8px;font:12px sans-serif;display:grid;grid-template-columns:repeat(4,1fr);gap:8px;align-items:start}
      figure{margin:0}img{width:100%;border:1px solid #999}</style>${cells}` }));
    await page.goto(`${env.base}/sheet`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: `${dir}/${flow}.png`, fullPage: true });
    await page.unroute('**/sheet');
  }
  await context.close();
}
await env.close();
console.log(Object.values(shots).flat().join('\n'));
