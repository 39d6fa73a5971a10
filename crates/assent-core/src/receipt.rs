//! The consent receipt: the wire format shared by the browser, the collector and the CLI.
//!
//! A receipt is a JWS compact string (RFC 7515) whose payload is the canonical JSON (RFC 8785) of
//! [`Claims`]. Hashing and signing happen in adapters (WebCrypto in the browser, RustCrypto natively);
//! this module defines what is hashed and signed, so every party computes the same bytes.
//! The full description, with the notice-text rule, is in docs/receipts.md.

use crate::config::Config;
use crate::decision::{Decision, Method, Timestamp};
use crate::error::ConfigError;
use crate::flow::Flow;
use crate::json::{as_string, invalid, Fields, Json};
use crate::scoped::{Scope, ScopedChoice};

/// Version of the receipt claims. A receiver refuses versions it does not know.
pub const RECEIPT_VERSION: u32 = 1;

/// What a receipt says about one purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeClaim {
    /// Purpose id.
    pub id: String,
    /// Allowed (`true`) or refused.
    pub granted: bool,
    /// Data categories in scope for this purpose.
    pub data_categories: Vec<String>,
    /// The purpose rested on legitimate interest (on unless objected to), not consent. Written as
    /// `"basis": "legitimateInterest"`; absent means consent.
    pub legitimate_interest: bool,
}

fn purpose_claim(p: &crate::config::Purpose, granted: bool, region: Option<&str>) -> PurposeClaim {
    let region = region.and_then(crate::region::Region::parse);
    PurposeClaim {
        id: p.id.clone(),
        granted,
        data_categories: p.data_categories.clone(),
        legitimate_interest: crate::region::matches_any(&p.legitimate_interest, region.as_ref()),
    }
}

/// The signed statement of one decision (GDPR Art. 7(1) evidence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// Receipt id: `r` followed by 32 hex digits. Delivery is idempotent by this id.
    pub id: String,
    /// Pseudonymous subject id (32 hex digits).
    pub subject: String,
    /// When the decision was made, Unix seconds UTC.
    pub issued_at: Timestamp,
    /// The site origin, e.g. `https://shop.example`.
    pub origin: String,
    /// The controller named in the config.
    pub controller: String,
    /// Region code in force, if known.
    pub region: Option<String>,
    /// Flow in force.
    pub flow: Flow,
    /// Language of the text shown.
    pub locale: String,
    /// Notice version answered.
    pub notice_version: String,
    /// SHA-256 (lowercase hex) of the notice text shown; see [`notice_text`].
    pub notice_sha256: String,
    /// Every configured purpose with its state.
    pub purposes: Vec<PurposeClaim>,
    /// How the decision was captured.
    pub method: Method,
    /// Whether the browser sent Global Privacy Control.
    pub gpc: bool,
    /// When the decision expires, Unix seconds UTC.
    pub expires_at: Timestamp,
    /// SHA-256 (lowercase hex) of the subject's previous receipt's JWS string; `None` for the first.
    pub prev: Option<String>,
    /// What the decision covers: `None` for the whole site, `conversation:<id>` for one chat conversation.
    pub scope: Option<String>,
}

/// The top-level claim names, in canonical (sorted) order.
const CLAIM_NAMES: [&str; 16] = [
    "controller",
    "exp",
    "flow",
    "gpc",
    "iat",
    "id",
    "locale",
    "method",
    "notice",
    "origin",
    "prev",
    "purposes",
    "region",
    "scope",
    "sub",
    "v",
];

impl Claims {
    /// Builds the claims for a decision the core just recorded (its id is the decision's receipt id).
    #[allow(clippy::too_many_arguments)]
    pub fn for_decision(
        decision: &Decision,
        config: &Config,
        origin: String,
        locale: String,
        notice_sha256: String,
        gpc: bool,
        prev: Option<String>,
    ) -> Claims {
        let purposes = config
            .purposes
            .iter()
            // A purpose the decision left unanswered is not claimed either way.
            .filter(|p| decision.granted.iter().chain(&decision.denied).any(|g| g == &p.id))
            .map(|p| purpose_claim(p, decision.granted.iter().any(|g| g == &p.id), decision.region.as_deref()))
            .collect();
        Claims {
            id: decision.receipt.clone(),
            subject: decision.subject.clone(),
            issued_at: decision.decided_at,
            origin,
            controller: config.controller.clone(),
            region: decision.region.clone(),
            flow: decision.flow,
            locale,
            notice_version: decision.notice_version.clone(),
            notice_sha256,
            purposes,
            method: decision.method,
            gpc,
            expires_at: decision.expires_at,
            prev,
            scope: None,
        }
    }

    /// Builds the claims for one scoped choice: scope `conversation:<id>` or `service:<name>`, its
    /// method, only its purpose, and `notice_sha256` over the copy that asked ([`toggle_text`] for a
    /// conversation, [`service_text`] for a service). `region` and `flow` are the session's.
    #[allow(clippy::too_many_arguments)]
    pub fn for_scoped(
        choice: &ScopedChoice,
        config: &Config,
        region: Option<String>,
        flow: Flow,
        origin: String,
        locale: String,
        toggle_sha256: String,
        gpc: bool,
        prev: Option<String>,
    ) -> Claims {
        let purposes = config
            .purpose(&choice.purpose)
            .map(|p| purpose_claim(p, choice.on, region.as_deref()))
            .into_iter()
            .collect();
        Claims {
            id: choice.receipt.clone(),
            subject: choice.subject.clone(),
            issued_at: choice.decided_at,
            origin,
            controller: config.controller.clone(),
            region,
            flow,
            locale,
            // The version the choice was made under (a receipt made again on a later page view).
            notice_version: choice.notice_version.clone().unwrap_or_else(|| config.notice.version.clone()),
            notice_sha256: toggle_sha256,
            purposes,
            method: choice.method,
            gpc,
            expires_at: choice.expires_at,
            prev,
            scope: Some(choice.scope.name()),
        }
    }

    /// The claims as a JSON value (keys are sorted when serialised canonically).
    pub fn to_json(&self) -> Json {
        let s = |v: &str| Json::String(v.to_string());
        let n = |v: u64| Json::Number(v.to_string());
        let opt = |v: &Option<String>| v.as_deref().map_or(Json::Null, s);
        let purposes = self
            .purposes
            .iter()
            .map(|p| {
                let categories = Json::Array(p.data_categories.iter().map(|c| s(c)).collect());
                let mut fields = Vec::new();
                if p.legitimate_interest {
                    fields.push(("basis".into(), s("legitimateInterest")));
                }
                fields.push(("dataCategories".into(), categories));
                fields.push(("granted".into(), Json::Bool(p.granted)));
                (p.id.clone(), Json::Object(fields))
            })
            .collect();
        Json::Object(vec![
            ("controller".into(), s(&self.controller)),
            ("exp".into(), n(self.expires_at)),
            ("flow".into(), s(self.flow.as_str())),
            ("gpc".into(), Json::Bool(self.gpc)),
            ("iat".into(), n(self.issued_at)),
            ("id".into(), s(&self.id)),
            ("locale".into(), s(&self.locale)),
            ("method".into(), s(self.method.as_str())),
            (
                "notice".into(),
                Json::Object(vec![
                    ("sha256".into(), s(&self.notice_sha256)),
                    ("version".into(), s(&self.notice_version)),
                ]),
            ),
            ("origin".into(), s(&self.origin)),
            ("prev".into(), opt(&self.prev)),
            ("purposes".into(), Json::Object(purposes)),
            ("region".into(), opt(&self.region)),
            ("scope".into(), opt(&self.scope)),
            ("sub".into(), s(&self.subject)),
            ("v".into(), n(u64::from(RECEIPT_VERSION))),
        ])
    }

    /// The JWS payload: canonical JSON (RFC 8785).
    pub fn to_canonical_json(&self) -> String {
        self.to_json().canonical()
    }

    /// Reads claims from a JWS payload, refusing anything but the canonical form of a known version.
    pub fn from_canonical_json(text: &str) -> Result<Claims, ConfigError> {
        let json = Json::parse(text)?;
        let claims = Claims::from_json(&json)?;
        if claims.to_canonical_json() != text {
            return Err(invalid(
                "payload",
                "is not canonical JSON (RFC 8785): keys sorted, no whitespace, integers only",
            ));
        }
        // Re-serialising keeps a repeated purpose, so the check above lets it through; but readers
        // disagree on which copy counts (JS `JSON.parse` takes the last), and RFC 8785 forbids it.
        if let Some(w) = claims.purposes.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(invalid(
                format!("purposes.{}", w[0].id),
                "is listed twice: one receipt must mean one thing to every reader",
            ));
        }
        Ok(claims)
    }

    fn from_json(v: &Json) -> Result<Claims, ConfigError> {
        let f = Fields::new(v, "", &CLAIM_NAMES)?;
        let version = f.u32("v")?.ok_or_else(|| invalid("v", "missing: the receipt version"))?;
        if version != RECEIPT_VERSION {
            return Err(invalid(
                "v",
                format!("receipt version {version} is not supported (this build reads {RECEIPT_VERSION})"),
            ));
        }
        let hex = |path: &str, value: String, len: usize| {
            if lower_hex(&value, len) {
                Ok(value)
            } else {
                Err(invalid(path, format!("must be {len} lowercase hex digits")))
            }
        };
        let time = |key: &str| -> Result<u64, ConfigError> {
            let v = f.required(key)?;
            match v {
                Json::Number(n) => n.parse().map_err(|_| invalid(key, "must be Unix seconds (a whole number)")),
                other => Err(invalid(key, format!("expected Unix seconds, found {}", other.describe()))),
            }
        };
        let id = as_string(f.required("id")?, "id")?;
        if !(id.len() == 33 && id.starts_with('r') && id[1..].bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(invalid("id", "must be `r` followed by 32 hex digits"));
        }
        let notice = Fields::new(f.required("notice")?, "notice", &["sha256", "version"])?;
        let flow_name = as_string(f.required("flow")?, "flow")?;
        let method_name = as_string(f.required("method")?, "method")?;
        let purposes = f.required("purposes")?.as_object().ok_or_else(|| invalid("purposes", "expected an object"))?;
        let purposes = purposes
            .iter()
            .map(|(id, v)| {
                let path = format!("purposes.{id}");
                let p = Fields::new(v, &path, &["basis", "dataCategories", "granted"])?;
                let legitimate_interest = match p.string("basis")?.as_deref() {
                    None => false,
                    Some("legitimateInterest") => true,
                    Some(other) => {
                        return Err(invalid(
                            p.path("basis"),
                            format!("`{other}`: the only basis written is `legitimateInterest` (absent means consent)"),
                        ))
                    }
                };
                Ok(PurposeClaim {
                    id: id.clone(),
                    granted: p.bool("granted")?.ok_or_else(|| invalid(p.path("granted"), "missing"))?,
                    data_categories: p.list("dataCategories", as_string)?.unwrap_or_default(),
                    legitimate_interest,
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        Ok(Claims {
            id,
            subject: hex("sub", as_string(f.required("sub")?, "sub")?, 32)?,
            issued_at: time("iat")?,
            origin: as_string(f.required("origin")?, "origin")?,
            controller: as_string(f.required("controller")?, "controller")?,
            region: f.string("region")?,
            flow: Flow::parse(&flow_name).ok_or_else(|| invalid("flow", format!("`{flow_name}` is not a flow")))?,
            locale: as_string(f.required("locale")?, "locale")?,
            notice_version: as_string(notice.required("version")?, "notice.version")?,
            notice_sha256: hex("notice.sha256", as_string(notice.required("sha256")?, "notice.sha256")?, 64)?,
            purposes,
            method: Method::parse(&method_name)
                .ok_or_else(|| invalid("method", format!("`{method_name}` is not a capture method")))?,
            gpc: f.bool("gpc")?.ok_or_else(|| invalid("gpc", "missing"))?,
            expires_at: time("exp")?,
            prev: f.string("prev")?.map(|p| hex("prev", p, 64)).transpose()?,
            scope: f
                .string("scope")?
                .map(|scope| match Scope::parse(&scope) {
                    Some(_) => Ok(scope),
                    None => Err(invalid(
                        "scope",
                        format!("`{scope}`: use `conversation:<id>` or `service:<name>` (null for the whole site)"),
                    )),
                })
                .transpose()?,
        })
    }

    /// The state of `purpose` in this receipt, if it names it.
    pub fn granted(&self, purpose: &str) -> Option<bool> {
        self.purposes.iter().find(|p| p.id == purpose).map(|p| p.granted)
    }
}

/// The exact notice text whose SHA-256 goes into a receipt.
///
/// One line per string the visitor was shown (or could open in the preferences dialog), in this order:
/// `banner.title`, the flow's body (`banner.body`, `banner.optOutBody` or `banner.noticeBody`),
/// `prefs.title`, `prefs.intro`, `prefs.separateTitle`, `prefs.separateNote`, `prefs.withdrawNote` (what
/// a withdrawal cannot undo), then for every purpose
/// in config order `purpose.<id>.name` and `purpose.<id>.description`. Each line is `key=text`, where
/// text is the string after config overrides with `{controller}` filled in. Lines are joined with
/// `\n` (no trailing newline) and hashed as UTF-8.
pub fn notice_text(config: &Config, flow: Flow, text: impl Fn(&str) -> String) -> String {
    let body = match flow {
        Flow::OptIn => "banner.body",
        Flow::OptOut => "banner.optOutBody",
        Flow::Notice => "banner.noticeBody",
    };
    let mut keys: Vec<String> = [
        "banner.title",
        body,
        "prefs.title",
        "prefs.intro",
        "prefs.separateTitle",
        "prefs.separateNote",
        "prefs.withdrawNote",
    ]
    .map(String::from)
    .to_vec();
    for p in &config.purposes {
        keys.push(format!("purpose.{}.name", p.id));
        keys.push(format!("purpose.{}.description", p.id));
    }
    let lines: Vec<String> =
        keys.iter().map(|k| format!("{k}={}", text(k).replace("{controller}", &config.controller))).collect();
    crate::joined(&lines, "\n")
}

/// The exact copy of the AI-training toggle whose SHA-256 goes into its receipts (`notice.sha256` of a
/// receipt with method `ai_toggle`). The same rule as [`notice_text`] over these keys: `toggle.label`,
/// then `toggle.description` (consent) or `toggle.objection` (legitimate interest), then
/// `toggle.learnMore`.
pub fn toggle_text(config: &Config, basis: crate::session::Basis, text: impl Fn(&str) -> String) -> String {
    let lines: Vec<String> = toggle_keys(basis)
        .iter()
        .map(|k| format!("{k}={}", text(k).replace("{controller}", &config.controller)))
        .collect();
    crate::joined(&lines, "\n")
}

/// The exact copy behind a service's scoped receipt (`scope: "service:<name>"`), the same rule as
/// [`notice_text`] with `{service}` filled in too: when the service is allowed always,
/// `placeholder.message` and `placeholder.always` (the embed's placeholder); when that ends,
/// `prefs.allowedTitle` and `prefs.allowedNote` (the preferences dialog's list of such services).
pub fn service_text(config: &Config, on: bool, service: &str, text: impl Fn(&str) -> String) -> String {
    let keys: [&str; 2] =
        if on { ["placeholder.message", "placeholder.always"] } else { ["prefs.allowedTitle", "prefs.allowedNote"] };
    let lines: Vec<String> = keys
        .iter()
        .map(|k| format!("{k}={}", text(k).replace("{controller}", &config.controller).replace("{service}", service)))
        .collect();
    crate::joined(&lines, "\n")
}

/// The locale keys the toggle shows, in display order.
pub fn toggle_keys(basis: crate::session::Basis) -> [&'static str; 3] {
    match basis {
        crate::session::Basis::Consent => ["toggle.label", "toggle.description", "toggle.learnMore"],
        crate::session::Basis::LegitimateInterest => ["toggle.label", "toggle.objection", "toggle.learnMore"],
    }
}

/// Whether `value` is `len` lowercase hex digits: the form of a subject id (32) and of the hashes.
pub fn lower_hex(value: &str, len: usize) -> bool {
    value.len() == len && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The answer to "may this subject's data be used for `purpose` at `at`?"
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateAnswer {
    /// Whether it may.
    pub granted: bool,
    /// Why: `granted`, `legitimate interest, not objected to`, `refused`, `expired`, `no receipt…`,
    /// `the receipt does not name this purpose`, or [`OTHER_KEY`].
    pub reason: &'static str,
    /// Start of the unbroken run of receipts that allowed the purpose (when granted).
    pub since: Option<Timestamp>,
    /// When the deciding receipt expires (when granted).
    pub until: Option<Timestamp>,
    /// The deciding receipt: the latest one issued at or before `at` in the deciding scope.
    pub receipt: Option<String>,
    /// Its capture method.
    pub method: Option<Method>,
    /// The scope of the deciding receipt: `None` for the site-wide choice.
    pub decided_in: Option<String>,
    /// The notice version the deciding receipt answered.
    pub notice_version: Option<String>,
}

/// One stored receipt as the gate weighs it: its claims, and the thumbprint of the key that signed it
/// (RFC 7638, as `assent_jose::Verified::key_thumbprint` gives it).
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The receipt's claims.
    pub claims: &'a Claims,
    /// Its signer's key thumbprint.
    pub key: &'a str,
    /// When the collector received it, if known. A receipt counts from the earlier of this and its
    /// `iat`: a device clock a few minutes fast (the collector accepts up to 300 s) must not
    /// postpone a withdrawal the collector already holds.
    pub received_at: Option<Timestamp>,
}

/// Why a grant is not honoured when only another key than the subject's signed it.
pub const OTHER_KEY: &str = "granted only by a receipt signed with another key than the subject's first receipt";

/// Every reason [`gate`] gives, so that a table of its answers (`assent intervals`) reads back.
pub const REASONS: [&str; 7] = [
    "granted",
    "legitimate interest, not objected to",
    "refused",
    "expired",
    "no receipt for this subject at that time",
    "the receipt does not name this purpose",
    OTHER_KEY,
];

/// The purpose-scoped gate over one subject's receipts, **in arrival order** (the collector's `seq`,
/// an export's order). `scope` is `None` for the whole site. Of the receipts issued (or received, if
/// earlier) at or before `at`, the latest to arrive decides: the purpose must be granted in it and it must not have expired at
/// `at`. Arrival order, not `iat`, orders them: a subject's receipts form one chain, and a browser
/// clock that was fast for a grant and corrected before a withdrawal must not let the grant win.
///
/// Only the key that signed the subject's first receipt can grant. The subject id is readable by the
/// page's scripts, so anyone could sign a receipt for it with a key of their own; such a receipt still
/// counts as a refusal (a refusal is always safe to honour), never as a grant ([`OTHER_KEY`]).
///
/// With a scope (`conversation:<id>`), that scope's own latest receipt naming the purpose decides, as
/// in the browser: a conversation's choice overrides the site-wide one for that conversation only.
/// A service's scope (`service:<name>`) only widens: its latest receipt decides while it grants.
/// Where the scope has no such receipt at `at`, or its latest one has expired (or, for a service,
/// refuses), or a site-wide receipt under another notice version arrived after it, the site-wide
/// answer applies.
pub fn gate(receipts: &[Evidence<'_>], purpose: &str, at: Timestamp, scope: Option<&str>) -> GateAnswer {
    let own_key = receipts.first().map(|e| e.key);
    let all: Vec<(&Claims, bool)> = receipts
        .iter()
        .filter(|e| e.claims.issued_at.min(e.received_at.unwrap_or(u64::MAX)) <= at)
        .map(|e| (e.claims, Some(e.key) == own_key))
        .collect();
    if let Some(scope) = scope {
        let scoped: Vec<(&Claims, bool)> = all
            .iter()
            .copied()
            .filter(|(c, _)| c.scope.as_deref() == Some(scope) && c.granted(purpose).is_some())
            .collect();
        // The conversation's latest choice decides while it lasts, a refusal as much as a grant; once it
        // has expired the site-wide choice applies, as in the browser.
        let widens_only = matches!(Scope::parse(scope), Some(Scope::Service(_)));
        let latest = scoped.last();
        // A scope's choice counts only under the notice version it was made under, as in the browser:
        // a site-wide receipt under another version that arrives after it ends it.
        let renewed = latest.is_some_and(|(c, _)| {
            all.iter()
                .skip_while(|(x, _)| !std::ptr::eq(*x, *c))
                .any(|(x, _)| x.scope.is_none() && x.notice_version != c.notice_version)
        });
        if !renewed
            && latest.is_some_and(|(c, trusted)| {
                at < c.expires_at && (!widens_only || (*trusted && c.granted(purpose) == Some(true)))
            })
        {
            if let Some(answer) = decide(&scoped, purpose, at) {
                return answer;
            }
        }
    }
    let site: Vec<(&Claims, bool)> = all.into_iter().filter(|(c, _)| c.scope.is_none()).collect();
    decide(&site, purpose, at).unwrap_or(GateAnswer {
        granted: false,
        reason: "no receipt for this subject at that time",
        since: None,
        until: None,
        receipt: None,
        method: None,
        decided_in: None,
        notice_version: None,
    })
}

/// The gate within one scope's receipts (all issued at or before `at`, in arrival order, each with
/// whether the subject's own key signed it); `None` without any.
fn decide(relevant: &[(&Claims, bool)], purpose: &str, at: Timestamp) -> Option<GateAnswer> {
    let (latest, trusted) = *relevant.last()?;
    let claim = latest.purposes.iter().find(|p| p.id == purpose);
    let (granted, reason) = match claim {
        None => (false, "the receipt does not name this purpose"),
        Some(p) if !p.granted => (false, "refused"),
        Some(_) if !trusted => (false, OTHER_KEY),
        Some(_) if at >= latest.expires_at => (false, "expired"),
        Some(p) if p.legitimate_interest => (true, "legitimate interest, not objected to"),
        Some(_) => (true, "granted"),
    };
    let since = granted.then(|| {
        let mut since = latest.issued_at;
        for (earlier, trusted) in relevant.iter().rev().skip(1) {
            if !trusted || earlier.granted(purpose) != Some(true) || earlier.expires_at <= since {
                break;
            }
            since = since.min(earlier.issued_at);
        }
        since
    });
    Some(GateAnswer {
        granted,
        reason,
        since,
        until: granted.then_some(latest.expires_at),
        receipt: Some(latest.id.clone()),
        method: Some(latest.method),
        decided_in: latest.scope.clone(),
        notice_version: Some(latest.notice_version.clone()),
    })
}

/// One span of time over which [`gate`] gives the same answer for a subject, purpose and scope:
/// from `from` (inclusive) to `until` (exclusive; `None` while it lasts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    /// Start, Unix seconds.
    pub from: Timestamp,
    /// End, Unix seconds: the next receipt, a withdrawal or the expiry; `None` for open.
    pub until: Option<Timestamp>,
    /// The gate's answer throughout.
    pub answer: GateAnswer,
}

/// The times at which [`gate`]'s answer over these receipts can change: each receipt starts to count
/// (the earlier of its `iat` and its arrival) and each one expires. Between two of them nothing the
/// gate reads changes.
fn breakpoints(receipts: &[Evidence<'_>]) -> Vec<Timestamp> {
    let mut times: Vec<Timestamp> = receipts
        .iter()
        .flat_map(|e| [e.claims.issued_at.min(e.received_at.unwrap_or(u64::MAX)), e.claims.expires_at])
        .collect();
    times.sort_unstable();
    times.dedup();
    times
}

/// The subject's whole timeline for `purpose` in `scope` (`None` for the whole site): [`gate`] asked
/// at every time its answer can change, adjacent spans with the same answer merged. It is the gate by
/// construction, so for any `at` from the first receipt on, the span holding `at` carries exactly
/// `gate(receipts, purpose, at, scope)`; before the first receipt there is none (the gate's "no
/// receipt"). Granted spans are the intervals in which consent was in force.
pub fn intervals(receipts: &[Evidence<'_>], purpose: &str, scope: Option<&str>) -> Vec<Interval> {
    let times = breakpoints(receipts);
    let mut out: Vec<Interval> = Vec::new();
    for (i, &from) in times.iter().enumerate() {
        let answer = gate(receipts, purpose, from, scope);
        let until = times.get(i + 1).copied();
        match out.last_mut() {
            // `since` and `until` of the answer can differ within a run of one receipt's grant (an
            // earlier grant joins it); the span is the same consent, so compare what decides.
            Some(last) if same_span(&last.answer, &answer) => last.until = until,
            _ => out.push(Interval { from, until, answer }),
        }
    }
    out
}

fn same_span(a: &GateAnswer, b: &GateAnswer) -> bool {
    (a.granted, a.reason, &a.receipt, &a.decided_in) == (b.granted, b.reason, &b.receipt, &b.decided_in)
}

/// The span of `timeline` (from [`intervals`]) that holds `at`, if any.
pub fn interval_at(timeline: &[Interval], at: Timestamp) -> Option<&Interval> {
    let i = timeline.partition_point(|s| s.from <= at);
    timeline[..i].last().filter(|s| s.until.is_none_or(|u| at < u))
}
