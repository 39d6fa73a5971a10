//! The TCF views, from the GVL: the block in the first layer and in the preferences dialog (the
//! purposes or stacks, the special features, how many partners, that some rely on legitimate interest),
//! and the vendor and purpose layers it opens. Special purposes and features are explained, with no
//! toggle (Policy v5.0.b); purposes, special features, partners and Google's ad-tech providers each
//! have a switch, and legitimate interest a way to object, per purpose and per partner.

use std::cell::RefCell;
use std::rc::Rc;

use assent_core::tcf::{self, Choices, Entry, Gvl, Ids, TcfConfig};
use assent_ui::Texts;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent, ShadowRoot};

const STYLES: &str = ".tcf{margin-top:12px;border-top:1px solid var(--line);padding-top:8px}\
.tcf h3{margin:4px 0}.tcf ul{margin:4px 0;padding-inline-start:20px}\
.tcf-dialog details{margin:4px 0}.tcf-dialog summary{cursor:pointer;display:list-item}\
.tcf-dialog .basis{display:flex;justify-content:space-between;align-items:center;gap:12px;font-weight:400;margin-top:6px}\
.tcf-dialog .no-choice{color:var(--muted);font-size:.9em}";

/// Picks stacks for the first layer: each covers only purposes and special features in use, and
/// together they name as many of them as they can; what is left is named one by one.
fn first_layer_lines(gvl: &Gvl, purposes: &Ids, special: &Ids) -> Vec<String> {
    let mut left_p = purposes.clone();
    let mut left_s = special.clone();
    let mut lines = Vec::new();
    loop {
        let best = gvl
            .stacks
            .iter()
            .filter(|s| {
                s.purposes.iter().all(|p| purposes.contains(*p))
                    && s.special_features.iter().all(|f| special.contains(*f))
            })
            .map(|s| {
                let covers = s.purposes.iter().filter(|p| left_p.contains(**p)).count()
                    + s.special_features.iter().filter(|f| left_s.contains(**f)).count();
                (covers, s)
            })
            .filter(|(covers, _)| *covers >= 2)
            .max_by_key(|(covers, s)| (*covers, std::cmp::Reverse(s.id)));
        let Some((_, stack)) = best else { break };
        for p in &stack.purposes {
            left_p.remove(*p);
        }
        for f in &stack.special_features {
            left_s.remove(*f);
        }
        lines.push(stack.name.trim().to_string());
    }
    let named = |entries: &[Entry], ids: &Ids| -> Vec<String> {
        entries.iter().filter(|e| ids.contains(e.id)).map(|e| e.name.trim().to_string()).collect()
    };
    lines.extend(named(&gvl.purposes, &left_p));
    lines.extend(named(&gvl.special_features, &left_s));
    lines
}

/// Mounts the block under `parent`; what it returns keeps it (and an open layer) on screen.
pub(crate) fn block(
    root: &ShadowRoot,
    parent: HtmlElement,
    (config, gvl): (TcfConfig, Gvl),
    t: Rc<Texts>,
) -> Option<impl Drop> {
    let _ = assent_prefs::style_once(root, assent_ui::DIALOG_STYLES);
    let _ = assent_prefs::style_once(root, STYLES);
    let container: HtmlElement = root.query_selector(".root").ok().flatten()?.dyn_into().ok()?;
    let scope = tcf::scope(&config, &gvl);
    let all: Ids = scope.consent_purposes.iter().chain(scope.li_purposes.iter()).collect();
    let lines = first_layer_lines(&gvl, &all, &scope.special_features);
    let count = tcf::disclosed(&config, &gvl).len() + config.google_atps.len();
    let layers: Rc<RefCell<Option<Box<dyn std::any::Any>>>> = Rc::default();
    let open = {
        let layers = layers.clone();
        let t = t.clone();
        move |ev: web_sys::MouseEvent| {
            let opener: Option<HtmlElement> = ev.current_target().and_then(|t| t.dyn_into().ok());
            let close = {
                let layers = layers.clone();
                Rc::new(move || {
                    // Leave the layer's own handler before it is unmounted.
                    let layers = layers.clone();
                    let opener = opener.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        layers.borrow_mut().take();
                        if let Some(o) = opener {
                            let _ = o.focus();
                        }
                    });
                }) as Rc<dyn Fn()>
            };
            let (config, gvl, t) = (config.clone(), gvl.clone(), t.clone());
            let handle = mount_to(container.clone(), move || view! { <Layers config=config gvl=gvl close=close t=t/> });
            *layers.borrow_mut() = Some(Box::new(handle));
            // A modal dialog takes focus (its title is read first); closing it gives focus back.
            if let Some(dialog) = container.query_selector(".tcf-dialog .dialog").ok().flatten() {
                let _ = dialog.unchecked_into::<HtmlElement>().focus();
            }
        }
    };
    let handle = mount_to(parent, move || {
        view! {
            <section class="tcf" aria-labelledby="assent-tcf-title">
                <h3 id="assent-tcf-title">{t.get("tcf.title")}</h3>
                <p>{t.fill("tcf.intro", &[("count", &count.to_string()), ("layers", &t.get("tcf.layers"))])}</p>
                <ul class="tcf-purposes">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                <button type="button" class="btn btn-small" data-key="tcf-partners" on:click=open>{t.get("tcf.layers")}</button>
            </section>
        }
    });
    Some(Kept { _block: handle, _layers: layers })
}

struct Kept<H> {
    _block: H,
    _layers: Rc<RefCell<Option<Box<dyn std::any::Any>>>>,
}

impl<H> Drop for Kept<H> {
    fn drop(&mut self) {
        self._layers.borrow_mut().take();
        crate::hidden();
    }
}

/// A switch with a visible label.
/// A switch with a visible label; its accessible name says what it is about too (`of`: the purpose's
/// or the partner's name).
fn switch(label: String, of: &str, on: Signal<bool>, flip: impl Fn() + 'static, key: String) -> impl IntoView {
    let name = format!("{label}: {}", of.trim());
    view! {
        <span class="basis">
            <span aria-hidden="true">{label}</span>
            <button type="button" class="switch" role="switch" aria-label=name data-tcf=key
                aria-checked=move || on.get().to_string() on:click=move |_| flip()>
                <span class="knob" aria-hidden={"true"}></span>
            </button>
        </span>
    }
}

fn toggle(state: RwSignal<Choices>, field: fn(&mut Choices) -> &mut Ids, id: u32) -> impl Fn() + 'static {
    move || state.update(|c| field(c).toggle(id))
}

fn explained(t: &Texts, e: &Entry) -> impl IntoView {
    let illustrations = e.illustrations.clone();
    view! {
        <p class="purpose-desc">{e.description.trim().to_string()}</p>
        {(!illustrations.is_empty()).then(|| view! {
            <details><summary>{t.get("tcf.examples")}</summary>
                <ul>{illustrations.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
            </details>
        })}
    }
}

fn names(entries: &[Entry], ids: &[u32]) -> String {
    assent_core::joined(
        &entries.iter().filter(|e| ids.contains(&e.id)).map(|e| e.name.trim()).collect::<Vec<_>>(),
        ", ",
    )
}

/// The vendor and purpose layers: a modal dialog over the first layer.
#[component]
fn Layers(config: TcfConfig, gvl: Gvl, close: Rc<dyn Fn()>, t: Rc<Texts>) -> impl IntoView {
    let today = tcf::day_of(js_sys::Date::now());
    let before = crate::current_choices();
    let start = before.clone().unwrap_or_else(|| Choices::blank(&config, &gvl, today, None));
    let state = RwSignal::new(start);
    let scope = tcf::scope(&config, &gvl);
    let vendors: Vec<tcf::Vendor> = tcf::disclosed(&config, &gvl).into_iter().cloned().collect();
    let finish = {
        let close = close.clone();
        let before = before.clone();
        let (config, gvl) = (config.clone(), gvl.clone());
        move |how: &'static str| {
            let mut c = match how {
                "acceptAll" => Choices::accept_all(&config, &gvl, today, before.as_ref()),
                "rejectAll" => Choices::reject_all(&config, &gvl, today, before.as_ref()),
                _ => Choices { ..state.get_untracked() },
            };
            c.created = before.as_ref().map_or(today, |b| b.created);
            c.updated = today;
            c.language = gvl.language.clone();
            crate::record(c);
            close();
        }
    };
    let on_key = {
        let close = close.clone();
        move |ev: KeyboardEvent| match ev.key().as_str() {
            "Escape" => {
                ev.stop_propagation();
                close();
            }
            "Tab" => assent_ui::trap_tab(&ev),
            _ => {}
        }
    };
    let purposes = gvl
        .purposes
        .iter()
        .filter(|p| scope.consent_purposes.contains(p.id) || scope.li_purposes.contains(p.id))
        .map(|p| {
            let id = p.id;
            let consent = scope.consent_purposes.contains(id).then(|| {
                switch(
                    t.get("tcf.consent"),
                    &p.name,
                    Signal::derive(move || state.with(|c| c.purposes.contains(id))),
                    toggle(state, |c| &mut c.purposes, id),
                    format!("purpose-{id}"),
                )
            });
            let li = scope.li_purposes.contains(id).then(|| {
                switch(
                    t.get("tcf.object"),
                    &p.name,
                    Signal::derive(move || state.with(|c| !c.purpose_objections.contains(id))),
                    toggle(state, |c| &mut c.purpose_objections, id),
                    format!("purpose-li-{id}"),
                )
            });
            view! { <li class="purpose"><div class="purpose-head">{p.name.trim().to_string()}</div>{explained(&t, p)}{consent}{li}</li> }
        })
        .collect_view();
    let special_features = gvl
        .special_features
        .iter()
        .filter(|f| scope.special_features.contains(f.id))
        .map(|f| {
            let id = f.id;
            view! {
                <li class="purpose"><div class="purpose-head">{f.name.trim().to_string()}</div>{explained(&t, f)}
                {switch(t.get("tcf.optIn"), &f.name, Signal::derive(move || state.with(|c| c.special_features.contains(id))),
                    toggle(state, |c| &mut c.special_features, id), format!("special-feature-{id}"))}</li>
            }
        })
        .collect_view();
    let no_choice = |entries: &[Entry], ids: &Ids| {
        entries
            .iter()
            .filter(|e| ids.contains(e.id))
            .map(|e| {
                view! {
                    <li class="purpose"><div class="purpose-head">{e.name.trim().to_string()}
                    <span class="no-choice">{t.get("tcf.alwaysApplies")}</span></div>{explained(&t, e)}</li>
                }
            })
            .collect_view()
    };
    let special_purposes = no_choice(&gvl.special_purposes, &scope.special_purposes);
    let features = no_choice(&gvl.features, &scope.features);
    let partners = vendors
        .into_iter()
        .map(|v| {
            let id = v.id;
            // What the vendor may do here, once the site's publisher restrictions apply.
            let (on_consent, on_li) = tcf::bases(&config, &v);
            let consent = (!on_consent.is_empty()).then(|| {
                switch(
                    t.get("tcf.consent"),
                    &v.name,
                    Signal::derive(move || state.with(|c| c.vendors.contains(id))),
                    toggle(state, |c| &mut c.vendors, id),
                    format!("vendor-{id}"),
                )
            });
            let li = (!on_li.is_empty()).then(|| {
                switch(
                    t.get("tcf.object"),
                    &v.name,
                    Signal::derive(move || state.with(|c| !c.vendor_objections.contains(id))),
                    toggle(state, |c| &mut c.vendor_objections, id),
                    format!("vendor-li-{id}"),
                )
            });
            let mut details = Vec::new();
            for (label, text) in [
                ("tcf.consentPurposes", names(&gvl.purposes, &on_consent.iter().collect::<Vec<_>>())),
                ("tcf.liPurposes", names(&gvl.purposes, &on_li.iter().collect::<Vec<_>>())),
                ("tcf.specialPurposes", names(&gvl.special_purposes, &v.special_purposes)),
                ("tcf.features", names(&gvl.features, &v.features)),
                ("tcf.specialFeatures", names(&gvl.special_features, &v.special_features)),
                ("tcf.data", names(&gvl.data_categories, &v.data)),
            ] {
                if !text.is_empty() {
                    details.push(format!("{}: {text}", t.get(label)));
                }
            }
            details.push(match v.cookie_max_age {
                Some(s) if s > 0 => t.fill("tcf.cookieDays", &[("days", &((s + 86_399) / 86_400).to_string())]),
                Some(_) => t.get("tcf.cookieSession"),
                None => t.get("tcf.cookieUnknown"),
            });
            if v.non_cookie_access {
                details.push(t.get("tcf.nonCookie"));
            }
            let li_claim = (!v.legitimate_interest_url.is_empty()).then(|| {
                view! { " · " <a href=v.legitimate_interest_url.clone() target="_blank" rel="noopener">{t.get("tcf.liClaim")}</a> }
            });
            view! {
                <li class="purpose" data-vendor=id>
                    <details><summary class="purpose-head">{v.name.clone()}</summary>
                        {details.into_iter().map(|d| view! { <p class="purpose-details">{d}</p> }).collect_view()}
                        <p class="purpose-details"><a href=v.privacy_url.clone() target="_blank" rel="noopener">{t.get("tcf.privacyPolicy")}</a>{li_claim}</p>
                    </details>
                    {consent}{li}
                </li>
            }
        })
        .collect_view();
    let atps = config
        .google_atps
        .iter()
        .map(|a| {
            let id = a.id;
            view! {
                <li class="purpose"><div class="purpose-head">{a.name.clone()}</div>
                <p class="purpose-details"><a href=a.privacy_url.clone() target="_blank" rel="noopener">{t.get("tcf.privacyPolicy")}</a></p>
                {switch(t.get("tcf.consent"), &a.name, Signal::derive(move || state.with(|c| c.atps.contains(id))),
                    toggle(state, |c| &mut c.atps, id), format!("atp-{id}"))}</li>
            }
        })
        .collect_view();
    let has_atps = !config.google_atps.is_empty();
    let (f1, f2, f3) = (finish.clone(), finish.clone(), finish);
    let close_button = close.clone();
    view! {
        <div class="backdrop tcf-dialog">
            <section class="dialog" role="dialog" aria-modal="true" aria-labelledby="assent-tcf-layers" tabindex="-1"
                data-autofocus="" on:keydown=on_key>
                <div class="head">
                    <h2 id="assent-tcf-layers">{t.get("tcf.layers")}</h2>
                    <button type="button" class="close" aria-label=t.get("tcf.close") on:click=move |_| close_button()>"×"</button>
                </div>
                <div class="body">
                    <p>{t.fill("tcf.layersIntro", &[("legitimateInterest", &t.get("tcf.legitimateInterest"))])}</p>
                    <h3>{t.get("tcf.purposes")}</h3><ul class="purposes">{purposes}</ul>
                    <h3>{t.get("tcf.specialFeatures")}</h3><ul class="purposes">{special_features}</ul>
                    <h3>{t.get("tcf.specialPurposes")}</h3><ul class="purposes">{special_purposes}</ul>
                    <h3>{t.get("tcf.features")}</h3><ul class="purposes">{features}</ul>
                    <h3>{t.get("tcf.partners")}</h3><ul class="purposes">{partners}</ul>
                    {has_atps.then(|| view! { <h3>{t.get("tcf.googleAtps")}</h3><ul class="purposes">{atps}</ul> })}
                </div>
                <div class="foot actions">
                    <button type="button" class="btn" data-key="tcf-reject" on:click=move |_| f1("rejectAll")>{t.get("tcf.rejectAll")}</button>
                    <button type="button" class="btn" data-key="tcf-accept" on:click=move |_| f2("acceptAll")>{t.get("tcf.acceptAll")}</button>
                    <button type="button" class="btn" data-key="tcf-save" on:click=move |_| f3("save")>{t.get("tcf.save")}</button>
                </div>
            </section>
        </div>
    }
}
