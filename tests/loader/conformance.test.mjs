// The loader's twins of the core, pinned: the loader's own functions (web/loader/) read every case in
// data/conformance/, which assent-core's tests read too (crates/assent-core/tests/core/conformance.rs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hidden, isPlace } from '../../web/loader/rules.js';
import { adopts, allows, decode, fingerprint, inForce, scopedLines, unmade } from '../../web/loader/stored.js';
import { isPattern, serviceOf, trackers } from '../../web/loader/trackers.js';

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../data/conformance/${name}`, import.meta.url), 'utf8'));

// The table as assent_core::trackers::loader_table writes it into the bundle, from the same file.
const database = JSON.parse(readFileSync(new URL('../../data/trackers.json', import.meta.url), 'utf8'));
const TABLE = database.services.map((s) => `${s.purpose}|${s.name}|${s.match.join(',')}`).join(';');
const PAGE = { href: 'https://site.example/page', host: 'site.example', hostname: 'site.example' };
const tableFor = (c) => {
  const t = trackers(TABLE, PAGE);
  t.configure(c.blocking || {});
  return t;
};
// An element as the loader reads it: its attributes.
const element = (attributes) => ({
  getAttribute: (name) => (name in attributes && attributes[name] !== null ? attributes[name] : null),
  hasAttribute: (name) => name in attributes && attributes[name] !== null,
});

test('tracker URLs belong to the services the vectors name', () => {
  for (const c of vectors('trackers.json').classify) {
    const s = tableFor(c).classify(c.url);
    assert.deepEqual(s && [s.name, s.purpose], c.service && [c.service, c.purpose], JSON.stringify(c));
  }
});

test('gated elements belong to the services the vectors name', () => {
  for (const c of vectors('trackers.json').serviceOf) {
    const el = element({ 'data-service': c.dataService, 'data-src': c.url });
    assert.equal(serviceOf(tableFor(c), el), c.service, JSON.stringify(c));
  }
});

test('tracker patterns are usable as the vectors say', () => {
  for (const c of vectors('trackers.json').patterns) assert.equal(isPattern(c.pattern), c.valid, JSON.stringify(c));
});

test('region codes name places as the vectors say', () => {
  for (const c of vectors('regions.json').cases) assert.equal(isPlace(c.code), c.place, JSON.stringify(c));
});

test('frames are out of sight as the vectors say', () => {
  for (const c of vectors('frames.json').cases) assert.equal(hidden(element(c.attributes)), c.hidden, JSON.stringify(c));
});

test('config fingerprints match the vectors', () => {
  for (const c of vectors('fingerprint.json').cases) assert.equal(fingerprint(c.text), c.fingerprint, JSON.stringify(c));
});

test('stored decisions decode as the vectors say', () => {
  for (const c of vectors('stored-form.json').cases) assert.deepEqual(decode(c.cookie), c.decoded, c.case);
});

test('scoped choices decode and count as the vectors say', () => {
  const v = vectors('scoped.json');
  for (const c of v.cases) {
    const got = scopedLines(c.lines.join('\n'), c.kind).map((s) => ({
      id: s.id, purpose: s.purpose, on: s.on, receipt: s.receipt, inForce: inForce(s, v.noticeVersion, v.now),
    }));
    assert.deepEqual(got, c.choices, c.case);
  }
});

test('decisions from other tabs are adopted as the vectors say', () => {
  const v = vectors('adoption.json');
  const own = decode(v.own);
  for (const c of v.cases) assert.equal(adopts(own, decode(c.next), v.now), c.adopts, c.case);
});

test('purposes, services and conversations are allowed as the vectors say', () => {
  const v = vectors('allowed.json');
  for (const s of v.setups) {
    const lines = { services: s.services.join('\n'), conversations: s.conversations.join('\n') };
    for (const q of s.questions) {
      const options = q.service ? { service: q.service } : q.conversation ? { conversation: q.conversation } : undefined;
      assert.equal(allows(decode(s.cookie), lines, q.purpose, options, '2026-11-01', v.now), q.allowed, `${s.about}: ${JSON.stringify(q)}`);
    }
  }
});

test('unmade scoped receipts are the ones the vectors name', () => {
  for (const c of vectors('receipts-made.json').cases) {
    const got = unmade(scopedLines(c.lines.join('\n'), c.kind), c.marker).map((s) => s.receipt);
    assert.deepEqual(got, c.unmade, c.case);
  }
});
