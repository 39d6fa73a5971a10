//! Signed webhooks (`--webhook <url>`): every withdrawal and every expiry of consent, POSTed to each URL
//! as a compact JWS signed with the collector's key (`typ` `assent-event+jws`; verify it against
//! `/.well-known/jwks.json`).
//!
//! - **What:** a withdrawal is a stored receipt that ended a purpose's consent in its scope (the
//!   changes feed's `ended`); an expiry is a receipt whose `exp` came while it was the one in force.
//!   Both are judged by the gate's own rule.
//! - **Order:** each URL gets its events one at a time, withdrawals in the order stored and expiries in
//!   the order of their `exp`.
//! - **Retries:** anything but a 2xx answer (or no answer in 10 s) is tried again after 1 s, then
//!   2 s, 4 s … up to 5 minutes between tries, for as long as it takes; later events wait.
//! - **Durability:** each URL's cursor is in the database, saved after each 2xx answer, so a restart
//!   (or a SIGKILL) loses nothing. An event whose answer was lost in a crash is sent again: its `id`
//!   (and the `Assent-Event-Id` header) is the same each time, so the receiver can drop the repeat.
//! - **Start:** a URL configured for the first time gets the events from then on (the feed has the
//!   history).

use std::time::Duration;

use assent_core::json::Json;
use assent_core::receipt::Claims;

use crate::error::Rejection;
use crate::store::{Cursor, Row};
use crate::{changes_of, expiries_of, iso, s, AppState};

/// The first wait after a failed delivery, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(300));
/// Receipts read at a time.
const PAGE: usize = 200;

/// Makes each configured URL's cursor (before the collector takes any receipt, so a URL configured now
/// misses none from now on), then starts a delivery task for each.
pub(crate) async fn start(state: &AppState) -> Result<(), Rejection> {
    let now = i64::try_from((state.clock)()).unwrap_or(i64::MAX);
    let mut cursors = Vec::new();
    for url in &state.settings.webhooks {
        cursors.push(state.store.webhook_cursor(url, now).await?);
    }
    for (url, cursor) in state.settings.webhooks.iter().zip(cursors) {
        tokio::spawn(deliver(state.clone(), url.clone(), cursor));
    }
    Ok(())
}

/// Why a step stopped: the database, or the receiver.
enum Failed {
    Store(Rejection),
    Receiver(String),
}

impl From<Rejection> for Failed {
    fn from(e: Rejection) -> Self {
        Failed::Store(e)
    }
}

/// One URL's deliveries, for as long as the collector runs. Its cursor is read once, here, and kept in
/// the database as it moves.
async fn deliver(state: AppState, url: String, mut cursor: Cursor) {
    let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(webhook = %url, error = %e, "webhook disabled: no HTTP client");
            return;
        }
    };
    let mut wait = BACKOFF.0;
    loop {
        // Made before the read, so a receipt stored meanwhile still wakes this task.
        let appended = state.appended.notified();
        match step(&state, &client, &url, &mut cursor).await {
            Ok(true) => wait = BACKOFF.0,
            Ok(false) => {
                wait = BACKOFF.0;
                // An expiry comes with time, and another instance's receipts wake nothing here: look
                // again each second.
                tokio::select! {
                    () = appended => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            Err(failed) => {
                match failed {
                    Failed::Receiver(why) => {
                        tracing::warn!(webhook = %url, reason = %why, retry_in_secs = wait.as_secs(), "webhook not delivered")
                    }
                    Failed::Store(e) => {
                        tracing::warn!(webhook = %url, error = %e, retry_in_secs = wait.as_secs(), "webhook: database")
                    }
                }
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(BACKOFF.1);
            }
        }
    }
}

/// Delivers what is due, in order, saving the cursor after each delivery. `true` if it moved.
async fn step(state: &AppState, client: &reqwest::Client, url: &str, cursor: &mut Cursor) -> Result<bool, Failed> {
    let now = i64::try_from((state.clock)()).unwrap_or(i64::MAX);
    let rows = state.store.receipts_after(cursor.after, PAGE).await?;
    if let Some(last) = rows.last().map(|r| r.seq) {
        for change in changes_of(&state.store, rows).await? {
            if !change.ended.is_empty() {
                let id = format!("withdrawal:{}", change.row.seq);
                let at = change.claims.issued_at.min(u64::try_from(change.row.received_at).unwrap_or(u64::MAX));
                post(state, client, url, "withdrawal", &id, &change.row, &change.claims, &change.ended, at, now)
                    .await?;
                cursor.after = change.row.seq;
                state.store.save_webhook_cursor(url, *cursor).await?;
            }
        }
        cursor.after = last;
        state.store.save_webhook_cursor(url, *cursor).await?;
        return Ok(true);
    }
    let due = state.store.expiring_after(cursor.expiry, now, PAGE).await?;
    let Some(last) = due.last().and_then(|r| Some((Claims::from_canonical_json(&r.claims).ok()?.expires_at, r.seq)))
    else {
        return Ok(false);
    };
    for expiry in expiries_of(&state.store, due).await? {
        let at = expiry.claims.expires_at;
        if !expiry.purposes.is_empty() {
            let id = format!("expiry:{}", expiry.row.seq);
            post(state, client, url, "expiry", &id, &expiry.row, &expiry.claims, &expiry.purposes, at, now).await?;
        }
        cursor.expiry = (i64::try_from(at).unwrap_or(i64::MAX), expiry.row.seq);
        state.store.save_webhook_cursor(url, *cursor).await?;
    }
    cursor.expiry = (i64::try_from(last.0).unwrap_or(i64::MAX), last.1);
    state.store.save_webhook_cursor(url, *cursor).await?;
    Ok(true)
}

/// POSTs one event; only a 2xx answer counts as delivered.
#[allow(clippy::too_many_arguments)]
async fn post(
    state: &AppState,
    client: &reqwest::Client,
    url: &str,
    event: &str,
    id: &str,
    row: &Row,
    claims: &Claims,
    purposes: &[String],
    at: u64,
    now: i64,
) -> Result<(), Failed> {
    let body = state.key.sign_typed(
        &Json::Object(vec![
            ("at".into(), iso(i64::try_from(at).unwrap_or(i64::MAX))),
            ("event".into(), s(event)),
            ("iat".into(), Json::Number(now.to_string())),
            ("id".into(), s(id)),
            ("purposes".into(), Json::Array(purposes.iter().map(|p| s(p)).collect())),
            ("receipt".into(), s(&row.id)),
            ("scope".into(), s(claims.scope.as_deref().unwrap_or("site"))),
            ("subject".into(), s(&row.subject)),
        ]),
        assent_jose::EVENT_TYPE,
    );
    let answer = client
        .post(url)
        .header("content-type", "application/jose")
        .header("assent-event-id", id)
        .body(body)
        .send()
        .await
        .map_err(|e| Failed::Receiver(format!("no answer: {e}")))?;
    if answer.status().is_success() {
        tracing::info!(webhook = %url, event, id, subject = %row.subject, "webhook delivered");
        Ok(())
    } else {
        Err(Failed::Receiver(format!("answered {}", answer.status())))
    }
}

/// Validates `--webhook` URLs: absolute http or https.
pub fn check_url(url: &str) -> Result<(), String> {
    match url.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(format!("--webhook `{url}`: give an absolute http:// or https:// URL")),
    }
}
