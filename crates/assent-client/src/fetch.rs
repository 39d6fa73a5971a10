//! Fetching the files the client needs (locale files, the timezone table) through the loader's `fetch`.

use assent_core::json::{string_map, Json};
use assent_core::ConfigError;
use js_sys::Function;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// Fetches `url` through the loader's `fetch` (which hands over a request it started early), else
/// with the window's.
pub(crate) async fn fetch_response(fetch: Option<&Function>, url: &str) -> Result<web_sys::Response, JsValue> {
    let promise: js_sys::Promise = match fetch {
        Some(f) => f.call1(&JsValue::NULL, &url.into())?.dyn_into()?,
        None => web_sys::window().ok_or("no window")?.fetch_with_str(url),
    };
    JsFuture::from(promise).await?.dyn_into()
}

pub(crate) async fn fetch_locale(fetch: Option<&Function>, url: &str) -> Result<Vec<(String, String)>, JsValue> {
    let response = fetch_response(fetch, url).await?;
    if !response.ok() {
        return Err(format!("HTTP {} for {url}", response.status()).into());
    }
    let text = JsFuture::from(response.text()?).await?.as_string().unwrap_or_default();
    let parsed = Json::parse(&text).and_then(|json| string_map(&json, ""));
    parsed.map_err(|e| match e {
        ConfigError::Syntax(where_) => format!("{url} is not valid JSON: {where_}").into(),
        other => format!("{url}: {other}").into(),
    })
}
