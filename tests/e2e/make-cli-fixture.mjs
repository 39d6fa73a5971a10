// Makes the CLI's test fixture from a real run: a browser (Debian's Chromium) refuses, then opts in to
// AI training, then opts out again; the real collector stores the three signed receipts; its export and
// a transcript file with records around those moments, and the collector's JWKS are written to
// crates/assent-cli/tests/fixtures/.
// Run after `cargo build -p assent-collector` and `npm run build`: node tests/e2e/make-cli-fixture.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, openPage, load, banner, receiptMade, DEMO_CONFIG } from './helpers.mjs';

const port = 18765;
const config = JSON.parse(DEMO_CONFIG);
config.receipts = { endpoints: [`http://127.0.0.1:${port}/v1/receipts`] };
const env = await setup({ '/fixtures/receipts.json': { body: JSON.stringify(config) } });
const db = join(mkdtempSync(join(tmpdir(), 'assent-fixture-')), 'receipts.sqlite');
const collector = spawn(new URL('../../target/debug/assent-collector', import.meta.url).pathname,
  ['--listen', `127.0.0.1:${port}`, '--db', db, '--api-key', 'k', '--allow-origin', env.base], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1000));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
try {
  const { page } = await openPage(env);
  await load(page, `${env.base}/?region=DE&config=/fixtures/receipts.json`);
  await banner(page).getByRole('button', { name: 'Reject all' }).click();
  await receiptMade(page);
  await sleep(2100);
  await page.evaluate(() => window.assent.set({ ai_training: true }));
  await receiptMade(page);
  await sleep(2100);
  await page.evaluate(() => window.assent.withdraw('ai_training'));
  await receiptMade(page);
  const subject = await page.evaluate(() => window.assent.consent().subject);
  let exported;
  for (let i = 0; i < 100; i++) {
    exported = await (await fetch(`http://127.0.0.1:${port}/v1/subjects/${subject}/receipts`, { headers: { authorization: 'Bearer k' } })).json();
    if (exported.receipts.length === 3) break;
    await sleep(200);
  }
  const claims = exported.receipts.map((r) => JSON.parse(Buffer.from(r.jws.split('.')[1], 'base64url').toString()));
  const [t1, t2, t3] = claims.map((c) => c.iat);
  writeFileSync('crates/assent-cli/tests/fixtures/export.json', `${JSON.stringify(exported, null, 2)}\n`);
  // The collector's published key, for `assent verify --jwks`.
  const jwks = await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json();
  writeFileSync('crates/assent-cli/tests/fixtures/jwks.json', `${JSON.stringify(jwks, null, 2)}\n`);
  const lines = [
    { subject, timestamp: t1 - 100, text: 'before any choice' },
    { subject, timestamp: t1, text: 'after refusing everything' },
    { subject, timestamp: t2, text: 'after opting in to AI training' },
    { subject, timestamp: new Date((t2 + 1) * 1000).toISOString().replace('.000', ''), text: 'RFC 3339 time, opted in' },
    { assent: { receipt: claims[1].id, do_not_train: false }, timestamp: (t2 + 1) * 1000, text: 'stamped, milliseconds, no subject field' },
    { subject, timestamp: t3, text: 'after opting out again' },
    { subject: '0'.repeat(32), timestamp: t2, text: 'another subject with no receipts' },
    { text: 'no subject at all', timestamp: t2 },
    { assent: { receipt: claims[1].id, do_not_train: true }, timestamp: (t2 + 1) * 1000, text: 'stamped do_not_train while the receipts say granted' },
  ].map((l) => JSON.stringify(l));
  lines.splice(3, 0, 'this line is not JSON');
  writeFileSync('crates/assent-cli/tests/fixtures/transcripts.jsonl', `${lines.join('\n')}\n`);
  console.log(`fixture: 3 receipts for ${subject} at ${t1}, ${t2}, ${t3}`);
} finally {
  collector.kill();
  await env.close();
}
