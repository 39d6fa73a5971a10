// Fake analytics tag: records that it ran.
window.demoRan?.('analytics');
