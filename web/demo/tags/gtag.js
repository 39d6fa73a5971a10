// Fake Google tag (gtag.js): records that it ran, and the last consent command it found in the
// dataLayer when it did (a real one reads the consent state from there).
(() => {
  let seen = null;
  (window.dataLayer || []).forEach((entry) => {
    if (entry && entry[0] === 'consent') seen = { command: entry[1], state: entry[2] };
  });
  window.gtagSawConsent = seen;
  window.demoRan?.('gtag');
})();
