// A third-party tracker, served from tracker.localhost (Chromium resolves *.localhost to this machine).
// The demo config lists that host as the service "Demo Tracker" (analytics). It records that it ran,
// sets a cookie and sends a beacon, as real trackers do.
window.demoRan?.('tracker');
// biome-ignore lint/suspicious/noDocumentCookie: a tracker's own cookie, set as trackers set it
document.cookie = `_demo_tracker_id=${Math.random().toString(36).slice(2)}; path=/`;
navigator.sendBeacon(`${location.protocol}//tracker.localhost:${location.port}/tags/collect`, 'pageview');
