//! Consent receipts, made one at a time through assent-receipts.js.

use std::collections::VecDeque;

use assent_core::pending;
use assent_core::purpose::AI_TRAINING;
use assent_core::receipt::{notice_text, service_text, toggle_text, Claims};
use assent_core::scoped::{Kind, Scope};
use assent_core::Record;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::console;

use crate::ui::pick;
use crate::{call, local_storage, Client};

/// Choices whose receipts are still to be made, in order (each links to the one before), and whether
/// the worker that makes them is running.
#[derive(Default)]
pub(crate) struct Queue {
    pub(crate) records: VecDeque<Record>,
    working: bool,
    /// The pending list could not be kept (said once).
    warned: bool,
}

/// The id of the latest scoped receipt of a kind made in this browser (set by assent-receipts.js).
pub(crate) fn receipt_marker(kind: Kind) -> &'static str {
    match kind {
        Kind::Conversation => "assent.receipt.conversation",
        Kind::Service => "assent.receipt.service",
    }
}

impl Client {
    /// A decision the core just made: kept in the pending list at once, in the same task as its
    /// cookie or stored line, so that a navigation, a crash or a closed tab before its receipt is made
    /// loses nothing (the next page view makes it; see `start`). Then its receipt is made.
    pub(crate) fn record_decision(&self, record: Record) {
        self.keep_pending(&record);
        self.queue_receipt(record);
    }

    fn keep_pending(&self, record: &Record) {
        let Some(storage) = local_storage() else {
            return self.pending_warning("storage is unavailable");
        };
        let stored = storage.get_item(pending::KEY).ok().flatten().unwrap_or_default();
        // Full storage: the oldest records waiting go first, then the attempt is given up.
        let mut keep = pending::MAX;
        loop {
            let (list, dropped) = pending::push(&stored, record, keep);
            match storage.set_item(pending::KEY, &list) {
                Ok(()) if dropped == 0 => return,
                Ok(()) => {
                    return self.pending_warning(&format!("{dropped} older ones waiting were let go"));
                }
                Err(_) if keep > 1 => keep /= 2,
                Err(_) => return self.pending_warning("storage is full"),
            }
        }
    }

    fn pending_warning(&self, why: &str) {
        if !std::mem::replace(&mut self.inner.borrow_mut().receipts.warned, true) {
            console::warn_1(
                &format!("assent: a decision's receipt may be lost if this page goes now: {why} (docs/receipts.md)")
                    .into(),
            );
        }
    }

    /// Queues the records an earlier page view left pending, oldest first.
    pub(crate) fn queue_pending(&self) {
        let stored = local_storage().and_then(|s| s.get_item(pending::KEY).ok().flatten()).unwrap_or_default();
        for record in pending::read(&stored) {
            self.queue_receipt(record);
        }
    }

    /// Whether a receipt is queued already (pending from an earlier page view, or just decided).
    pub(crate) fn queued(&self, id: &str) -> bool {
        self.inner.borrow().receipts.records.iter().any(|r| pending::receipt_id(r) == id)
    }

    pub(crate) fn queue_receipt(&self, record: Record) {
        let start_worker = {
            let mut inner = self.inner.borrow_mut();
            inner.receipts.records.push_back(record);
            !std::mem::replace(&mut inner.receipts.working, true)
        };
        if start_worker {
            let client = self.handle();
            spawn_local(async move { client.receipt_worker().await });
        }
    }

    /// Makes receipts one at a time, so each links to the previous one. A failure is reported and the
    /// decision stands: receipts are evidence, never a condition for the page to work.
    async fn receipt_worker(&self) {
        loop {
            let next = self.inner.borrow_mut().receipts.records.pop_front();
            let Some(record) = next else {
                self.inner.borrow_mut().receipts.working = false;
                return;
            };
            let id = pending::receipt_id(&record);
            match self.make_receipt(&record).await {
                // Made (in the outbox, or delivered): no longer pending. A failure leaves it pending,
                // for a later page view.
                Ok(()) => {
                    if let Some(storage) = local_storage() {
                        let stored = storage.get_item(pending::KEY).ok().flatten().unwrap_or_default();
                        if !stored.is_empty() {
                            let _ = storage.set_item(pending::KEY, &pending::remove(&stored, id));
                        }
                    }
                }
                Err(e) => console::error_2(&format!("assent: could not make receipt {id}:").into(), &e),
            }
        }
    }

    async fn make_receipt(&self, record: &Record) -> Result<(), JsValue> {
        // Embedded without the loader (component tests): no receipts to make.
        let Some(receipts) = self.shared.receipts.clone() else { return Ok(()) };
        let module = JsFuture::from(js_sys::Promise::from(receipts.call0(&JsValue::NULL)?)).await?;
        let (lang, texts) = self.texts().await.ok_or("no strings loaded")?;
        // The receipt would hash key names, not the notice shown. Without its marker, a later page view
        // makes it (see `start`).
        if self.inner.borrow().texts.missing {
            return Err(
                "no locale file loaded, so the notice text cannot be hashed; it is made on a later page view".into()
            );
        }
        let (config, endpoints) = {
            let inner = self.inner.borrow();
            let config = inner.session.as_ref().ok_or("no session")?.config().clone();
            let endpoints: Array = config.receipts.endpoints.iter().map(|e| JsValue::from(e.as_str())).collect();
            (config, endpoints)
        };
        // The exact text shown: locale strings with config overrides, purpose names as displayed.
        let shown = |key: &str| {
            let purpose = config.purposes.iter().find_map(|p| {
                let name = format!("purpose.{}.name", p.id);
                let description = format!("purpose.{}.description", p.id);
                if key == name {
                    p.name.as_ref()
                } else if key == description {
                    p.description.as_ref()
                } else {
                    None
                }
            });
            purpose.and_then(|o| pick(o, &lang)).unwrap_or_else(|| texts.get(key))
        };
        let (text, subject) = match record {
            Record::Site(d) => (notice_text(&config, d.flow, shown), &d.subject),
            Record::Scoped(c) => match (&c.scope, c.method) {
                // Ended by a site-wide refusal: what the visitor saw is the notice they refused in.
                (_, assent_core::Method::Withdrawal) => {
                    let flow = self.inner.borrow().session.as_ref().ok_or("no session")?.flow();
                    (notice_text(&config, flow, shown), &c.subject)
                }
                (Scope::Conversation(_), _) => {
                    let basis = self.inner.borrow().session.as_ref().ok_or("no session")?.basis(AI_TRAINING);
                    (toggle_text(&config, basis, |k| texts.get(k)), &c.subject)
                }
                (Scope::Service(name), _) => (service_text(&config, c.on, name, |k| texts.get(k)), &c.subject),
            },
        };
        let sha = call_async(&module, "sha256", &[text.into()]).await?.as_string().unwrap_or_default();
        let prev = call_async(&module, "prev", &[subject.as_str().into()]).await?.as_string();
        let window = web_sys::window().ok_or("no window")?;
        let origin = window.location().origin()?;
        let gpc = Reflect::get(&window.navigator(), &"globalPrivacyControl".into())?.as_bool() == Some(true);
        let (claims, marker, at) = match record {
            // The signal the decision was made under, not this page view's.
            Record::Site(d) => {
                (Claims::for_decision(d, &config, origin, lang, sha, d.gpc, prev), "assent.receipt", JsValue::UNDEFINED)
            }
            Record::Scoped(c) => {
                let (region, flow) = {
                    let inner = self.inner.borrow();
                    let session = inner.session.as_ref().ok_or("no session")?;
                    (session.region().map(|r| r.as_str().to_string()), session.flow())
                };
                let claims = Claims::for_scoped(c, &config, region, flow, origin, lang, sha, gpc, prev);
                (claims, receipt_marker(c.scope.kind()), JsValue::from(c.decided_at as f64))
            }
        };
        let args = [
            claims.to_canonical_json().into(),
            claims.id.as_str().into(),
            subject.as_str().into(),
            endpoints.into(),
            marker.into(),
            at,
        ];
        call_async(&module, "issue", &args).await?;
        Ok(())
    }
}

/// Calls `object[name](...args)` and awaits the Promise it returns.
async fn call_async(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    JsFuture::from(js_sys::Promise::resolve(&call(object, name, args)?)).await
}
