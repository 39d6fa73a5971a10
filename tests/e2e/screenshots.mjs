// Screenshots of the banner, the preferences dialog, the chat toggle and the blocking demo as a person
// sees them, for docs/.
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
// The chat widget with the AI toggle (after "Reject all", so the banner is out of the way).
for (const [w, h] of [[1280, 800], [375, 700]]) {
  const { context, page } = await openPage(env, { viewport: { width: w, height: h } });
  await load(page, `${env.base}/chat.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await page.getByRole('switch', { name: /Use this conversation/ }).waitFor();
  const file = `docs/screenshots/chat-toggle-${w}x${h}.png`;
  await page.locator('demo-chat').screenshot({ path: file });
  shots.push(file);
  await context.close();
}
// Automatic blocking: the demo page after "Reject all", with the embed's placeholder and the report.
for (const [w, h] of [[1280, 800], [375, 700]]) {
  const { context, page } = await openPage(env, { viewport: { width: w, height: h } });
  await load(page, `${env.base}/blocking.html?region=DE`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await page.frameLocator('#video iframe').getByRole('button', { name: 'Load it' }).waitFor();
  await page.getByRole('button', { name: 'Show what Assent blocked' }).click();
  const file = `docs/screenshots/blocking-${w}x${h}.png`;
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
  await context.close();
}
await env.close();
console.log(shots.join('\n'));
