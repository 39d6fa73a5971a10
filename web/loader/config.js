// The config: inline in the page (data-config="#id" names a <script type="application/json"> before
// the loader's tag, read at once), or fetched. Its JSON is parsed once for what the loader reads in it
// (the cookie name, blocking and Consent Mode settings); the core validates it.
import { configUrl } from './page.js';

/** @typedef {{ text?: string, json?: any, cookie?: string | null, error?: string }} Config */

/** The stored form's cookie, or null (none, or cookies blocked: a first visit). */
export function readCookie(/** @type {string} */ name) {
  try {
    const m = document.cookie.match(new RegExp(`(?:^|; )${name}=([^;]*)`));
    return m ? m[1] : null;
  } catch {
    return null;
  }
}

/** The cookie's name the config gives, or the default. */
export function cookieName(/** @type {any} */ json) {
  const c = json?.cookie;
  return (c && typeof c.name === 'string' && c.name) || 'assent';
}

/** @returns {Config} */
function from(/** @type {string} */ text) {
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // the core reports it
  }
  return { text, json, cookie: readCookie(cookieName(json)) };
}

/** @returns {Promise<Config>} */
function load() {
  if (!configUrl) {
    return Promise.resolve({ error: 'the <script> tag that loads assent.js needs data-config="/path/to/assent.json"' });
  }
  if (configUrl.startsWith('#')) {
    const id = configUrl.slice(1);
    const inline = document.getElementById(id);
    return Promise.resolve(
      inline
        ? from(inline.textContent || '')
        : { error: `data-config="${configUrl}" names no element: put <script type="application/json" id="${id}"> before the <script> tag of assent.js` },
    );
  }
  return fetch(configUrl, { credentials: 'same-origin' })
    .then((r) =>
      r.text().then((text) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return from(text);
      }),
    )
    .catch((/** @type {Error} */ e) => ({ error: `could not load config ${configUrl}: ${e.message}` }));
}

/** @type {Promise<Config> | null} */
let loading = null;
/** The config, asked for once. */
export const config = () => {
  loading ||= load();
  return loading;
};
