// The loader's state that more than one module reads, in one named place.

/** @typedef {import('./stored.js').Stored} Stored */

export const state = {
  /** @type {any} The wasm client, once started (assent-client's `Client`). */
  client: null,
  /** A trap in the wasm ended the client: nothing more runs on this page view. */
  failed: false,
  /** @type {Stored | null} The stored decision the loader acted on, while the wasm is not loaded. */
  stored: null,
  /** Its cookie's name. */
  storedIn: 'assent',
  /** @type {string | null} The config's notice version, once it has arrived. */
  version: null,
};

/** Whether calls go to the client (or, once it failed, answer as if nothing were allowed). */
export const handedOver = () => !!state.client || state.failed;
