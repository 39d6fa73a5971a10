// The demo and e2e server: the demo site from web/demo/, the bundle from dist/assent/ at /assent/.
// HTML pages get `{{region}}`, `{{config}}` and `{{lang}}` (their `<html lang>`, which Assent follows)
// filled from the query string (?region=DE&config=/x.json&lang=ar).
// `/v1/*` and `/.well-known/jwks.json` are passed to the receipt collector named by `collector`
// (ASSENT_COLLECTOR for `npm start`), so the demo config can post receipts same-origin. The export
// route gets the collector's API key added here, server-side, for the receipts page.
// Run directly for `npm start`; tests import `startServer` and add in-memory files.
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const roots = [['/assent/', join(here, '../../dist/assent')], ['/', here]];
const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm', '.css': 'text/css; charset=utf-8',
  '.gif': 'image/gif', '.svg': 'image/svg+xml', '.ts': 'text/plain; charset=utf-8',
};
const REGION = /^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$/;
const CONFIG = /^\/[\w./-]+\.json$/;
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/**
 * Starts the server. `files` maps extra paths to `{ body, type, delay, headers, gate }` (tests use it for
 * fixtures). A `body` given as an array is sent in parts, each after the first once `gate()` resolves,
 * so that the browser parses what came before on its own.
 * `cli` and `receiptsDb` (the `assent` binary and the collector's SQLite file) back the chat demo's
 * "which messages may train?" button.
 */
export function startServer({ port = 8080, host = '127.0.0.1', files = {}, collector = null, collectorKey = null, cli = null, receiptsDb = null } = {}) {
  const messages = []; // the chat demo's stamped messages, as its backend would keep them
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let path = decodeURIComponent(url.pathname);
    if (path.startsWith('/v1/') || path === '/.well-known/jwks.json') return proxy(req, res, url, collector, collectorKey);
    if (path.startsWith('/demo/')) return chatBackend(req, res, path, messages, cli, receiptsDb);
    if (path.endsWith('/')) path += 'index.html';
    const headers = { 'cache-control': 'no-store' };
    if (files[path]) {
      const f = files[path];
      if (f.delay) await new Promise((r) => setTimeout(r, f.delay));
      res.writeHead(200, { ...headers, ...f.headers, 'content-type': f.type || types[extname(path)] || 'text/plain' });
      if (!Array.isArray(f.body)) return res.end(f.body);
      for (const [i, part] of f.body.entries()) {
        if (i) await f.gate();
        res.write(part);
      }
      return res.end();
    }
    for (const [prefix, dir] of roots) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(dir)) break;
      try {
        let body = await readFile(file);
        if (extname(file) === '.html') {
          const region = url.searchParams.get('region') ?? 'DE';
          const config = url.searchParams.get('config') ?? '/assent.json';
          const lang = url.searchParams.get('lang') ?? 'en';
          body = body.toString()
            .replaceAll('{{region}}', region === '' || REGION.test(region) ? region : 'invalid')
            .replaceAll('{{config}}', CONFIG.test(config) ? config : '/assent.json')
            .replaceAll('{{lang}}', LANG.test(lang) ? lang : 'en');
        }
        res.writeHead(200, { ...headers, 'content-type': types[extname(file)] || 'application/octet-stream' });
        return res.end(body);
      } catch {
        break;
      }
    }
    res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
    res.end('not found');
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

/** The chat demo's backend: stores stamped messages and runs `assent filter` over them. */
async function chatBackend(req, res, path, messages, cli, db) {
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  if (path === '/demo/messages' && req.method === 'POST') {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    let message;
    try {
      message = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      return json(400, { error: 'send one JSON message' });
    }
    // The AIPREF `Content-Usage` header travels with the stamp; a backend that reads one must not find
    // the other saying something else.
    const usage = req.headers['content-usage'];
    const stamped = message?.assent?.content_usage;
    if (usage && stamped && usage !== stamped) {
      return json(400, { error: `Content-Usage says "${usage}" but the stamp says "${stamped}": send the stamp's value` });
    }
    messages.push(usage ? { ...message, received: { 'content-usage': usage } } : message);
    return json(201, { stored: messages.length });
  }
  if (path === '/demo/messages') return json(200, { messages });
  if (path === '/demo/training-set') {
    if (!cli || !db) return json(503, { error: 'the training-set export needs the collector and the assent CLI (npm start runs both)' });
    const dir = await mkdtemp(join(tmpdir(), 'assent-chat-'));
    const file = join(dir, 'messages.jsonl');
    await writeFile(file, messages.map((m) => JSON.stringify(m)).join('\n') + '\n');
    return execFile(cli, ['filter', '--purpose', 'ai_training', '--receipts', db, file], (err, stdout, stderr) => {
      if (err) return json(500, { error: stderr || err.message });
      const kept = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      json(200, { kept, summary: stderr.trim() });
    });
  }
  return json(404, { error: 'not found' });
}

async function proxy(req, res, url, collector, key) {
  if (!collector) {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '60' });
    return res.end('{"error":"no receipt collector behind this server (npm start runs one)"}');
  }
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const headers = { 'content-type': req.headers['content-type'] || 'text/plain' };
  if (req.headers['sec-gpc']) headers['sec-gpc'] = req.headers['sec-gpc'];
  if (key && url.pathname.endsWith('/receipts') && req.method === 'GET') headers.authorization = `Bearer ${key}`;
  try {
    const upstream = await fetch(collector + url.pathname + url.search, {
      method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
    });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') || 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  } catch (e) {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '10' });
    res.end(JSON.stringify({ error: `collector ${collector} unreachable: ${e.message}` }));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT || 8080);
  await startServer({
    port, collector: process.env.ASSENT_COLLECTOR || null, collectorKey: process.env.ASSENT_API_KEY || null,
    cli: process.env.ASSENT_CLI || null, receiptsDb: process.env.ASSENT_DB || null,
  });
  console.log(`Assent demo: http://127.0.0.1:${port}/  (regions: ?region=DE, ?region=US-CA, ?region=JP)`);
  console.log(`Chat widget: http://127.0.0.1:${port}/chat.html`);
  console.log(`Receipts:    http://127.0.0.1:${port}/receipts.html` + (process.env.ASSENT_COLLECTOR ? `  (collector ${process.env.ASSENT_COLLECTOR})` : '  (no collector)'));
}
