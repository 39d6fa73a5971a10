// The automatic-blocking demo's page snippet, marked in no way: it counts what ran (demoRan), then
// injects a third-party tracker at run time, as a tag manager would. blocking.html loads it after
// Assent; misplaced.html loads it before Assent, which is the mistake that page shows.
window.demoRuns = window.demoRuns || {};
window.demoRan = (name) => {
  demoRuns[name] = (demoRuns[name] || 0) + 1;
  document.dispatchEvent(new CustomEvent('demo:ran'));
};
((d) => {
  const s = d.createElement('script');
  s.async = true;
  s.src = `${location.protocol}//tracker.localhost:${location.port}/tags/tracker.js`;
  d.head.appendChild(s);
})(document);
