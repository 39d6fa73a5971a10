//! The consent state machine: events in, effects out. Time and randomness are arguments.

use crate::config::Config;
use crate::config::GpcInOptIn;
use crate::decision::{hex, is_timezone, Decision, Method, RegionSource, Timestamp};
use crate::error::UsageError;
use crate::flow::Flow;
use crate::purpose::{AI_TRAINING, NECESSARY};
use crate::region::{matches_any, resolve_flow, resolve_flow_somewhere_in, resolve_rule, Region};
use crate::scoped::{self, is_conversation_id, is_service_name, Kind, Scope, ScopedChoice};
use crate::trackers::Trackers;

const DAY: u64 = 86_400;

/// The source of random bytes inside the session: one type, so each step is compiled once (a generic
/// here made a copy of `record` per caller in the wasm).
type Random<'a> = &'a mut dyn FnMut() -> [u8; 16];

/// What the visitor sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ui {
    /// Nothing.
    Hidden,
    /// The first layer.
    Banner,
    /// The preferences dialog.
    Preferences,
}

/// Who asked for a change: the Assent UI or the page's own code through the JS API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A button in the banner or dialog.
    Ui,
    /// `window.assent.*`.
    Api,
}

/// Something the visitor or the page did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Allow every optional purpose except `ai_training`, which keeps its current state.
    AcceptAll(Source),
    /// Refuse every optional purpose, `ai_training` included.
    RejectAll(Source),
    /// Set some purposes; the rest keep their current state.
    Save(Vec<(String, bool)>, Source),
    /// Refuse one purpose, or every optional purpose.
    Withdraw(Option<String>),
    /// Acknowledge the notice (opt-out and notice flows): the defaults stand and the banner goes.
    Acknowledge,
    /// Show the first layer.
    OpenBanner,
    /// Show the preferences dialog.
    OpenPreferences,
    /// Close whatever is shown (Escape, ×). Never a decision.
    Close,
    /// The AI-training toggle of one conversation was switched. Overrides the site-wide
    /// `ai_training` choice for that conversation only.
    AiToggle {
        /// The conversation id.
        conversation: String,
        /// The new state.
        on: bool,
    },
    /// "Always allow" a service on its embed placeholder (`on`), or the end of that in the
    /// preferences dialog (`!on`): the service's tags and embeds run although its purpose is refused.
    AllowService {
        /// The service's name (tracker database or config).
        service: String,
        /// Allowed from now on, or back to its purpose's answer.
        on: bool,
    },
}

/// The legal basis a purpose rests on for this visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Off until the visitor allows it.
    Consent,
    /// On by default where the config declares legitimate interest for the region; the objection
    /// (turning it off) is shown before any data is used and takes one click.
    LegitimateInterest,
}

/// A choice whose receipt must be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The site-wide decision.
    Site(Decision),
    /// A choice narrower than the site: one conversation's AI-training choice, or one service
    /// allowed always.
    Scoped(ScopedChoice),
}

/// What the adapter must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write the stored form to the cookie, kept for `max_age` seconds.
    Store {
        /// Cookie value ([`Decision::encode`]).
        value: String,
        /// Seconds until the decision expires.
        max_age: u64,
    },
    /// Show this UI.
    Render(Ui),
    /// Decide every gated element again and activate the ones now allowed.
    ApplyGates,
    /// The decision changed: tell the page (`assent:change`, `on('change')`).
    Changed,
    /// Tell the site owner something on the console.
    Warn(String),
    /// A choice was recorded: sign its receipt and deliver it (to the configured endpoints, if any).
    Receipt(Record),
    /// Store one scoped choice under its kind's localStorage key ([`Kind::storage_key`]), merged into
    /// what is stored now ([`scoped::merge`]): other tabs may have stored choices since this page started.
    StoreScoped(ScopedChoice),
    /// A scoped choice changed: update a conversation's toggles, or the preferences dialog, and tell
    /// the page.
    ScopedChanged(Scope),
    /// Tell Google tags: `gtag('consent', command.command, …)` for each, in order.
    ConsentMode(Vec<crate::consent_mode::Command>),
    /// Remove what these tracker services, which may not run now, left in the browser
    /// ([`Trackers::cleanup`] names the cookies and storage keys); then reload the page when `reload`
    /// (`blocking.reloadOnWithdraw` and something that was allowed is not any more).
    Cleanup {
        /// Names of the services that may not run now.
        services: Vec<String>,
        /// Reload afterwards.
        reload: bool,
    },
}

/// What the page knows about the visitor before any choice: where they are, and their browser's
/// Global Privacy Control signal. The region comes from the first of `region` (`data-region`),
/// `geo` (the config's geo endpoint) and `timezone` that can be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visitor {
    /// `data-region` as written on the script tag.
    pub region: Option<String>,
    /// The geo endpoint's answer.
    pub geo: Option<String>,
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
    pub timezone: Option<String>,
    /// The timezone's country, looked up by the adapter: natively with
    /// [`crate::region::country_for_timezone`], in the browser from `timezones.txt`, which the build
    /// writes from the same table, so the table stays out of the wasm.
    pub timezone_country: Option<String>,
    /// `navigator.globalPrivacyControl === true`.
    pub gpc: bool,
}

impl Visitor {
    /// A visitor placed by `data-region` alone.
    pub fn in_region(code: &str) -> Visitor {
        Visitor { region: Some(code.to_string()), ..Visitor::default() }
    }

    /// A visitor known by their timezone, its country looked up in the built-in table.
    pub fn in_timezone(zone: &str) -> Visitor {
        Visitor {
            timezone: Some(zone.to_string()),
            timezone_country: crate::region::country_for_timezone(zone).map(String::from),
            ..Visitor::default()
        }
    }
}

/// One page view's consent state.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    fingerprint: u32,
    region: Option<Region>,
    region_source: RegionSource,
    gpc: bool,
    flow: Flow,
    decision: Option<Decision>,
    /// What a stored decision that no longer counts (a new notice, a stricter flow) refused, outside
    /// opt-in: those refusals stand until the visitor answers again.
    standing: Vec<String>,
    subject: Option<String>,
    scoped: Vec<ScopedChoice>,
    ui: Ui,
    /// What was shown when the preferences dialog opened: closing it without a decision goes back there.
    opened_from: Ui,
    trackers: Trackers,
}

impl Session {
    /// Starts a page view from the validated config, its fingerprint, what the page knows about the
    /// visitor, and the stored cookie value (if any). `random` is used only when a decision is made at
    /// once (GPC applied automatically), as in [`Session::handle`].
    pub fn start(
        config: Config,
        fingerprint: u32,
        visitor: &Visitor,
        stored: Option<&str>,
        now: Timestamp,
        random: impl FnMut() -> [u8; 16],
    ) -> (Session, Vec<Effect>) {
        let mut effects = Vec::new();
        let (region, region_source, flow) = locate(&config, visitor, &mut effects);
        let trackers = Trackers::new(&config.blocking);
        let mut unserved: Vec<(&str, &str)> = trackers
            .services()
            .iter()
            .filter(|s| config.purpose(&s.purpose).is_none())
            .map(|s| (s.purpose.as_str(), s.name.as_str()))
            .collect();
        unserved.sort();
        for group in unserved.chunk_by(|a, b| a.0 == b.0) {
            let purpose = group[0].0;
            let names: Vec<&str> = group.iter().map(|(_, n)| *n).collect();
            effects.push(Effect::Warn(format!(
                "the tracker database puts {} under `{purpose}`, which this config does not define, so their tags stay blocked. \
                 Add the purpose, or move them with blocking.services: [{{\"name\": \"{}\", \"purpose\": \"…\"}}]",
                crate::joined(&names, ", "),
                names[0]
            )));
        }
        // Prose given in one language only, while the banner is shown in several.
        if config.languages.len() > 1 {
            let single: Vec<String> = config
                .purposes
                .iter()
                .filter(|p| {
                    [&p.name, &p.description].iter().any(|t| matches!(t, Some(crate::config::TextOverride::All(_))))
                })
                .map(|p| format!("purposes[{}]", p.id))
                .collect();
            if !single.is_empty() {
                effects.push(Effect::Warn(format!(
                    "{} give a name or description as one string, but {} languages are offered (`languages`), so visitors in the others read it untranslated. \
                     Give it per language ({{\"en\": \"…\", \"de\": \"…\"}}), or list only the languages you wrote it in",
                    crate::joined(&single, ", "),
                    config.languages.len()
                )));
            }
        }
        // A form of the previous version is written again (see `decision::PREVIOUS_FORM_VERSION`).
        let old_form = stored.is_some_and(|v| !v.starts_with(&format!("{}|", crate::decision::STORED_FORM_VERSION)));
        let stored = stored.and_then(Decision::decode);
        let subject = stored.as_ref().map(|d| d.subject.clone());
        let counts = |d: &Decision| {
            d.expires_at > now
                && d.notice_version == config.notice.version
                // A decision made under a laxer flow (defaults pre-on) is no affirmative choice here.
                && d.flow >= flow
        };
        // Where purposes run by default, refusing one is an opt-out, and an opt-out holds until the
        // visitor opts back in (CCPA): a new notice or a move to a stricter flow asks again, but what
        // was refused stays off meanwhile instead of running by default.
        let standing = match &stored {
            Some(d) if !counts(d) && d.expires_at > now && flow != Flow::OptIn => d.denied.clone(),
            _ => Vec::new(),
        };
        let decision = stored.filter(counts);
        let mut session = Session {
            trackers,
            config,
            fingerprint,
            region,
            region_source,
            gpc: visitor.gpc,
            flow,
            decision,
            standing,
            subject,
            scoped: Vec::new(),
            ui: Ui::Hidden,
            opened_from: Ui::Hidden,
        };
        if session.gpc_applies() {
            // Global Privacy Control in an opt-out region: the opt-out of sale, sharing and targeted
            // advertising is applied with no prompt. The notice shows once, saying so.
            let choices =
                session.choices().into_iter().map(|(id, on)| (id.clone(), on && !session.gpc_refuses(&id))).collect();
            let mut random = random;
            let mut applied = session.record(choices, Method::Gpc, now, &mut random);
            applied.retain(|e| *e != Effect::Render(Ui::Hidden));
            session.ui = Ui::Banner;
            effects.push(Effect::Render(Ui::Banner));
            effects.extend(applied.into_iter().filter(|e| *e != Effect::ApplyGates));
        } else if let Some(d) = &session.decision {
            let region = session.region.as_ref().map(|r| r.as_str().to_string());
            // The flow and the GPC signal a decision was made under stay as they were (a stricter flow
            // re-asks; a choice made with GPC on stands), except that GPC seen since is noted.
            if old_form
                || d.config_fingerprint != fingerprint
                || d.region != region
                || d.region_source != session.region_source
                || (session.gpc && !d.gpc)
                || d.persistent_ui != session.entry_point().is_some()
                || d.consent_mode != session.consent_mode_stored()
            {
                // Same decision, new context: refresh the stored form so the loader can act alone next time.
                let mut refreshed = d.clone();
                refreshed.config_fingerprint = fingerprint;
                refreshed.region = region;
                refreshed.region_source = session.region_source.clone();
                refreshed.gpc |= session.gpc;
                refreshed.persistent_ui = session.entry_point().is_some();
                refreshed.consent_mode = session.consent_mode_stored();
                effects.push(Effect::Store { value: refreshed.encode(), max_age: d.expires_at.saturating_sub(now) });
                session.decision = Some(refreshed);
            }
        } else {
            session.ui = Ui::Banner;
            effects.push(Effect::Render(Ui::Banner));
        }
        if let Some(update) = session.consent_mode_update() {
            // Google tags hear the state in force before any gated tag runs: the rules' defaults for
            // Google's own geolocation when nothing is decided yet, then this visitor's state.
            let mut commands = if session.decision.is_none() {
                crate::consent_mode::region_defaults(&session.config)
            } else {
                Vec::new()
            };
            commands.push(update);
            effects.push(Effect::ConsentMode(commands));
        }
        if session.ui == Ui::Hidden && session.entry_point().is_some() {
            // Nothing to ask, but the way back to the choices stays on screen.
            effects.push(Effect::Render(Ui::Hidden));
        }
        effects.push(Effect::ApplyGates);
        (session, effects)
    }

    /// Whether GPC must be applied now: an opt-out region, the signal on, and no decision that already
    /// answered it (one made with the signal on stands, so a later explicit opt-in wins).
    fn gpc_applies(&self) -> bool {
        self.gpc
            && self.flow == Flow::OptOut
            && match &self.decision {
                None => true,
                Some(d) => !d.gpc && d.granted.iter().any(|p| self.gpc_refuses(p)),
            }
    }

    /// Whether GPC refuses this purpose: the configured sale/sharing/advertising purposes, and
    /// `ai_training` unless the config says the signal is no objection to it.
    fn gpc_refuses(&self, purpose: &str) -> bool {
        self.config.gpc.purposes.iter().any(|p| p == purpose)
            || (purpose == AI_TRAINING && self.config.gpc.ai_training_objection)
    }

    /// Whether the visitor's GPC signal is honoured by the decision in force (California asks sites
    /// to show it: "Opt-Out Request Honored").
    pub fn gpc_honored(&self) -> bool {
        self.gpc
            && self.flow == Flow::OptOut
            && self.decision.as_ref().is_some_and(|d| self.config.gpc.purposes.iter().all(|p| !d.granted.contains(p)))
    }

    /// The locale key of the persistent entry point back to the choices, shown whenever nothing else
    /// is: opt-out regions only, unless the config turns it off.
    pub fn entry_point(&self) -> Option<&'static str> {
        if self.flow != Flow::OptOut {
            return None;
        }
        match self.config.opt_out_entry_point {
            crate::config::EntryPoint::PrivacyChoices => Some("entry.privacyChoices"),
            crate::config::EntryPoint::DoNotSell => Some("entry.doNotSell"),
            crate::config::EntryPoint::None => None,
        }
    }

    /// The English wording a string must keep for this visitor, where the law gives it legal force:
    /// in California (or the US when the state is unknown), `entry.*` and `gpc.honored`
    /// ([`crate::locale::CALIFORNIA_ENGLISH`]). The UI
    /// shows it with the visitor's translation next to it.
    pub fn legal_english(&self, key: &str) -> Option<&'static str> {
        // California, or somewhere in the US when the state is not known (a timezone gives only the country).
        let california = self.region.as_ref().is_some_and(|r| matches!(r.as_str(), "US-CA" | "US"));
        california.then(|| crate::locale::CALIFORNIA_ENGLISH.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)).flatten()
    }

    /// The Consent Mode state in force, as an `update` command (None without Consent Mode).
    pub fn consent_mode_update(&self) -> Option<crate::consent_mode::Command> {
        let state = crate::consent_mode::state(&self.config, |p| self.allowed(p))?;
        Some(crate::consent_mode::Command { command: "update", region: Vec::new(), state })
    }

    fn consent_mode_stored(&self) -> String {
        crate::consent_mode::encode(crate::consent_mode::state(&self.config, |p| self.allowed(p)))
    }

    /// The IAB GPP US section for this visitor: in US opt-out regions only (`None` elsewhere: `__gpp`
    /// then reports no applicable section); the state's own section in a state that has one.
    pub fn gpp(&self) -> Option<crate::gpp::UsSignal> {
        let (opted_out, gpc) = self.gpp_opt_out()?;
        let section = crate::gpp::UsSection::for_region(self.region.as_ref()?.as_str());
        Some(crate::gpp::UsSignal { section, opted_out, gpc })
    }

    /// What the US National section is made from, `(opted out, GPC)`, where it applies: all a module
    /// that encodes the section needs to know of the session.
    pub fn gpp_opt_out(&self) -> Option<(bool, bool)> {
        if self.flow != Flow::OptOut || self.region.as_ref().is_none_or(|r| r.country() != "US") {
            return None;
        }
        let purposes = &self.config.gpc.purposes;
        Some((purposes.is_empty() || purposes.iter().any(|p| !self.allowed(p)), self.gpc))
    }

    /// Whether the browser sent Global Privacy Control.
    pub fn gpc(&self) -> bool {
        self.gpc
    }

    /// Applies one event. `random` supplies 16 random bytes per call: for a new subject id and for the
    /// id of the receipt a decision gets.
    pub fn handle(
        &mut self,
        event: Event,
        now: Timestamp,
        random: impl FnMut() -> [u8; 16],
    ) -> Result<Vec<Effect>, UsageError> {
        let current = self.choices();
        // A site-wide refusal of AI training also ends every conversation's own grant.
        let refuses_ai_everywhere = matches!(&event, Event::RejectAll(_) | Event::Withdraw(None))
            || matches!(&event, Event::Withdraw(Some(id)) if id == AI_TRAINING);
        // So does a refusal of everything, or a withdrawal of their purpose, to services allowed always.
        let ends_services: Option<Option<String>> = match &event {
            Event::RejectAll(_) | Event::Withdraw(None) => Some(None),
            Event::Withdraw(Some(id)) => Some(Some(id.clone())),
            _ => None,
        };
        let (choices, method) = match event {
            Event::OpenBanner => return Ok(self.render(Ui::Banner)),
            Event::OpenPreferences => {
                if self.ui != Ui::Preferences {
                    self.opened_from = self.ui;
                }
                return Ok(self.render(Ui::Preferences));
            }
            // Closing is never a decision. The preferences dialog, opened from the first layer before
            // any answer, goes back to it (the visitor has not answered yet); anything else closes.
            Event::Close => {
                let back = self.ui == Ui::Preferences && self.opened_from == Ui::Banner && self.decision.is_none();
                return Ok(self.render(if back { Ui::Banner } else { Ui::Hidden }));
            }
            Event::AiToggle { conversation, on } => {
                let mut random = random;
                return self.toggle(conversation, on, now, &mut random);
            }
            Event::AllowService { service, on } => {
                let mut random = random;
                return self.allow_service(service, on, now, &mut random);
            }
            Event::AcceptAll(source) => {
                // GPC in an opt-in region may be set to keep its purposes out of "Accept all".
                let prefilled = self.gpc
                    && self.flow == Flow::OptIn
                    && self.config.gpc.in_opt_in_regions == GpcInOptIn::PrefillRefusal;
                let choices = current.into_iter().map(|(id, on)| {
                    let on = on || (id != AI_TRAINING && !(prefilled && self.config.gpc.purposes.contains(&id)));
                    (id, on)
                });
                (choices.collect(), source.method(Method::AcceptAll))
            }
            Event::RejectAll(source) => {
                (current.into_iter().map(|(id, _)| (id, false)).collect(), source.method(Method::RejectAll))
            }
            Event::Save(changes, source) => {
                let mut choices = current;
                for (id, on) in changes {
                    self.check_purpose(&id, " in set()")?;
                    if id == NECESSARY && !on {
                        return Err(UsageError::NecessaryRefused);
                    }
                    set(&mut choices, &id, on);
                }
                (choices, source.method(Method::PreferencesSaved))
            }
            Event::Withdraw(Some(id)) => {
                self.check_purpose(&id, " in withdraw()")?;
                if id == NECESSARY {
                    return Err(UsageError::NecessaryRefused);
                }
                let mut choices = current;
                set(&mut choices, &id, false);
                (choices, Method::Withdrawal)
            }
            Event::Withdraw(None) => (current.into_iter().map(|(id, _)| (id, false)).collect(), Method::Withdrawal),
            Event::Acknowledge => (current, Method::Acknowledged),
        };
        let mut random = random;
        let random: Random<'_> = &mut random;
        // Services first, so that the decision's cleanup covers them too.
        let ended = match ends_services {
            Some(purpose) => self.end_grants(now, random, |c| {
                c.scope.kind() == Kind::Service && purpose.as_ref().is_none_or(|p| &c.purpose == p)
            }),
            None => Vec::new(),
        };
        let mut effects = self.record(choices, method, now, random);
        let mut ended = ended;
        if refuses_ai_everywhere {
            ended.extend(self.end_grants(now, random, |c| c.scope.kind() == Kind::Conversation));
        }
        // The ended grants' receipts are queued before the cleanup, which may reload the page.
        let at = effects.iter().position(|e| matches!(e, Effect::Cleanup { .. })).unwrap_or(effects.len());
        effects.splice(at..at, ended);
        Ok(effects)
    }

    /// Ends every scoped grant that `which` picks, each with a receipt (method `withdrawal`):
    /// withdrawing site-wide is as easy as granting in any scope.
    fn end_grants(&mut self, now: Timestamp, random: Random<'_>, which: impl Fn(&ScopedChoice) -> bool) -> Vec<Effect> {
        let on: Vec<(Scope, String)> = self
            .scoped
            .iter()
            .filter(|c| c.on && self.in_force(c, now) && which(c))
            .map(|c| (c.scope.clone(), c.purpose.clone()))
            .collect();
        on.into_iter()
            .flat_map(|(scope, purpose)| self.choose(scope, purpose, false, Method::Withdrawal, now, random))
            .collect()
    }

    fn render(&mut self, ui: Ui) -> Vec<Effect> {
        self.ui = ui;
        vec![Effect::Render(ui)]
    }

    fn record(
        &mut self,
        choices: Vec<(String, bool)>,
        method: Method,
        now: Timestamp,
        random: Random<'_>,
    ) -> Vec<Effect> {
        let subject = self.subject.get_or_insert_with(|| hex(random())).clone();
        let receipt = format!("r{}", hex(random()));
        let mut granted = Vec::new();
        let mut denied = Vec::new();
        // Under legitimate interest, a first-layer answer ("Accept all", "OK", GPC applied) that leaves
        // AI training at its default has not shown the objection: it stays unanswered, so nothing is
        // trainable until the visitor sees the choice (the dialog, the API or a toggle).
        let unshown = matches!(method, Method::AcceptAll | Method::Acknowledged | Method::Gpc)
            && self.basis(AI_TRAINING) == Basis::LegitimateInterest
            && !self.decision.as_ref().is_some_and(|d| d.granted.iter().chain(&d.denied).any(|p| p == AI_TRAINING))
            // An objection that stands from a decision set aside is an answer: it is kept.
            && !self.standing.iter().any(|p| p == AI_TRAINING);
        let current_ai = self.allowed(AI_TRAINING);
        let allowed_before: Vec<String> =
            self.config.purposes.iter().filter(|p| self.allowed(&p.id)).map(|p| p.id.clone()).collect();
        for (id, on) in choices {
            if unshown && id == AI_TRAINING && on == current_ai {
                continue;
            }
            let required = self.config.purpose(&id).is_some_and(|p| p.required);
            if on || required {
                granted.push(id);
            } else {
                denied.push(id);
            }
        }
        granted.sort();
        denied.sort();
        let grants_optional = granted.iter().any(|id| id != NECESSARY);
        // Outside opt-in, refusing a purpose that runs by default is an opt-out. It must not lapse back
        // into running sooner than a grant would (California: 12 months before asking again), so it
        // keeps the longer of the two expiries.
        let opts_out =
            self.flow != Flow::OptIn && denied.iter().any(|id| self.config.purpose(id).is_some_and(|p| p.opt_out));
        let expiry = &self.config.expiry;
        let days = match (grants_optional, opts_out) {
            (true, _) => expiry.granted_days,
            (false, true) => expiry.granted_days.max(expiry.refused_days),
            (false, false) => expiry.refused_days,
        };
        let max_age = u64::from(days) * DAY;
        let decision = Decision {
            subject,
            receipt,
            notice_version: self.config.notice.version.clone(),
            decided_at: now,
            expires_at: now + max_age,
            granted,
            denied,
            config_fingerprint: self.fingerprint,
            method,
            region: self.region.as_ref().map(|r| r.as_str().to_string()),
            flow: self.flow,
            region_source: self.region_source.clone(),
            gpc: self.gpc,
            persistent_ui: self.entry_point().is_some(),
            consent_mode: String::new(),
        };
        self.decision = Some(decision);
        let stored = self.consent_mode_stored();
        let decision = self.decision.as_mut().expect("just recorded");
        decision.consent_mode = stored;
        let value = decision.encode();
        self.ui = Ui::Hidden;
        let mut effects = vec![Effect::Store { value, max_age }, Effect::Render(Ui::Hidden)];
        // Google tags hear the new state before any tag it allows runs.
        effects.extend(self.consent_mode_update().map(|u| Effect::ConsentMode(vec![u])));
        let refused: Vec<String> =
            self.config.purposes.iter().filter(|p| !self.allowed(&p.id)).map(|p| p.id.clone()).collect();
        let withdrawn = refused.iter().any(|p| allowed_before.contains(p));
        effects.extend([
            Effect::ApplyGates,
            Effect::Changed,
            Effect::Receipt(Record::Site(self.decision.clone().expect("just recorded"))),
        ]);
        let reload = withdrawn && self.config.blocking.reload_on_withdraw;
        let services = self.refused_services(now);
        if !services.is_empty() || reload {
            effects.push(Effect::Cleanup { services, reload });
        }
        effects
    }

    /// The tracker services that may not run at `now`: their purpose is refused and they are not
    /// allowed always.
    fn refused_services(&self, now: Timestamp) -> Vec<String> {
        self.trackers
            .services()
            .iter()
            .filter(|s| !self.allowed_for_service(&s.purpose, &s.name, now))
            .map(|s| s.name.clone())
            .collect()
    }

    /// The tracker database with the config's changes.
    pub fn trackers(&self) -> &Trackers {
        &self.trackers
    }

    fn toggle(
        &mut self,
        conversation: String,
        on: bool,
        now: Timestamp,
        random: Random<'_>,
    ) -> Result<Vec<Effect>, UsageError> {
        if !is_conversation_id(&conversation) {
            return Err(UsageError::BadConversation(conversation, " on <assent-ai-toggle>".into()));
        }
        self.check_purpose(AI_TRAINING, " for <assent-ai-toggle>")?;
        Ok(self.choose(Scope::Conversation(conversation), AI_TRAINING.to_string(), on, Method::AiToggle, now, random))
    }

    /// "Always allow" one tracker service, or its end. The service must be known (the tracker
    /// database with the config's changes) and its purpose configured and optional.
    fn allow_service(
        &mut self,
        service: String,
        on: bool,
        now: Timestamp,
        random: Random<'_>,
    ) -> Result<Vec<Effect>, UsageError> {
        let known = self
            .trackers
            .services()
            .iter()
            .find(|s| is_service_name(&service) && s.name.eq_ignore_ascii_case(&service));
        let Some(known) = known else {
            return Err(UsageError::UnknownService(service));
        };
        let (name, purpose) = (known.name.clone(), known.purpose.clone());
        self.check_purpose(&purpose, &format!(" for the service `{name}`"))?;
        if purpose == NECESSARY {
            return Ok(Vec::new()); // always runs: nothing to allow
        }
        // Ended in the preferences dialog's list (a withdrawal of the whole purpose ends it with
        // `withdrawal`, in `handle`).
        let method = if on { Method::Placeholder } else { Method::PreferencesSaved };
        let mut effects = self.choose(Scope::Service(name), purpose, on, method, now, random);
        effects.push(Effect::ApplyGates);
        if !on {
            let services = self.refused_services(now);
            let reload = self.config.blocking.reload_on_withdraw;
            effects.push(Effect::Cleanup { services, reload });
        }
        Ok(effects)
    }

    /// Records one scoped choice: it replaces that scope's earlier one, lasts as long as a site-wide
    /// grant or refusal would, and gets its own receipt.
    fn choose(
        &mut self,
        scope: Scope,
        purpose: String,
        on: bool,
        method: Method,
        now: Timestamp,
        random: Random<'_>,
    ) -> Vec<Effect> {
        let subject = self.subject.get_or_insert_with(|| hex(random())).clone();
        let days = if on { self.config.expiry.granted_days } else { self.config.expiry.refused_days };
        let choice = ScopedChoice {
            scope: scope.clone(),
            purpose,
            on,
            notice_version: Some(self.config.notice.version.clone()),
            subject,
            receipt: format!("r{}", hex(random())),
            decided_at: now,
            expires_at: now + u64::from(days) * DAY,
            method,
        };
        self.scoped.retain(|c| c.scope != scope);
        self.scoped.push(choice.clone());
        let forgotten = scoped::trim(&mut self.scoped);
        let mut effects = vec![Effect::StoreScoped(choice.clone()), Effect::ScopedChanged(scope)];
        // A grant this browser forgets (it keeps MAX_STORED choices of a kind) ends here, so it ends in
        // the evidence too: the gate must not honour what the browser no longer does. Its receipt comes
        // first, so that the last receipt made is the newest stored line's (what the loader checks).
        for gone in forgotten.into_iter().filter(|c| c.on && c.expires_at > now) {
            let ended = ScopedChoice {
                on: false,
                receipt: format!("r{}", hex(random())),
                decided_at: now,
                expires_at: now + u64::from(self.config.expiry.refused_days) * DAY,
                method: Method::Withdrawal,
                notice_version: Some(self.config.notice.version.clone()),
                ..gone
            };
            effects.push(Effect::Receipt(Record::Scoped(ended)));
        }
        effects.push(Effect::Receipt(Record::Scoped(choice)));
        effects
    }

    /// Restores the scoped choices of one kind that this browser stored (under
    /// [`Kind::storage_key`]). A visitor without a site-wide decision keeps the subject id those
    /// choices were made under.
    pub fn restore_scoped(&mut self, kind: Kind, stored: &str) {
        self.scoped.retain(|c| c.scope.kind() != kind);
        self.scoped.extend(scoped::decode_all(stored, kind));
        self.scoped.sort_by_key(|c| c.decided_at);
        if self.subject.is_none() {
            self.subject = self.scoped.last().map(|c| c.subject.clone());
        }
    }

    /// The scope's own choice, if it has one that has not expired at `now` and was made under this
    /// notice version (a choice stored before versions were recorded counts too).
    pub fn scoped_choice(&self, scope: &Scope, now: Timestamp) -> Option<&ScopedChoice> {
        self.scoped.iter().find(|c| &c.scope == scope && self.in_force(c, now))
    }

    /// Whether a scoped choice still counts: not expired, and made under the current notice version.
    fn in_force(&self, c: &ScopedChoice, now: Timestamp) -> bool {
        c.in_force(&self.config.notice.version, now)
    }

    /// The conversation's own AI-training choice, if it has one that has not expired at `now`.
    pub fn conversation_choice(&self, conversation: &str, now: Timestamp) -> Option<&ScopedChoice> {
        self.scoped_choice(&Scope::Conversation(conversation.to_string()), now)
    }

    /// Whether `service` (of `purpose`) may run now: its purpose is allowed, or the visitor allows
    /// that service always.
    pub fn allowed_for_service(&self, purpose: &str, service: &str, now: Timestamp) -> bool {
        self.allowed(purpose)
            || self.scoped.iter().any(|c| {
                c.on && self.in_force(c, now)
                    && c.purpose == purpose
                    && matches!(&c.scope, Scope::Service(n) if n.eq_ignore_ascii_case(service))
            })
    }

    /// The services the visitor allows always, at `now`, oldest first.
    pub fn allowed_services(&self, now: Timestamp) -> Vec<&ScopedChoice> {
        self.scoped.iter().filter(|c| c.on && self.in_force(c, now) && c.scope.kind() == Kind::Service).collect()
    }

    /// The basis `purpose` rests on for this visitor: legitimate interest where the config declares
    /// it for the visitor's region (an unknown region never matches), consent otherwise.
    pub fn basis(&self, purpose: &str) -> Basis {
        match self.config.purpose(purpose) {
            Some(p) if matches_any(&p.legitimate_interest, self.region.as_ref()) => Basis::LegitimateInterest,
            _ => Basis::Consent,
        }
    }

    /// Whether data may be used for `purpose` now, in `conversation` if given: a conversation's own
    /// `ai_training` choice wins over the site-wide one for that conversation.
    pub fn allowed_in(&self, purpose: &str, conversation: Option<&str>, now: Timestamp) -> bool {
        if purpose == AI_TRAINING {
            if let Some(c) = conversation.and_then(|c| self.conversation_choice(c, now)) {
                return self.config.purpose(purpose).is_some() && c.on;
            }
        }
        self.allowed(purpose)
    }

    /// Whether data leaving the page (in `conversation`, if given) must be kept out of AI training.
    /// Under legitimate interest, a default that nobody has answered counts only once the objection
    /// was shown: `objection_shown` says whether this conversation's toggle is on screen.
    pub fn do_not_train(&self, conversation: Option<&str>, objection_shown: bool, now: Timestamp) -> bool {
        let on = self.allowed_in(AI_TRAINING, conversation, now);
        let answered =
            self.decision.as_ref().is_some_and(|d| d.granted.iter().chain(&d.denied).any(|p| p == AI_TRAINING))
                || conversation.is_some_and(|c| self.conversation_choice(c, now).is_some());
        !(on && (answered || objection_shown))
    }

    fn check_purpose(&self, id: &str, context: &str) -> Result<(), UsageError> {
        if self.config.purpose(id).is_some() {
            return Ok(());
        }
        Err(UsageError::UnknownPurpose {
            id: id.to_string(),
            context: context.to_string(),
            known: crate::joined(&self.config.purposes.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ", "),
        })
    }

    /// Whether data may be used for `purpose` now. Unknown purposes are never allowed.
    pub fn allowed(&self, purpose: &str) -> bool {
        let Some(p) = self.config.purpose(purpose) else { return false };
        if p.required {
            return true;
        }
        match &self.decision {
            Some(d) if d.granted.iter().any(|g| g == purpose) => true,
            Some(d) if d.denied.iter().any(|g| g == purpose) => false,
            _ if self.standing.iter().any(|g| g == purpose) => false,
            // No decision, or a purpose added after it: the flow's default, the region's exemption, or
            // legitimate interest (to which GPC objects unless the config says otherwise).
            _ => {
                (self.flow != Flow::OptIn && p.opt_out)
                    || self.exempt(purpose)
                    || (self.basis(purpose) == Basis::LegitimateInterest && !(self.gpc && self.gpc_refuses(purpose)))
            }
        }
    }

    /// Every configured purpose with its current state, in config order.
    pub fn choices(&self) -> Vec<(String, bool)> {
        self.config.purposes.iter().map(|p| (p.id.clone(), self.allowed(&p.id))).collect()
    }

    /// Whether a gated element (`data-category`, and `data-service` if it names one) may run now.
    /// An unknown category is an error the site owner must fix; the element stays blocked.
    pub fn decide_element(&self, category: &str, service: Option<&str>, now: Timestamp) -> Result<bool, UsageError> {
        self.check_purpose(category, &format!(" in data-category=\"{category}\""))?;
        Ok(match service {
            Some(service) => self.allowed_for_service(category, service, now),
            None => self.allowed(category),
        })
    }

    /// Whether the region's rule exempts `purpose` from prior consent (on by default, can be refused).
    fn exempt(&self, purpose: &str) -> bool {
        self.region_source != RegionSource::Unknown
            && self
                .region
                .as_ref()
                .and_then(|r| resolve_rule(&self.config, r))
                .is_some_and(|rule| rule.exempt.iter().any(|p| p == purpose))
    }

    /// Where the region came from.
    pub fn region_source(&self) -> &RegionSource {
        &self.region_source
    }

    /// The scoped choices (conversations and services), oldest first.
    pub fn scoped(&self) -> &[ScopedChoice] {
        &self.scoped
    }

    /// The current valid decision, if the visitor has made one for this notice.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// Takes in a decision that another tab stored since this one read the cookie (`stored`, the
    /// cookie's value). A withdrawal made there must hold here before this tab stamps data or records
    /// a choice, which would otherwise grant again what was refused there. Returns what to do: nothing
    /// when the cookie holds this tab's own decision, an older one, or one that does not cover this page.
    pub fn adopt_stored(&mut self, stored: &str, now: Timestamp) -> Vec<Effect> {
        let Some(d) = Decision::decode(stored) else { return Vec::new() };
        if !d.supersedes(self.decision.as_ref(), &self.config.notice.version, self.flow, now) {
            return Vec::new();
        }
        self.subject = Some(d.subject.clone());
        self.decision = Some(d);
        let mut effects = vec![Effect::ApplyGates, Effect::Changed];
        effects.extend(self.consent_mode_update().map(|update| Effect::ConsentMode(vec![update])));
        // Answered in the other tab: this tab's banner goes too.
        if self.ui == Ui::Banner {
            effects.extend(self.render(Ui::Hidden));
        }
        effects
    }

    /// The flow in force.
    pub fn flow(&self) -> Flow {
        self.flow
    }

    /// The region in force, if known.
    pub fn region(&self) -> Option<&Region> {
        self.region.as_ref()
    }

    /// What is shown.
    pub fn ui(&self) -> Ui {
        self.ui
    }

    /// The validated config.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Source {
    fn method(self, ui_method: Method) -> Method {
        match self {
            Source::Ui => ui_method,
            Source::Api => Method::Api,
        }
    }
}

/// Sets one purpose in a choice list (ids are unique; unknown ids were rejected before).
fn set(choices: &mut [(String, bool)], id: &str, on: bool) {
    if let Some(entry) = choices.iter_mut().find(|(p, _)| p == id) {
        entry.1 = on;
    }
}

/// Resolves the visitor's region and flow: `data-region`, then the geo endpoint's answer, then the
/// timezone's country (strictest rule anywhere in it), then the strictest flow.
fn locate(config: &Config, visitor: &Visitor, effects: &mut Vec<Effect>) -> (Option<Region>, RegionSource, Flow) {
    let given = |code: &Option<String>, what: &str, effects: &mut Vec<Effect>| {
        let code = code.as_deref().map(str::trim).filter(|c| !c.is_empty())?;
        let parsed = Region::parse(code);
        // A code that names no place (`XX`) is the sender's way of saying it does not know: no warning.
        let placeholder = code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic());
        if parsed.is_none() && !placeholder {
            effects.push(Effect::Warn(format!(
                "{what} `{code}` is not an ISO 3166 code like `DE` or `US-CA`; ignoring it"
            )));
        }
        parsed
    };
    // A country alone (`US`, as a CDN's country header gives it) may be any of its subdivisions: the
    // strictest rule anywhere in it applies, as for a timezone.
    let flow_in = |region: &Region| {
        if region.as_str().len() == 2 {
            resolve_flow_somewhere_in(config, region)
        } else {
            resolve_flow(config, Some(region))
        }
    };
    let zone = visitor.timezone.as_deref().filter(|z| is_timezone(z));
    if let Some(region) = given(&visitor.region, "data-region", effects) {
        let flow = flow_in(&region);
        return (Some(region), RegionSource::Page, flow);
    }
    if let Some(region) = given(&visitor.geo, "the geo endpoint's region", effects) {
        let flow = flow_in(&region);
        // The zone it was asked from: the loader trusts the answer while the zone stays the same.
        return (Some(region), RegionSource::Geo(zone.unwrap_or_default().to_string()), flow);
    }
    let country = visitor.timezone_country.as_deref().and_then(Region::parse).filter(|r| r.as_str().len() == 2);
    if let (Some(zone), Some(region)) = (zone, country) {
        let flow = resolve_flow_somewhere_in(config, &region);
        return (Some(region), RegionSource::Timezone(zone.to_string()), flow);
    }
    if visitor.region.is_some() || visitor.geo.is_some() {
        effects.push(Effect::Warn("no usable region: using the strictest flow".into()));
    }
    // A timezone with no country (`UTC`) still identifies this context, so the loader can tell a
    // returning visit in the same one.
    let source = zone.map_or(RegionSource::Unknown, |z| RegionSource::Timezone(z.to_string()));
    (None, source, config.strictest_flow())
}
