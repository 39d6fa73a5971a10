// Screenshots of the banner and the preferences dialog as a person sees them, for docs/.
// Run with `cargo xtask screenshots` (builds first).
import { setup, openPage, load, banner, prefsDialog } from './helpers.mjs';

const env = await setup();
const shots = [];
for (const [w, h] of [[1280, 800], [375, 700]]) {
  for (const [region, name] of [['DE', 'opt-in'], ['US-CA', 'opt-out']]) {
    const { context, page } = await openPage(env, { viewport: { width: w, height: h } });
    await load(page, `${env.base}/?region=${region}`);
    await banner(page).waitFor();
    const file = `docs/screenshots/banner-${name}-${w}x${h}.png`;
    await page.screenshot({ path: file });
    shots.push(file);
    if (name === 'opt-in') {
      await page.evaluate(() => window.assent.showPreferences());
      await prefsDialog(page).waitFor();
      const prefs = `docs/screenshots/preferences-${w}x${h}.png`;
      await page.screenshot({ path: prefs });
      shots.push(prefs);
    }
    await context.close();
  }
}
await env.close();
console.log(shots.join('\n'));
