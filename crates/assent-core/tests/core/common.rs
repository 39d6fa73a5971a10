//! Fixtures every module of the core's tests uses: the demo config, the reference locale, a fixed
//! clock and a source of distinct random bytes.

/// The demo site's config (`web/demo/assent.json`).
pub const DEMO: &str = include_str!("../../../../web/demo/assent.json");
/// The reference locale file.
pub const EN: &str = include_str!("../../../../locales/en.json");
/// "Now" in every test: 2026-09-21.
pub const NOW: u64 = 1_790_000_000;
/// One day in seconds.
pub const DAY: u64 = 86_400;

/// Random bytes that differ on each call within a test (1, 2, 3… per test thread), for subject and
/// receipt ids that must not collide.
pub fn counter() -> impl FnMut() -> [u8; 16] {
    thread_local!(static N: std::cell::Cell<u8> = const { std::cell::Cell::new(0) });
    || {
        N.with(|n| {
            n.set(n.get().wrapping_add(1));
            [n.get(); 16]
        })
    }
}

/// Every scoped receipt (a conversation's, a service's) among `effects`, in order.
pub fn scoped_receipts(effects: &[assent_core::Effect]) -> Vec<assent_core::scoped::ScopedChoice> {
    effects
        .iter()
        .filter_map(|e| match e {
            assent_core::Effect::Receipt(assent_core::Record::Scoped(c)) => Some(c.clone()),
            _ => None,
        })
        .collect()
}
