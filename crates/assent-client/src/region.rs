//! Where the visitor is, when the page does not say: the config's geo endpoint, then the timezone's country.

use assent_core::json::Json;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::console;

use crate::fetch::fetch_response;

/// Asks the config's geo endpoint for `{"region": "US-CA"}`, giving up (and aborting the request)
/// after 1.5 s. Any failure is reported and means "unknown" (the next source, then the strictest flow).
pub(crate) async fn ask_geo(url: &str) -> Option<String> {
    let window = web_sys::window()?;
    let abort = web_sys::AbortController::new().ok()?;
    let init = web_sys::RequestInit::new();
    init.set_signal(Some(&abort.signal()));
    // Owned here: cleared below if the answer comes first, then dropped with this function.
    let stop = Closure::once(move || abort.abort());
    let timer = window.set_timeout_with_callback_and_timeout_and_arguments_0(stop.as_ref().unchecked_ref(), 1500).ok();
    let answer = async {
        let response: web_sys::Response =
            JsFuture::from(window.fetch_with_str_and_init(url, &init)).await.ok()?.dyn_into().ok()?;
        if !response.ok() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        let json = Json::parse(&text).ok()?;
        json.as_object()?.iter().find(|(k, _)| k == "region").and_then(|(_, v)| match v {
            Json::String(s) => Some(s.clone()),
            _ => None,
        })
    };
    let region = answer.await;
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    if region.is_none() {
        console::warn_1(&format!("assent: the geo endpoint {url} gave no region within 1.5 s (expected {{\"region\": \"US-CA\"}}); trying the timezone").into());
    }
    region
}

/// The country of `zone` from `timezones.txt` (written by the build from the core's table). A failure
/// is reported and means "unknown": the strictest flow.
pub(crate) async fn timezone_country(fetch: Option<&Function>, base: &str, zone: &str) -> Option<String> {
    let url = format!("{base}timezones.txt");
    let fetched = async {
        let response = fetch_response(fetch, &url).await.ok()?;
        if !response.ok() {
            return None;
        }
        JsFuture::from(response.text().ok()?).await.ok()?.as_string()
    };
    match fetched.await {
        Some(table) => assent_core::region::country_in(&table, zone).map(String::from),
        None => {
            console::warn_1(
                &format!("assent: could not load {url}; without data-region the strictest flow applies").into(),
            );
            None
        }
    }
}
