// The stored form the core writes (the cookie, and the scoped lines in localStorage), read here and
// never written: the loader's twin of assent_core::decision and assent_core::scoped, pinned by
// data/conformance/stored-form.json, scoped.json and adoption.json. Pure: no DOM.

/**
 * @typedef {{
 *   version: string, subject: string, noticeVersion: string, decidedAt: number, expiresAt: number,
 *   granted: string[], denied: string[], fingerprint: string, method: string, region: string,
 *   flow: string, receipt: string, doNotTrain: boolean, source: string, gpc: boolean,
 *   persistent: boolean, consentMode: string
 * }} Stored
 * @typedef {{ id: string, purpose: string, on: boolean, receipt: string, noticeVersion: string | null, decidedAt: number, expiresAt: number }} Scoped
 */

const HEX32 = '[0-9a-fA-F]{32}';
const METHOD = '(accept_all|reject_all|preferences_saved|withdrawal|acknowledged|api|ai_toggle|gpc|placeholder)';
const IDS = '([a-z][a-z0-9_]{0,39}(\\.[a-z][a-z0-9_]{0,39})*)?';
const TIME = '(\\+?\\d{1,19})';
const ZONE = '[A-Za-z0-9/_+-]{1,64}';
// The cookie, field by field as assent_core::decision::Decision::decode reads it (versions 3 and 2).
const FORM = new RegExp(
  `^([23])\\|(${HEX32})\\|([^|]*)\\|${TIME}\\|${TIME}\\|${IDS}\\|${IDS}\\|([0-9a-fA-F]{8})\\|${METHOD}\\|([^|]*)\\|` +
    `(notice|optOut|optIn)\\|(r${HEX32})\\|([01])\\|(|page|geo|geo:(${ZONE})?|tz:${ZONE})\\|([01])\\|([01])\\|([gd]{7})?$`,
);
/** The flows, least strict first (assent_core::flow::Flow's order). */
const FLOWS = ['notice', 'optOut', 'optIn'];

/**
 * A cookie value as a decision, or null for anything malformed (treated as no decision). Version 2 reads
 * as 3 does; the loader acts only on 3 (see ARCHITECTURE.md, "The loader/core split").
 * @param {string | null | undefined} value
 * @returns {Stored | null}
 */
export function decode(value) {
  const f = value ? FORM.exec(value) : null;
  if (!f) return null;
  const list = (/** @type {string | undefined} */ s) => (s ? s.split('.') : []);
  const granted = list(f[6]);
  const denied = list(f[8]);
  // Sorted and unique, disjoint, and the do-not-train flag derived from `granted`: as the core wrote them.
  const sorted = (/** @type {string[]} */ ids) => ids.every((id, i) => i === 0 || ids[i - 1] < id);
  const doNotTrain = !granted.includes('ai_training');
  if (!sorted(granted) || !sorted(denied) || granted.some((g) => denied.includes(g))) return null;
  if (f[15] !== (doNotTrain ? '1' : '0')) return null;
  return {
    version: f[1], subject: f[2], noticeVersion: f[3], decidedAt: +f[4], expiresAt: +f[5], granted, denied,
    fingerprint: f[10].toLowerCase(), method: f[11], region: f[12], flow: f[13], receipt: f[14], doNotTrain, source: f[16],
    gpc: f[18] === '1', persistent: f[19] === '1', consentMode: f[20] || '',
  };
}

/**
 * Whether a decision another tab stored (`next`) replaces the one this page acted on (`own`, which
 * covers this page: its notice version and flow are this page's), at `now` in seconds
 * (assent_core::session::Session::adopt_stored).
 * @param {Stored} own
 * @param {Stored | null} next
 * @param {number} now
 */
export function adopts(own, next, now) {
  return !!next && next.receipt !== own.receipt && next.decidedAt >= own.decidedAt && next.expiresAt > now &&
    next.noticeVersion === own.noticeVersion && FLOWS.indexOf(next.flow) >= FLOWS.indexOf(own.flow);
}

/** FNV-1a over the UTF-8 bytes of the config text (assent_core::hash::config_fingerprint). */
export function fingerprint(/** @type {string} */ text) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * The decision as `assent.consent()` returns it (assent.d.ts's Consent).
 * @param {Stored} s
 */
export function view(s) {
  /** @type {Record<string, boolean>} */
  const purposes = {};
  for (const p of s.granted) purposes[p] = true;
  for (const p of s.denied) purposes[p] = false;
  return {
    subject: s.subject, noticeVersion: s.noticeVersion, decidedAt: new Date(s.decidedAt * 1000).toISOString(),
    expiresAt: new Date(s.expiresAt * 1000).toISOString(), method: /** @type {import('../assent').CaptureMethod} */ (s.method),
    region: s.region || null, flow: /** @type {import('../assent').Flow} */ (s.flow), receipt: s.receipt, purposes,
  };
}

const LABEL = /^[A-Za-z0-9._-]{1,32}$/;
const SCOPED_METHOD = new RegExp(`^${METHOD}$`);
const CONVERSATION = /^[A-Za-z0-9._:-]{1,64}$/;
const ID = new RegExp(`^${HEX32}$`);
const RECEIPT = new RegExp(`^r${HEX32}$`);
const NUMBER = /^\+?\d{1,19}$/;
// A service name: 1 to 64 characters, not blank at either end, without separators or control characters.
const SERVICE = /^[^|;,\p{Cc}]{1,64}$/u;

/**
 * One kind's stored lines (`assent.conversations` or `assent.services`), each read as
 * assent_core::scoped::ScopedChoice::decode does, the newest line for each id kept (decode_all).
 * @param {string | null} text
 * @param {'conversations' | 'services'} kind
 * @returns {Scoped[]}
 */
export function scopedLines(text, kind) {
  /** @type {Scoped[]} */
  const out = [];
  for (const line of text ? text.split('\n') : []) {
    const f = line.split('|');
    const n = f.length;
    const version = f[0] === '1' && n === 8 ? null : (f[0] === '2' && n === 9) || (f[0] === '3' && n === 10) ? f[8] : undefined;
    if (version === undefined || (version !== null && !LABEL.test(version))) continue;
    if (f[0] === '3' && !SCOPED_METHOD.test(f[9])) continue;
    const scopeOk = kind === 'conversations' ? CONVERSATION.test(f[1]) && f[2] === 'ai_training' : SERVICE.test(f[1]) && f[1].trim() === f[1] && f[2] !== '';
    if (!scopeOk || !ID.test(f[4]) || !RECEIPT.test(f[5]) || !/^[01]$/.test(f[3])) continue;
    if (!NUMBER.test(f[6]) || !NUMBER.test(f[7])) continue;
    const at = out.findIndex((c) => c.id === f[1]);
    if (at >= 0) out.splice(at, 1);
    out.push({ id: f[1], purpose: f[2], on: f[3] === '1', receipt: f[5], noticeVersion: version, decidedAt: +f[6], expiresAt: +f[7] });
  }
  return out;
}

/**
 * Whether a scoped choice counts: not expired at `now` (seconds), and made under the notice version in
 * force (a line from before versions were stored counts too), as the core's `in_force`.
 * @param {Scoped} c
 * @param {string | null} version
 * @param {number} now
 */
export const inForce = (c, version, now) => c.expiresAt > now && (c.noticeVersion === null || c.noticeVersion === version);

/**
 * Whether `purpose` is allowed, for a service or in a conversation if `options` names one, from the
 * stored decision (one that covers this page view) and the scoped lines: a service allowed always only
 * widens (assent_core::session::Session::allowed_for_service); a conversation's own choice decides
 * either way (Session::allowed_in). Pinned by data/conformance/allowed.json.
 * @param {Stored | null} stored
 * @param {{ services: string | null, conversations: string | null }} lines
 * @param {string} purpose
 * @param {{ service?: string, conversation?: string } | undefined} options
 * @param {string | null} version the notice version in force
 * @param {number} now in seconds
 */
export function allows(stored, lines, purpose, options, version, now) {
  const granted = !!stored?.granted.includes(purpose);
  const service = options?.service;
  if (service) {
    return granted || scopedLines(lines.services, 'services').some(
      (c) => c.on && inForce(c, version, now) && c.purpose === purpose && c.id.toLowerCase() === service.toLowerCase(),
    );
  }
  const own = conversationChoice(lines.conversations, options?.conversation, version, now);
  return own && own.purpose === purpose ? own.on : granted;
}

/**
 * The conversation's own AI-training choice, if one is in force (Session::conversation_choice).
 * @param {string | null} text the stored lines
 * @param {unknown} conversation
 * @param {string | null} version
 * @param {number} now
 */
export const conversationChoice = (text, conversation, version, now) =>
  conversation ? scopedLines(text, 'conversations').find((c) => c.id === String(conversation) && inForce(c, version, now)) : undefined;

/**
 * The scoped choices whose receipts may not have been made (assent_core::scoped::unmade): every one
 * decided from the choice the marker names on, but that one. `marker` is the browser's record of the
 * latest receipt made of the kind, `id|decidedAt` (a bare id, or none, from before times were kept).
 * Pinned by data/conformance/receipts-made.json.
 * @param {Scoped[]} choices one kind's, as `scopedLines` reads them
 * @param {string} marker
 */
export function unmade(choices, marker) {
  const bar = marker.indexOf('|');
  const id = bar < 0 ? marker : marker.slice(0, bar);
  const at = bar < 0 || !NUMBER.test(marker.slice(bar + 1)) ? null : +marker.slice(bar + 1);
  const sorted = [...choices].sort((a, b) => a.decidedAt - b.decidedAt);
  const marked = sorted.find((c) => c.receipt === id);
  const made = marked ? marked.decidedAt : at;
  return sorted.filter((c) => (made === null || c.decidedAt >= made) && c.receipt !== id);
}
