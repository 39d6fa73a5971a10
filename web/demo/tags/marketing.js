// Fake marketing tag: records that it ran.
window.demoRan?.('marketing');
