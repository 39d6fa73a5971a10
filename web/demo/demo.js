// Shows which fake tags ran and the current decision.
(() => {
  function render() {
    document.querySelectorAll('[data-status]').forEach((cell) => {
      const name = cell.getAttribute('data-status');
      const n = window.demoRuns[name] || 0;
      cell.textContent = n ? `ran${n > 1 ? ` ×${n}` : ''}` : 'blocked';
      cell.className = n ? 'ran' : 'blocked';
    });
    document.getElementById('consent').textContent = JSON.stringify(window.assent.consent(), null, 2);
  }
  document.addEventListener('demo:ran', render);
  document.addEventListener('assent:change', render);
  document.querySelectorAll('img[data-category], iframe[data-category]').forEach((el) => {
    el.addEventListener('load', () => {
      // A frame still blocked loads Assent's placeholder (srcdoc), not its src: that is no run.
      if (!el.getAttribute('src')) return;
      demoRan(el.tagName === 'IMG' ? 'pixel' : 'embed');
    });
  });
  window.assent.ready.then(render);
  render();
})();
