// IAB GPP: the `__gpp` stub answers `ping` and queues every other call until the CMP (the wasm client,
// with the preferences module) is ready. Only with data-gpp on the loader's tag.
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
        supportedAPIs: ['7:usnat'], cmpId: 0, sectionList: [], applicableSections: [], gppString: '', parsedSections: {} }, true);
    }
    queue.push([command, callback, parameter]);
    boot();
  };
}

/** Hands the queued calls to the client, in order. */
export function flushGpp(/** @type {any} */ client) {
  for (const [command, callback, parameter] of waiting?.splice(0) || []) client.gpp(command, callback, parameter);
}
