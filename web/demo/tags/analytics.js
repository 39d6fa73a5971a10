// Fake analytics tag: records that it ran.
window.demoRan && window.demoRan('analytics');
