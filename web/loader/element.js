// <assent-ai-toggle conversation="…">: rendered by the wasm client into the element's own shadow root.
// Defined by the loader so that it works wherever it is placed: the page, another component's shadow
// DOM, or a widget iframe that loads Assent itself.
import { call, use } from './client.js';
import { state } from './state.js';

export function defineToggle() {
  if (!window.customElements || customElements.get('assent-ai-toggle')) return;
  customElements.define(
    'assent-ai-toggle',
    class extends HTMLElement {
      static get observedAttributes() {
        return ['conversation'];
      }
      connectedCallback() {
        call('mountToggle', [this]);
      }
      disconnectedCallback() {
        if (state.client) use('unmountToggle', [this]);
      }
      attributeChangedCallback() {
        if (this.isConnected && state.client) use('mountToggle', [this]);
      }
    },
  );
}
