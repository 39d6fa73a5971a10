//! The consent state machine: events in, effects out. Time and randomness are arguments.

use crate::config::Config;
use crate::conversation::{self, is_conversation_id, ConversationChoice};
use crate::decision::{hex, Decision, Method, Timestamp};
use crate::error::UsageError;
use crate::flow::Flow;
use crate::purpose::{AI_TRAINING, NECESSARY};
use crate::region::{matches_any, resolve_flow, Region};

const DAY: u64 = 86_400;

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
    /// One conversation's AI-training choice.
    Conversation(ConversationChoice),
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
    /// Write the per-conversation choices (`localStorage["assent.conversations"]`,
    /// [`conversation::encode_all`]).
    StoreConversations(String),
    /// A conversation's AI-training choice changed: update its toggles and tell the page.
    ConversationChanged(String),
}

/// One page view's consent state.
#[derive(Debug, Clone)]
pub struct Session {
    config: Config,
    fingerprint: u32,
    region: Option<Region>,
    flow: Flow,
    decision: Option<Decision>,
    subject: Option<String>,
    conversations: Vec<ConversationChoice>,
    ui: Ui,
}

impl Session {
    /// Starts a page view from the validated config, its fingerprint, the region code from the page
    /// (if any) and the stored cookie value (if any).
    pub fn start(
        config: Config,
        fingerprint: u32,
        region_code: Option<&str>,
        stored: Option<&str>,
        now: Timestamp,
    ) -> (Session, Vec<Effect>) {
        let mut effects = Vec::new();
        let region = match region_code.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(code) => {
                let parsed = Region::parse(code);
                if parsed.is_none() {
                    effects.push(Effect::Warn(format!(
                        "data-region `{code}` is not an ISO 3166 code like `DE` or `US-CA`; using the strictest flow"
                    )));
                }
                parsed
            }
        };
        let flow = resolve_flow(&config, region.as_ref());
        let stored = stored.and_then(Decision::decode);
        let subject = stored.as_ref().map(|d| d.subject.clone());
        let decision = stored.filter(|d| {
            d.expires_at > now
                && d.notice_version == config.notice.version
                // A decision made under a laxer flow (defaults pre-on) is no affirmative choice here.
                && d.flow >= flow
        });
        let mut session =
            Session { config, fingerprint, region, flow, decision, subject, conversations: Vec::new(), ui: Ui::Hidden };
        if let Some(d) = &session.decision {
            let region = session.region.as_ref().map(|r| r.as_str().to_string());
            if d.config_fingerprint != fingerprint || d.region != region || d.flow != flow {
                // Same decision, new context: refresh the stored form so the loader can act alone next time.
                let mut refreshed = d.clone();
                refreshed.config_fingerprint = fingerprint;
                refreshed.region = region;
                refreshed.flow = flow;
                effects.push(Effect::Store { value: refreshed.encode(), max_age: d.expires_at.saturating_sub(now) });
                session.decision = Some(refreshed);
            }
        } else {
            session.ui = Ui::Banner;
            effects.push(Effect::Render(Ui::Banner));
        }
        effects.push(Effect::ApplyGates);
        (session, effects)
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
        let (choices, method) = match event {
            Event::OpenBanner => return Ok(self.render(Ui::Banner)),
            Event::OpenPreferences => return Ok(self.render(Ui::Preferences)),
            Event::Close => return Ok(self.render(Ui::Hidden)),
            Event::AiToggle { conversation, on } => return self.toggle(conversation, on, now, random),
            Event::AcceptAll(source) => {
                let choices = current.into_iter().map(|(id, on)| {
                    let on = on || id != AI_TRAINING;
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
        Ok(self.record(choices, method, now, random))
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
        mut random: impl FnMut() -> [u8; 16],
    ) -> Vec<Effect> {
        let subject = self.subject.get_or_insert_with(|| hex(random())).clone();
        let receipt = format!("r{}", hex(random()));
        let mut granted = Vec::new();
        let mut denied = Vec::new();
        for (id, on) in choices {
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
        let days = if grants_optional { self.config.expiry.granted_days } else { self.config.expiry.refused_days };
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
        };
        let value = decision.encode();
        self.decision = Some(decision);
        self.ui = Ui::Hidden;
        vec![
            Effect::Store { value, max_age },
            Effect::Render(Ui::Hidden),
            Effect::ApplyGates,
            Effect::Changed,
            Effect::Receipt(Record::Site(self.decision.clone().expect("just recorded"))),
        ]
    }

    fn toggle(
        &mut self,
        conversation: String,
        on: bool,
        now: Timestamp,
        mut random: impl FnMut() -> [u8; 16],
    ) -> Result<Vec<Effect>, UsageError> {
        if !is_conversation_id(&conversation) {
            return Err(UsageError::BadConversation(conversation, " on <assent-ai-toggle>".into()));
        }
        self.check_purpose(AI_TRAINING, " for <assent-ai-toggle>")?;
        let subject = self.subject.get_or_insert_with(|| hex(random())).clone();
        let days = if on { self.config.expiry.granted_days } else { self.config.expiry.refused_days };
        let choice = ConversationChoice {
            conversation: conversation.clone(),
            on,
            subject,
            receipt: format!("r{}", hex(random())),
            decided_at: now,
            expires_at: now + u64::from(days) * DAY,
        };
        self.conversations.retain(|c| c.conversation != conversation);
        self.conversations.push(choice.clone());
        let skip = self.conversations.len().saturating_sub(conversation::MAX_STORED);
        self.conversations.drain(..skip);
        Ok(vec![
            Effect::StoreConversations(conversation::encode_all(&self.conversations)),
            Effect::ConversationChanged(conversation),
            Effect::Receipt(Record::Conversation(choice)),
        ])
    }

    /// Restores the per-conversation choices this browser stored (`localStorage["assent.conversations"]`).
    /// A visitor without a site-wide decision keeps the subject id those choices were made under.
    pub fn restore_conversations(&mut self, stored: &str) {
        self.conversations = conversation::decode_all(stored);
        if self.subject.is_none() {
            self.subject = self.conversations.last().map(|c| c.subject.clone());
        }
    }

    /// The conversation's own AI-training choice, if it has one that has not expired at `now`.
    pub fn conversation_choice(&self, conversation: &str, now: Timestamp) -> Option<&ConversationChoice> {
        self.conversations.iter().find(|c| c.conversation == conversation && c.expires_at > now)
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
        let answered = self.decision.is_some() || conversation.is_some_and(|c| self.conversation_choice(c, now).is_some());
        !(on && (answered || objection_shown))
    }

    fn check_purpose(&self, id: &str, context: &str) -> Result<(), UsageError> {
        if self.config.purpose(id).is_some() {
            return Ok(());
        }
        Err(UsageError::UnknownPurpose {
            id: id.to_string(),
            context: context.to_string(),
            known: self.config.purposes.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "),
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
            // No decision, or a purpose added after it: the flow's default, or legitimate interest.
            _ => (self.flow != Flow::OptIn && p.opt_out) || self.basis(purpose) == Basis::LegitimateInterest,
        }
    }

    /// Every configured purpose with its current state, in config order.
    pub fn choices(&self) -> Vec<(String, bool)> {
        self.config.purposes.iter().map(|p| (p.id.clone(), self.allowed(&p.id))).collect()
    }

    /// Whether a gated element (`data-category`) may run now. An unknown category is an error the
    /// site owner must fix; the element stays blocked.
    pub fn decide_element(&self, category: &str) -> Result<bool, UsageError> {
        self.check_purpose(category, &format!(" in data-category=\"{category}\""))?;
        Ok(self.allowed(category))
    }

    /// The per-conversation choices, oldest first.
    pub fn conversations(&self) -> &[ConversationChoice] {
        &self.conversations
    }

    /// The current valid decision, if the visitor has made one for this notice.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
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
