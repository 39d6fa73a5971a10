// The IAB CMP APIs: `__gpp` (GPP 1.1, with data-gpp on the loader's tag) and `__tcfapi` (TCF v2.3,
// with data-tcf, or once a config with `tcf` arrives). Each stub answers `ping` and queues every other
// call until the CMP (the wasm client, with the preferences module) is ready, and a locator frame
// (`__gppLocator`, `__tcfapiLocator`) lets frames of other origins call it through postMessage.
import { boot, prefs, use } from './client.js';
import { me } from './page.js';
import { handedOver } from './state.js';

/** @type {[string, Function, unknown][]} `__gpp` calls made before the client started */
const waiting = [];

/** @typedef {(command: string, callback: Function, parameter: unknown, version?: unknown) => unknown} Api */

/**
 * Installs `window[name]` (once) and its locator frame.
 * @param {string} name `__gpp` or `__tcfapi`
 * @param {Api} api answers a call
 * @param {boolean} versioned whether the API's second argument is a version (`__tcfapi`)
 */
function install(name, api, versioned) {
  const w = /** @type {any} */ (window);
  if (w[name]) return;
  w[name] = versioned
    ? (/** @type {string} */ c, /** @type {unknown} */ v, /** @type {Function} */ f, /** @type {unknown} */ p) => api(c, f, p, v)
    : api;
  // A frame of another origin finds the CMP by this frame's name and asks with `{__gppCall: {command,
  // parameter, callId}}` (`__tcfapiCall`, with `version`); the answer goes back as `{__gppReturn:
  // {returnValue, success, callId}}`, a string if the call was one.
  // (At once, where the parser is: a frame further down the page may ask before the parse ends.)
  const locator = document.createElement('iframe');
  locator.name = `${name}Locator`;
  locator.hidden = true;
  (document.body || document.documentElement).appendChild(locator);
  addEventListener('message', (e) => {
    let data = e.data;
    try {
      if (typeof data === 'string') data = JSON.parse(data);
    } catch {
      return;
    }
    const call = data?.[`${name}Call`];
    if (!call || !e.source) return;
    api(
      call.command,
      (/** @type {unknown} */ returnValue, /** @type {boolean} */ success) => {
        const answer = { [`${name}Return`]: { returnValue, success, callId: call.callId } };
        /** @type {Window} */ (e.source).postMessage(typeof e.data === 'string' ? JSON.stringify(answer) : answer, '*');
      },
      call.parameter,
      call.version,
    );
  });
}

/** `__gpp`: answered by the client (with the preferences module), which holds calls until it is ready. */
export function installGppStub() {
  if (!me?.hasAttribute('data-gpp')) return;
  install('__gpp', (command, callback, parameter) => {
    // A vendor may keep this function and call it after the CMP is ready.
    if (handedOver()) return use('gpp', [command, callback, parameter]);
    if (command === 'ping') {
      // Every US section, in id order (as the preferences module's `UsSection::ALL`).
      return callback({ gppVersion: '1.1', cmpStatus: 'stub', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
        supportedAPIs: ['7:usnat', '8:usca', '9:usva', '10:usco', '11:usut', '12:usct', '13:usfl', '14:usmt',
          '15:usor', '16:ustx', '17:usde', '18:usia', '19:usne', '20:usnh', '21:usnj', '22:ustn', '23:usmn',
          '24:usmd', '25:usin', '26:usky', '27:usri'],
        cmpId: 0, sectionList: [], applicableSections: [], gppString: '', parsedSections: {} }, true);
    }
    waiting.push([command, callback, parameter]);
    boot();
  }, false);
}

/** @type {any} the TCF build of the preferences module, once started */
let tcf = null;
/** The TCF build has started: it answers every call from now on, `ping` included. */
export function tcfStarted(/** @type {any} */ module) {
  tcf = module;
}
/**
 * `__tcfapi`: answered by the TCF build of the preferences module, which holds calls until it knows
 * what to answer. With data-tcf at once; otherwise when the config says `tcf`.
 */
export function installTcfStub(/** @type {boolean} */ configured) {
  if (!configured && !me?.hasAttribute('data-tcf')) return;
  install('__tcfapi', (command, callback, parameter, version) => {
    // The CMP API v2 (version 2, or none given); version 1 is not served.
    if (version != null && !(typeof version === 'number' && version >= 2)) return callback(null, false);
    if (tcf) return tcf.tcfApi(command, callback, parameter);
    if (command === 'ping') return callback({ cmpLoaded: false, cmpStatus: 'stub', displayStatus: 'hidden', apiVersion: '2.2' }, true);
    prefs().then(
      // Without `tcf` in the config (data-tcf alone), the plain module has no TCF to answer with.
      (m) => (m.tcfApi ? m.tcfApi(command, callback, parameter) : callback(null, false)),
      () => callback(null, false),
    );
  }, true);
}

/**
 * The client has started: the queued `__gpp` calls go to it, in order, and TCF (if started) follows it
 * from now on (the visitor's region, the overlay, the visitor's decisions).
 */
export function cmpReady(/** @type {any} */ client) {
  for (const [command, callback, parameter] of waiting.splice(0)) client.gpp(command, callback, parameter);
  tcf?.tcfAttach(client);
}
