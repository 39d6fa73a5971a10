// Two judgements the loader makes before the wasm is loaded, which the core makes too: the loader's
// twins of assent_core::region::Region::parse and assent_core::frames::hidden, pinned by
// data/conformance/regions.json and frames.json. Pure: no DOM.

/**
 * Whether a `data-region` value names a place: an ISO 3166-1 country or 3166-2 subdivision, and not a
 * code ISO 3166 leaves to users (a CDN's `XX` for unknown) or a geo database's `EU` and `AP`.
 */
export const isPlace = (/** @type {string} */ code) =>
  /^(?!AA|ZZ|EU|AP|Q[M-Z]|X[A-JL-Z])[A-Z]{2}(-[A-Z0-9]{1,3})?$/.test(code.trim().toUpperCase());

/**
 * A frame the page keeps out of sight (a tracking frame: 1×1, hidden): held without a placeholder,
 * whose buttons would be invisible yet reachable with Tab (and could grant a lasting choice unseen).
 * @param {{ getAttribute(name: string): string | null, hasAttribute(name: string): boolean }} el
 */
export function hidden(el) {
  // The leading integer (an optional minus sign, then digits): `1px` and `1.5` are 1.
  const tiny = (/** @type {string} */ name) => {
    const m = /^\s*(-?\d+)/.exec(el.getAttribute(name) || '');
    return !!m && +m[1] <= 2;
  };
  const style = (el.getAttribute('style') || '').toLowerCase().replace(/\s/g, '');
  return tiny('width') || tiny('height') || el.hasAttribute('hidden') || /display:none|visibility:hidden/.test(style);
}
