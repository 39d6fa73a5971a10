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

/**
 * The locale file the client will most likely ask for, from the first of <html lang> and the browser's
 * languages that one serves: a file named by its first two subtags or by its language. The build writes
 * the files and the core's answers for the tags that rule misses (`zh-tw:zh-Hant`; xtask's
 * `locale_guesses`). The client negotiates the real one with the config's languages: a wrong guess costs
 * one more request, never the wrong language.
 */
export function likelyLocale() {
  /** @type {Record<string, string>} lowercase tag → file: `de`, or `zh-tw:zh-Hant` */
  const serves = {};
  for (const entry of '@LOCALES@'.split(',')) {
    const [tag, file] = entry.split(':');
    serves[tag.toLowerCase()] = file || tag;
  }
  for (const tag of [document.documentElement.getAttribute('lang'), ...(navigator.languages || [])]) {
    const sub = String(tag || '').trim().replace(/_/g, '-').toLowerCase().split('-');
    const file = serves[sub.slice(0, 2).join('-')] || serves[sub[0]];
    if (file) return file;
  }
  return 'en';
}

function zone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch {
    return ''; // no Intl
  }
}
