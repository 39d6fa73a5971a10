// The automatic-blocking demo pages: shows what ran, adds a video embed the way embed widgets do,
// and lists assent.report().
(() => {
  function show() {
    document.querySelectorAll('[data-run]').forEach((el) => {
      const n = window.demoRuns[el.getAttribute('data-run')] || 0;
      el.textContent = n ? `ran (${n})` : 'blocked';
    });
  }
  document.addEventListener('demo:ran', show);
  show();
  const slot = document.getElementById('video');
  if (slot) {
    const frame = document.createElement('iframe');
    frame.title = 'Product video';
    frame.width = 480;
    frame.height = 270;
    frame.style.maxWidth = '100%'; // narrow screens: the placeholder takes whatever box the page gives
    frame.src = `${location.protocol}//video.localhost:${location.port}/tags/embed.html`;
    slot.appendChild(frame);
  }
  const button = document.getElementById('report');
  if (button) {
    button.addEventListener('click', () => {
      const table = document.getElementById('report-table');
      const body = table.querySelector('tbody');
      body.textContent = '';
      window.assent.report().forEach((r) => {
        const row = body.insertRow();
        [r.service, r.purpose, r.kind, r.state, r.reason].forEach((v) => { row.insertCell().textContent = v; });
      });
      table.hidden = false;
    });
  }
})();
