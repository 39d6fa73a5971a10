// What the page says about itself, read once as the loader's <script> runs (document.currentScript is
// only set then): where the bundle is served from, the config, the region, the timezone and GPC.
import { isPlace } from './rules.js';

export const me = document.currentScript;
/** The directory the loader was served from: the glue, the wasm and the locale files are beside it. */
export const base = me instanceof HTMLScriptElement ? me.src.replace(/[^/]*$/, '') : '';
export const configUrl = me?.getAttribute('data-config') ?? null;
export const region = (me?.getAttribute('data-region') || '').trim().toUpperCase();
export const placed = isPlace(region);
/** The timezone, read only when the page's region names no place. */
export const timezone = placed ? '' : zone();
export const gpc = /** @type {Navigator & { globalPrivacyControl?: boolean }} */ (navigator).globalPrivacyControl === true;

function zone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return ''; // no Intl
  }
}
