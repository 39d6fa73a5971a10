// Withdrawals that cascade: Chromium grants AI training and then withdraws it; the real collector's
// changes feed (GET /v1/changes, long-polled) carries the withdrawal to the example consumer
// (examples/withdrawal-consumer/consumer.py), which quarantines the subject's rows in its SQLite file and
// records what it did; the next `assent filter` run over the data no longer sees them. Restarting the
// consumer or killing the collector loses and repeats nothing. The same withdrawals also reach a webhook
// receiver as POSTs signed with the collector's key, which jose verifies against the collector's JWKS.
import { test, before, after } from 'node:test';
import { createServer } from 'node:http';
import { compactVerify, createLocalJWKSet } from 'jose';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setup, openPage, load, banner, receiptMade, DEMO_CONFIG, freePort, startCollector, waitFor, KEY, CLI } from './helpers.mjs';

const CONSUMER = new URL('../../examples/withdrawal-consumer/consumer.py', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'assent-feed-'));
const data = join(dir, 'data.sqlite');
const receipts = join(dir, 'receipts.sqlite');
let env;
let port;
const configPath = '/fixtures/feed.json';

before(async () => {
  port = await freePort();
  const config = JSON.parse(DEMO_CONFIG);
  config.receipts = { endpoints: [`http://127.0.0.1:${port}/v1/receipts`] };
  env = await setup({ [configPath]: { body: JSON.stringify(config) } });
});
after(() => env.close());

/** Rows of a statement on the consumer's SQLite file, run by Python's sqlite3 (not by the consumer). */
function sql(query, params = []) {
  const script = 'import json, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.row_factory = sqlite3.Row; '
    + 'rows = [dict(r) for r in c.execute(sys.argv[2], json.loads(sys.argv[3]))]; c.commit(); print(json.dumps(rows))';
  const out = spawnSync('python3', ['-c', script, data, query, JSON.stringify(params)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout);
}

function startConsumer() {
  return spawn('python3', [CONSUMER, '--collector', `http://127.0.0.1:${port}`, '--api-key', KEY, '--db', data],
    { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** `assent filter --purpose ai_training` over the consumer's messages: the ids it would train on. */
function trainable() {
  const file = join(dir, 'messages.jsonl');
  const rows = sql('SELECT id, subject, conversation, timestamp, text FROM messages ORDER BY id');
  writeFileSync(file, rows.map((m) => `${JSON.stringify(m)}\n`).join(''));
  const out = execFileSync(CLI, ['filter', '--purpose', 'ai_training', '--receipts', receipts, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
}

const cursor = () => sql('SELECT cursor FROM feed')[0]?.cursor;
const stopped = (child) => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGKILL'); });

/** A webhook receiver on loopback: the bodies POSTed to it, each answered 200. */
async function webhookReceiver() {
  const bodies = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { bodies.push({ body, id: req.headers['assent-event-id'], type: req.headers['content-type'] }); res.end(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { bodies, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => new Promise((r) => server.close(r)) };
}

/** A webhook event's header and payload, after jose verified it against the collector's JWKS. */
async function verifiedEvent(jws) {
  const jwks = await (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).json();
  const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet(jwks));
  return { header: protectedHeader, event: JSON.parse(new TextDecoder().decode(payload)) };
}

test('a withdrawal made in the browser reaches the consumer through the feed, which quarantines the rows, once', async () => {
  const hook = await webhookReceiver();
  let collector = await startCollector(port, receipts, env.base, ['--webhook', hook.url]);
  let consumer;
  try {
    const { context, page } = await openPage(env);
    await load(page, `${env.base}/?region=DE&config=${configPath}`);
    await banner(page).getByRole('button', { name: 'Reject all' }).click();
    await receiptMade(page);
    await page.evaluate(() => window.assent.set({ ai_training: true }));
    await receiptMade(page);
    const { subject } = await page.evaluate(() => window.assent.consent());

    // The training data: three messages of this visitor (one in a conversation), one of someone else.
    const now = Math.floor(Date.now() / 1000);
    const other = 'f'.repeat(32);
    consumer = startConsumer();
    await waitFor(() => { try { return cursor() === '2'; } catch { return false; } }, 'the consumer to read the two receipts so far');
    const insert = 'INSERT INTO messages (id, subject, conversation, timestamp, text) VALUES (?, ?, ?, ?, ?)';
    sql(insert, [1, subject, null, now, 'my question']);
    sql(insert, [2, subject, 'c-1', now, 'in a chat']);
    sql(insert, [3, subject, null, now, 'another']);
    sql(insert, [4, other, null, now, 'someone else']);
    assert.deepEqual(sql('SELECT * FROM actions'), [], 'granting AI training ends nothing');
    assert.deepEqual(trainable(), [1, 2, 3], 'made while AI training was allowed, so assent filter keeps them');

    // The visitor withdraws; the consumer is waiting in a long poll.
    await page.evaluate(() => window.assent.withdraw('ai_training'));
    await receiptMade(page);
    const withdrawal = (await page.evaluate(() => window.assent.consent())).receipt;
    const [action] = await waitFor(() => sql('SELECT * FROM actions'), 'the consumer to act on the withdrawal');
    assert.deepEqual({ ...action, done_at: undefined, received_at: undefined }, {
      cursor: '3', subject, scope: 'site', purpose: 'ai_training', receipt: withdrawal, rows: 3, done_at: undefined, received_at: undefined,
    });
    assert.deepEqual(sql('SELECT id, quarantined_by FROM quarantine ORDER BY id'),
      [1, 2, 3].map((id) => ({ id, quarantined_by: withdrawal })));
    assert.deepEqual(sql('SELECT id FROM messages'), [{ id: 4 }], 'only the other subject\'s row is left');
    assert.deepEqual(trainable(), [], 'the next training set has none of the withdrawn rows');
    // The webhook: the one withdrawal, signed by the collector (granting is not an event).
    await waitFor(() => hook.bodies.length === 1, 'the withdrawal webhook');
    const first = await verifiedEvent(hook.bodies[0].body);
    assert.equal(first.header.typ, 'assent-event+jws');
    assert.equal(first.header.alg, 'EdDSA');
    assert.equal(hook.bodies[0].type, 'application/jose');
    assert.deepEqual({ ...first.event, at: undefined, iat: undefined }, {
      event: 'withdrawal', id: hook.bodies[0].id, subject, scope: 'site', purposes: ['ai_training'], receipt: withdrawal, at: undefined, iat: undefined,
    });

    // A killed consumer resumes from its cursor and repeats nothing; a killed collector loses nothing.
    await stopped(consumer);
    await stopped(collector);
    collector = await startCollector(port, receipts, env.base, ['--webhook', hook.url]);
    consumer = startConsumer();
    await page.evaluate(() => window.assent.set({ ai_training: true }));
    await receiptMade(page);
    sql(insert, [5, subject, null, Math.floor(Date.now() / 1000), 'after opting in again']);
    await page.evaluate(() => window.assent.withdraw('ai_training'));
    await receiptMade(page);
    const again = (await page.evaluate(() => window.assent.consent())).receipt;
    await waitFor(() => cursor() === '5', 'the consumer to read every receipt after the restarts');
    assert.deepEqual(sql('SELECT cursor, receipt, rows FROM actions ORDER BY cursor'),
      [{ cursor: '3', receipt: withdrawal, rows: 3 }, { cursor: '5', receipt: again, rows: 1 }], 'each withdrawal acted on once');
    await waitFor(() => hook.bodies.length >= 2, 'the second withdrawal webhook');
    const events = await Promise.all(hook.bodies.map(async (b) => (await verifiedEvent(b.body)).event.receipt));
    assert.deepEqual(events, [withdrawal, again], 'each withdrawal posted once across the collector\'s SIGKILL');
    await context.close();
  } finally {
    if (consumer) await stopped(consumer);
    await stopped(collector);
    await hook.close();
  }
});
