// The automatic-blocking demo pages: shows what ran, adds a video embed the way embed widgets do,
// and lists assent.report().
(function () {
  function show() {
    document.querySelectorAll('[data-run]').forEach(function (el) {
      var n = window.demoRuns[el.getAttribute('data-run')] || 0;
      el.textContent = n ? 'ran (' + n + ')' : 'blocked';
    });
  }
  document.addEventListener('demo:ran', show);
  show();
  var slot = document.getElementById('video');
  if (slot) {
    var frame = document.createElement('iframe');
    frame.title = 'Product video';
    frame.width = 480;
    frame.height = 270;
    frame.style.maxWidth = '100%'; // narrow screens: the placeholder takes whatever box the page gives
    frame.src = location.protocol + '//video.localhost:' + location.port + '/tags/embed.html';
    slot.appendChild(frame);
  }
  var button = document.getElementById('report');
  if (button) {
    button.addEventListener('click', function () {
      var table = document.getElementById('report-table');
      var body = table.querySelector('tbody');
      body.textContent = '';
      window.assent.report().forEach(function (r) {
        var row = body.insertRow();
        [r.service, r.purpose, r.kind, r.state, r.reason].forEach(function (v) { row.insertCell().textContent = v; });
      });
      table.hidden = false;
    });
  }
})();
