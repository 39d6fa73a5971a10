// The TC strings assent-core writes (pinned in data/tcf-vectors.json by its tests) decode with the
// IAB's own @iabtechlabtcf/core to exactly the choices written beside them, with the DisclosedVendors
// and publisher TC segments present.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TCString } from '@iabtechlabtcf/core';
import { decoded } from './tcf-decode.mjs';

const vectors = JSON.parse(readFileSync(new URL('../../data/tcf-vectors.json', import.meta.url), 'utf8'));
test('every TC string decodes with @iabtechlabtcf/core to the choices it was made from', () => {
  assert.ok(vectors.cases.length >= 5);
  for (const c of vectors.cases) {
    assert.deepEqual(decoded(c.tcString), c.expect, c.name);
    // v2.3: the DisclosedVendors segment follows the core segment; the publisher TC segment is last.
    const segments = c.tcString.split('.');
    assert.equal(segments.length, 3, c.name);
    assert.equal(TCString.decode(segments[1]).vendorsDisclosed.size, c.expect.vendorsDisclosed.length, c.name);
  }
});

test('a withdrawal three days later is dated that day: Created is LastUpdated, and nothing is consented', () => {
  const withdrawal = vectors.cases.find((c) => c.name.startsWith('withdrawal'));
  const first = vectors.cases.find((c) => c.name === 'accept all');
  const w = decoded(withdrawal.tcString);
  assert.equal(w.created, w.lastUpdated);
  assert.equal(w.lastUpdated - decoded(first.tcString).lastUpdated, 3 * 86_400_000);
  assert.deepEqual(w.vendorConsents, []);
  assert.deepEqual(w.purposeConsents, []);
});
