// IAB GPP: the `__gpp` stub answers `ping` and queues every other call until the CMP (the wasm client,
// with the preferences module) is ready, and the `__gppLocator` frame lets frames of other origins call
// it through postMessage. Only with data-gpp on the loader's tag.
import { boot, use } from './client.js';
import { me } from './page.js';
import { handedOver } from './state.js';

/** @type {[string, Function, unknown][] | null} calls made before the client started */
let waiting = null;

export function installGppStub() {
  const w = /** @type {any} */ (window);
  if (!me?.hasAttribute('data-gpp') || w.__gpp) return;
  /** @type {[string, Function, unknown][]} */
  const queue = [];
  waiting = queue;
  w.__gpp = (/** @type {string} */ command, /** @type {Function} */ callback, /** @type {unknown} */ parameter) => {
    // A vendor may keep this function and call it after the CMP is ready.
    if (handedOver()) return use('gpp', [command, callback, parameter]);
    if (command === 'ping') {
      return callback({ gppVersion: '1.1', cmpStatus: 'stub', cmpDisplayStatus: 'hidden', signalStatus: 'not ready',
        supportedAPIs: ['7:usnat', '8:usca', '9:usva', '10:usco', '12:usct'], cmpId: 0, sectionList: [], applicableSections: [],
        gppString: '', parsedSections: {} }, true);
    }
    queue.push([command, callback, parameter]);
    boot();
  };
  // A frame of another origin finds the CMP by this frame's name and asks with `{__gppCall: {command,
  // parameter, callId}}`; the answer goes back as `{__gppReturn: {returnValue, success, callId}}`, a
  // string if the call was one.
  // (At once, where the parser is: a frame further down the page may ask before the parse ends.)
  const locator = document.createElement('iframe');
  locator.name = '__gppLocator';
  locator.hidden = true;
  (document.body || document.documentElement).appendChild(locator);
  addEventListener('message', (e) => {
    let data = e.data;
    try {
      if (typeof data === 'string') data = JSON.parse(data);
    } catch {
      return;
    }
    const call = data?.__gppCall;
    if (!call || !e.source) return;
    w.__gpp(
      call.command,
      (/** @type {unknown} */ returnValue, /** @type {boolean} */ success) => {
        const answer = { __gppReturn: { returnValue, success, callId: call.callId } };
        /** @type {Window} */ (e.source).postMessage(typeof e.data === 'string' ? JSON.stringify(answer) : answer, '*');
      },
      call.parameter,
    );
  });
}

/** Hands the queued calls to the client, in order. */
export function flushGpp(/** @type {any} */ client) {
  for (const [command, callback, parameter] of waiting?.splice(0) || []) client.gpp(command, callback, parameter);
}
