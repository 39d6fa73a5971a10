// Shows the visitor's receipts as a person wants to read them, verifying each signature in the page.
(() => {
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const json = (s) => JSON.parse(new TextDecoder().decode(b64(s)));
  const params = { EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }], ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }] };

  function verify(jws, jwk) {
    const parts = jws.split('.');
    const alg = json(parts[0]).alg;
    const p = params[alg];
    if (!p) return Promise.resolve(false);
    return crypto.subtle.importKey('jwk', jwk, p[0], false, ['verify']).then((key) => crypto.subtle.verify(p[1], key, b64(parts[2]), new TextEncoder().encode(`${parts[0]}.${parts[1]}`))).catch(() => false);
  }

  function cell(row, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  window.assent.ready.then(() => {
    const consent = window.assent.consent();
    const who = document.getElementById('who');
    if (!consent) {
      who.textContent = 'You have not made a decision on this site yet, so there is no receipt.';
      return;
    }
    who.textContent = `Pseudonymous subject id: ${consent.subject} (stored in the assent cookie; no name, no email).`;
    document.getElementById('ask').onclick = () => {
      const purpose = document.getElementById('purpose').value;
      fetch(`/v1/subjects/${consent.subject}/consent?purpose=${purpose}`).then((r) => r.json())
        .then((a) => { document.getElementById('answer').textContent = JSON.stringify(a, null, 2); });
    };
    Promise.all([
      fetch(`/v1/subjects/${consent.subject}/receipts`).then((r) => r.json()),
      fetch('/.well-known/jwks.json').then((r) => r.json()),
    ]).then((res) => {
      const receipts = res[0].receipts || [];
      const collectorKey = res[1].keys?.[0];
      document.getElementById('status').textContent = `${receipts.length} receipt(s) stored by the collector.`;
      const rows = document.getElementById('rows');
      receipts.forEach((r, i) => {
        const parts = r.jws.split('.');
        const header = json(parts[0]);
        const c = json(parts[1]);
        const ack = r.ack ? json(r.ack.split('.')[1]) : null; // null: the stored row no longer verifies
        const allowed = Object.keys(c.purposes).filter((p) => c.purposes[p].granted);
        const refused = Object.keys(c.purposes).filter((p) => !c.purposes[p].granted);
        const tr = document.createElement('tr');
        cell(tr, String(i + 1));
        cell(tr, new Date(c.iat * 1000).toLocaleString());
        cell(tr, c.method.replace(/_/g, ' ') + (c.scope ? ` (${c.scope.replace(':', ' ')})` : ''));
        cell(tr, allowed.join(', ') || '—');
        cell(tr, refused.join(', ') || '—');
        cell(tr, `${c.notice.version} (sha256 ${c.notice.sha256.slice(0, 12)}…)`);
        cell(tr, (c.gpc ? 'on' : 'off') + (r.gpcHeader ? ' (Sec-GPC: 1)' : ''));
        cell(tr, r.chain === 'first' ? 'first' : r.chain === 'linked' ? `linked to #${i}` : 'gap before this one');
        const sig = cell(tr, 'checking…');
        const ackCell = cell(tr, 'checking…');
        rows.appendChild(tr);
        verify(r.jws, header.jwk).then((ok) => {
          sig.textContent = ok ? `verified (${header.alg})` : 'DOES NOT VERIFY';
          sig.className = ok ? 'ran' : 'blocked';
        });
        (collectorKey && ack ? verify(r.ack, collectorKey) : Promise.resolve(false)).then((ok) => {
          ackCell.textContent = ok ? `verified, received ${new Date(ack.receivedAt * 1000).toLocaleString()}`
            : ack ? 'not verified' : 'not countersigned: the stored row no longer verifies';
          ackCell.className = ok ? 'ran' : 'blocked';
        });
      });
    }, (e) => {
      document.getElementById('status').textContent = `Could not reach the collector: ${e.message}`;
    });
  });
})();
