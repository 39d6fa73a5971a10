// A small chat widget, as a SaaS vendor would ship it: a custom element with its own shadow root,
// Assent's toggle in its header, and every outgoing message stamped with the consent facts.
(() => {
  
  const CONVERSATIONS = ['c-A', 'c-B'];

  class DemoChat extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: 'open' });
      root.innerHTML =
        '<style>' +
        ':host{display:block;max-width:32rem;border:1px solid #999;border-radius:10px;overflow:hidden;font:15px/1.45 system-ui,sans-serif}' +
        'header{background:#f1f4f8;padding:.5rem .75rem;border-bottom:1px solid #ccc}' +
        'nav{display:flex;gap:.25rem;margin-bottom:.25rem}' +
        'nav button{font:inherit;padding:.3rem .7rem;border:1px solid #888;border-radius:6px;background:#fff;cursor:pointer}' +
        'nav button[aria-pressed=true]{background:#1f3a5f;color:#fff}' +
        'ol{list-style:none;margin:0;padding:.75rem;min-height:8rem;max-height:16rem;overflow:auto}' +
        'li{margin:.25rem 0;padding:.35rem .6rem;border-radius:8px;background:#eef;width:fit-content;max-width:90%}' +
        'li small{display:block;color:#555;font-size:.8em}' +
        'form{display:flex;gap:.5rem;padding:.5rem .75rem;border-top:1px solid #ccc}' +
        'input{flex:1;font:inherit;padding:.4rem}button{font:inherit}' +
        '</style>' +
        '<header><nav aria-label="Conversations"></nav>' +
        '<assent-ai-toggle></assent-ai-toggle></header>' +
        '<ol aria-live="polite" aria-label="Messages"></ol>' +
        '<form><label for="m" hidden>Message</label><input id="m" autocomplete="off" placeholder="Type a message">' +
        '<button type="submit">Send</button></form>';
      this.toggle = root.querySelector('assent-ai-toggle');
      this.list = root.querySelector('ol');
      const nav = root.querySelector('nav');
      CONVERSATIONS.forEach((id, _i) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = `Conversation ${id.slice(2)}`;
        b.dataset.conversation = id;
        b.addEventListener('click', () => { this.open(id); });
        nav.appendChild(b);
      });
      root.querySelector('form').addEventListener('submit', (e) => {
        e.preventDefault();
        const input = root.querySelector('input');
        if (input.value.trim()) this.send(input.value.trim());
        input.value = '';
      });
      // The toggle's own event: the stamp flips with it, no reload.
      this.toggle.addEventListener('assent:change', (e) => {
        this.status = e.detail;
      });
      this.open(CONVERSATIONS[0]);
    }

    open(id) {
      this.conversation = id;
      this.toggle.setAttribute('conversation', id);
      this.shadowRoot.querySelectorAll('nav button').forEach((b) => {
        b.setAttribute('aria-pressed', String(b.dataset.conversation === id));
      });
      this.list.textContent = '';
    }

    send(text) {
      const message = window.assent.stamp({ conversation: this.conversation, text: text, timestamp: Date.now() },
        { conversation: this.conversation });
      const li = document.createElement('li');
      li.textContent = text;
      const note = document.createElement('small');
      note.textContent = message.assent.do_not_train ? 'do_not_train' : 'may train';
      li.appendChild(note);
      this.list.appendChild(li);
      // The choice travels as the AIPREF `Content-Usage` header too, so the backend can honour it
      // before it reads the body.
      return fetch('/demo/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-usage': message.assent.content_usage },
        body: JSON.stringify(message),
      });
    }
  }
  customElements.define('demo-chat', DemoChat);

  document.getElementById('training').addEventListener('click', () => {
    fetch('/demo/training-set').then((r) => r.json()).then((out) => {
      document.getElementById('training-summary').textContent = out.summary || out.error;
      document.getElementById('training-set').textContent = (out.kept || []).map((m) => `${m.conversation}: ${m.text}`).join('\n');
    });
  });
})();
