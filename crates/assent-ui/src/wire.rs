//! Props and intents between the client and the preferences module. They are two wasm modules with
//! separate memories, so what one hands the other crosses JavaScript as JSON text, written and read
//! with the core's JSON (no serde in the bundle). Both sides use these functions, so the format has
//! one definition; `tests::props_and_intents_survive_the_trip` holds it to a round trip.

use std::rc::Rc;

use assent_core::gpp::{UsSection, UsSignal};
use assent_core::json::Json;

use crate::{
    AllowedService, Intent, Layer, Legal, PlaceholderProps, Position, Props, PurposeItem, Scheme, Texts, ToggleProps,
};

/// The version of this format. The two modules come from one build and one folder; a page that mixes
/// builds (a stale cache) gets a clear error instead of a misread prop.
pub const WIRE_VERSION: u32 = 1;

fn string(s: &str) -> Json {
    Json::String(s.to_string())
}

fn optional(s: &Option<String>) -> Json {
    s.as_deref().map_or(Json::Null, string)
}

fn strings(list: &[String]) -> Json {
    Json::Array(list.iter().map(|s| string(s)).collect())
}

fn object(members: Vec<(&str, Json)>) -> Json {
    Json::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn legal(l: &Option<Legal>) -> Json {
    l.as_ref().map_or(Json::Null, |l| Json::Array(vec![string(&l.text), optional(&l.lang), optional(&l.translation)]))
}

/// The members of a JSON object, read by name.
struct Members<'a>(&'a [(String, Json)]);

impl<'a> Members<'a> {
    fn of(json: &'a Json) -> Option<Members<'a>> {
        json.as_object().map(Members)
    }

    fn get(&self, key: &str) -> Option<&'a Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn string(&self, key: &str) -> Option<String> {
        as_string(self.get(key)?)
    }

    fn optional(&self, key: &str) -> Option<Option<String>> {
        match self.get(key)? {
            Json::Null => Some(None),
            other => as_string(other).map(Some),
        }
    }

    fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    fn list<T>(&self, key: &str, item: impl Fn(&'a Json) -> Option<T>) -> Option<Vec<T>> {
        match self.get(key)? {
            Json::Array(items) => items.iter().map(item).collect(),
            _ => None,
        }
    }

    fn legal(&self, key: &str) -> Option<Option<Legal>> {
        match self.get(key)? {
            Json::Null => Some(None),
            Json::Array(parts) => match parts.as_slice() {
                [text, lang, translation] => Some(Some(Legal {
                    text: as_string(text)?,
                    lang: as_optional(lang)?,
                    translation: as_optional(translation)?,
                })),
                _ => None,
            },
            _ => None,
        }
    }
}

fn as_string(json: &Json) -> Option<String> {
    match json {
        Json::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn as_optional(json: &Json) -> Option<Option<String>> {
    match json {
        Json::Null => Some(None),
        other => as_string(other).map(Some),
    }
}

fn pair(json: &Json) -> Option<(String, Json)> {
    match json {
        Json::Array(items) => match items.as_slice() {
            [Json::String(k), v] => Some((k.clone(), v.clone())),
            _ => None,
        },
        _ => None,
    }
}

/// Props as JSON text.
pub fn props_to_wire(p: &Props) -> String {
    let purposes = p
        .purposes
        .iter()
        .map(|item| {
            object(vec![
                ("id", string(&item.id)),
                ("name", string(&item.name)),
                ("description", string(&item.description)),
                ("required", Json::Bool(item.required)),
                ("separate", Json::Bool(item.separate)),
                ("services", strings(&item.services)),
                ("dataCategories", strings(&item.data_categories)),
                ("retention", optional(&item.retention)),
                ("on", Json::Bool(item.on)),
            ])
        })
        .collect();
    let texts = p.texts.0.iter().map(|(k, v)| Json::Array(vec![string(k), string(v)])).collect();
    let allowed = p.allowed_services.iter().map(|s| Json::Array(vec![string(&s.name), string(&s.purpose)])).collect();
    object(vec![
        (
            "layer",
            string(match p.layer {
                Layer::OptIn => "optIn",
                Layer::OptOut => "optOut",
                Layer::Notice => "notice",
            }),
        ),
        ("texts", Json::Array(texts)),
        ("lang", string(&p.lang)),
        ("controller", string(&p.controller)),
        ("noticeUrl", optional(&p.notice_url)),
        ("purposes", Json::Array(purposes)),
        ("status", legal(&p.status)),
        ("entryLabel", legal(&p.entry_label)),
        ("rtl", Json::Bool(p.rtl)),
        ("scheme", string(p.scheme.as_str())),
        ("position", string(p.position.as_str())),
        ("allowedServices", Json::Array(allowed)),
    ])
    .canonical()
}

/// Props from [`props_to_wire`]'s text; `None` if it is not that.
pub fn props_from_wire(text: &str) -> Option<Props> {
    let json = Json::parse(text).ok()?;
    let m = Members::of(&json)?;
    let purposes = m.list("purposes", |item| {
        let p = Members::of(item)?;
        Some(PurposeItem {
            id: p.string("id")?,
            name: p.string("name")?,
            description: p.string("description")?,
            required: p.bool("required")?,
            separate: p.bool("separate")?,
            services: p.list("services", as_string)?,
            data_categories: p.list("dataCategories", as_string)?,
            retention: p.optional("retention")?,
            on: p.bool("on")?,
        })
    })?;
    Some(Props {
        layer: match m.string("layer")?.as_str() {
            "optIn" => Layer::OptIn,
            "optOut" => Layer::OptOut,
            _ => Layer::Notice,
        },
        texts: Rc::new(Texts(m.list("texts", |t| pair(t).and_then(|(k, v)| Some((k, as_string(&v)?))))?)),
        lang: m.string("lang")?,
        controller: m.string("controller")?,
        notice_url: m.optional("noticeUrl")?,
        purposes,
        status: m.legal("status")?,
        entry_label: m.legal("entryLabel")?,
        rtl: m.bool("rtl")?,
        scheme: scheme(&m.string("scheme")?),
        position: match m.string("position")?.as_str() {
            "box" => Position::Box,
            "modal" => Position::Modal,
            _ => Position::Bar,
        },
        allowed_services: m.list("allowedServices", |s| match s {
            Json::Array(parts) => match parts.as_slice() {
                [name, purpose] => Some(AllowedService { name: as_string(name)?, purpose: as_string(purpose)? }),
                _ => None,
            },
            _ => None,
        })?,
    })
}

fn scheme(name: &str) -> Scheme {
    match name {
        "light" => Scheme::Light,
        "dark" => Scheme::Dark,
        _ => Scheme::Auto,
    }
}

/// The AI toggle's props as JSON text.
pub fn toggle_to_wire(p: &ToggleProps) -> String {
    object(vec![
        ("label", string(&p.label)),
        ("description", string(&p.description)),
        ("learnMore", string(&p.learn_more)),
        ("noticeUrl", optional(&p.notice_url)),
        ("lang", string(&p.lang)),
        ("rtl", Json::Bool(p.rtl)),
        ("scheme", string(p.scheme.as_str())),
    ])
    .canonical()
}

/// The AI toggle's props from [`toggle_to_wire`]'s text.
pub fn toggle_from_wire(text: &str) -> Option<ToggleProps> {
    let json = Json::parse(text).ok()?;
    let m = Members::of(&json)?;
    Some(ToggleProps {
        label: m.string("label")?,
        description: m.string("description")?,
        learn_more: m.string("learnMore")?,
        notice_url: m.optional("noticeUrl")?,
        lang: m.string("lang")?,
        rtl: m.bool("rtl")?,
        scheme: scheme(&m.string("scheme")?),
    })
}

/// An intent as JSON text: `["accept"]`, `["save", [["analytics", true], …]]`, `["stop", "YouTube"]`.
pub fn intent_to_wire(intent: &Intent) -> String {
    let tag = |name: &str| vec![string(name)];
    let parts = match intent {
        Intent::AcceptAll => tag("accept"),
        Intent::RejectAll => tag("reject"),
        Intent::Save(choices) => {
            let choices = choices.iter().map(|(id, on)| Json::Array(vec![string(id), Json::Bool(*on)])).collect();
            vec![string("save"), Json::Array(choices)]
        }
        Intent::Acknowledge => tag("ack"),
        Intent::OpenPreferences => tag("prefs"),
        Intent::Close => tag("close"),
        Intent::StopService(name) => vec![string("stop"), string(name)],
    };
    Json::Array(parts).canonical()
}

/// An intent from [`intent_to_wire`]'s text.
pub fn intent_from_wire(text: &str) -> Option<Intent> {
    let json = Json::parse(text).ok()?;
    let Json::Array(parts) = json else { return None };
    match parts.as_slice() {
        [Json::String(tag)] => match tag.as_str() {
            "accept" => Some(Intent::AcceptAll),
            "reject" => Some(Intent::RejectAll),
            "ack" => Some(Intent::Acknowledge),
            "prefs" => Some(Intent::OpenPreferences),
            "close" => Some(Intent::Close),
            _ => None,
        },
        [Json::String(tag), Json::Array(choices)] if tag == "save" => {
            let choices = choices.iter().map(|c| match pair(c)? {
                (id, Json::Bool(on)) => Some((id, on)),
                _ => None,
            });
            choices.collect::<Option<Vec<_>>>().map(Intent::Save)
        }
        [Json::String(tag), Json::String(name)] if tag == "stop" => Some(Intent::StopService(name.clone())),
        _ => None,
    }
}

/// A blocked embed's placeholder props as JSON text.
pub fn placeholder_to_wire(p: &PlaceholderProps) -> String {
    object(vec![
        ("lang", string(&p.lang)),
        ("rtl", Json::Bool(p.rtl)),
        ("message", string(&p.message)),
        ("title", string(&p.title)),
        ("load", string(&p.load)),
        ("always", string(&p.always)),
        ("note", string(&p.note)),
    ])
    .canonical()
}

/// A blocked embed's placeholder props from [`placeholder_to_wire`]'s text.
pub fn placeholder_from_wire(text: &str) -> Option<PlaceholderProps> {
    let json = Json::parse(text).ok()?;
    let m = Members::of(&json)?;
    Some(PlaceholderProps {
        lang: m.string("lang")?,
        rtl: m.bool("rtl")?,
        message: m.string("message")?,
        title: m.string("title")?,
        load: m.string("load")?,
        always: m.string("always")?,
        note: m.string("note")?,
    })
}

/// What the GPP handler answers from: the inputs of the visitor's US section `(opted out, GPC)` where
/// one applies (`Session::gpp_opt_out`), the resolved region (which section: `UsSection::for_region`),
/// and whether a banner or dialog is on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GppState {
    /// `(opted out, GPC)`, or `None` where no US section applies.
    pub us: Option<(bool, bool)>,
    /// The visitor's resolved region (`US-CA`), empty when unknown.
    pub region: String,
    /// A banner or dialog is on screen (`cmpDisplayStatus`).
    pub shown: bool,
}

impl GppState {
    /// The visitor's section, where one applies.
    pub fn section(&self) -> Option<UsSignal> {
        let (opted_out, gpc) = self.us?;
        Some(UsSignal { section: UsSection::for_region(&self.region), opted_out, gpc })
    }
}

/// The GPP state as JSON text: `[shown, [optedOut, gpc] | null, region]`.
pub fn gpp_to_wire(state: &GppState) -> String {
    let us = state.us.map_or(Json::Null, |(o, g)| Json::Array(vec![Json::Bool(o), Json::Bool(g)]));
    Json::Array(vec![Json::Bool(state.shown), us, Json::String(state.region.clone())]).canonical()
}

/// The GPP state from [`gpp_to_wire`]'s text.
pub fn gpp_from_wire(text: &str) -> Option<GppState> {
    let Json::Array(parts) = Json::parse(text).ok()? else { return None };
    let [Json::Bool(shown), us, Json::String(region)] = parts.as_slice() else { return None };
    let us = match us {
        Json::Null => None,
        Json::Array(us) => match us.as_slice() {
            [Json::Bool(o), Json::Bool(g)] => Some((*o, *g)),
            _ => return None,
        },
        _ => return None,
    };
    Some(GppState { us, region: region.clone(), shown: *shown })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn props_and_intents_survive_the_trip() {
        let props = Props {
            layer: Layer::OptOut,
            texts: Rc::new(Texts(vec![("banner.title".into(), "Vos \"choix\"\n".into()), ("a".into(), "b".into())])),
            lang: "fr".into(),
            controller: "Acme <SA>".into(),
            notice_url: Some("/privacy?x=1&y=2".into()),
            purposes: vec![PurposeItem {
                id: "analytics".into(),
                name: "Mesure".into(),
                description: "d".into(),
                required: false,
                separate: true,
                services: vec!["Matomo".into()],
                data_categories: vec![],
                retention: None,
                on: true,
            }],
            status: Some(Legal {
                text: "Opt-Out Request Honored".into(),
                lang: Some("en".into()),
                translation: Some("t".into()),
            }),
            entry_label: None,
            rtl: true,
            scheme: Scheme::Dark,
            position: Position::Modal,
            allowed_services: vec![AllowedService { name: "YouTube".into(), purpose: "Marketing".into() }],
        };
        assert_eq!(props_from_wire(&props_to_wire(&props)), Some(props));
        let toggle = ToggleProps {
            label: "l".into(),
            description: "d".into(),
            learn_more: "m".into(),
            notice_url: None,
            lang: "ar".into(),
            rtl: true,
            scheme: Scheme::Light,
        };
        assert_eq!(toggle_from_wire(&toggle_to_wire(&toggle)), Some(toggle));
        let placeholder = PlaceholderProps {
            lang: "he".into(),
            rtl: true,
            message: "<b>".into(),
            title: "t".into(),
            load: "l".into(),
            always: String::new(),
            note: "n".into(),
        };
        assert_eq!(placeholder_from_wire(&placeholder_to_wire(&placeholder)), Some(placeholder));
        let intents = [
            Intent::AcceptAll,
            Intent::RejectAll,
            Intent::Save(vec![("analytics".into(), true), ("ai_training".into(), false)]),
            Intent::Acknowledge,
            Intent::OpenPreferences,
            Intent::Close,
            Intent::StopService("You\"Tube".into()),
        ];
        for intent in intents {
            assert_eq!(intent_from_wire(&intent_to_wire(&intent)), Some(intent));
        }
        assert_eq!(intent_from_wire("[\"grant\"]"), None);
        for state in [
            GppState { us: None, region: String::new(), shown: true },
            GppState { us: Some((true, false)), region: "US-CA".into(), shown: false },
            GppState { us: Some((false, true)), region: "US-CT".into(), shown: true },
        ] {
            assert_eq!(gpp_from_wire(&gpp_to_wire(&state)), Some(state.clone()));
        }
        assert_eq!(props_from_wire("{}"), None);
    }
}
