//! The tracker database: URL classification, the config's changes, the loader's compact table, and
//! what a withdrawal removes.

use assent_core::config::Blocking;
use assent_core::trackers::{database, host_and_path, loader_table, Trackers};
use assent_core::Config;

fn config(blocking: &str) -> Config {
    Config::parse(&format!(
        r#"{{"notice":{{"version":"1"}},"controller":"Acme","purposes":[{{"id":"necessary","required":true}},{{"id":"analytics"}},{{"id":"marketing"}},{{"id":"replay"}},{{"id":"preferences"}}],"blocking":{blocking}}}"#
    ))
    .unwrap()
}

fn classify(t: &Trackers, url: &str) -> Option<(String, String)> {
    t.classify(url).map(|s| (s.name.clone(), s.purpose.clone()))
}

#[test]
fn urls_are_classified_by_host_suffix_and_path_prefix() {
    let t = Trackers::new(&Blocking::default());
    let table = [
        ("https://www.googletagmanager.com/gtag/js?id=G-X", Some(("Google Analytics", "analytics"))),
        ("https://www.googletagmanager.com/gtm.js?id=GTM-X", Some(("Google Tag Manager", "analytics"))),
        ("https://region1.google-analytics.com/g/collect?v=2", Some(("Google Analytics", "analytics"))),
        ("https://connect.facebook.net/en_US/fbevents.js", Some(("Meta Pixel", "marketing"))),
        ("https://www.facebook.com/tr?id=1&ev=PageView", Some(("Meta Pixel", "marketing"))),
        ("https://static.hotjar.com/c/hotjar-1.js?sv=6", Some(("Hotjar", "replay"))),
        ("https://www.clarity.ms/tag/abc", Some(("Microsoft Clarity", "replay"))),
        // LogRocket's current snippet host, and Google Ads' conversion and remarketing paths.
        ("https://cdn.lgrckt-in.com/LogRocket.min.js", Some(("LogRocket", "replay"))),
        ("https://www.google.com/rmkt/collect/1/?random=2", Some(("Google Ads", "marketing"))),
        ("https://www.google.com/ccm/collect?en=conversion", Some(("Google Ads", "marketing"))),
        // Google's country domains serve the same paths (GA's audience pings go to them).
        ("https://www.google.de/ads/ga-audiences?v=1&t=sr", Some(("Google Ads", "marketing"))),
        ("https://www.google.co.uk/maps/embed?pb=1", Some(("Google Maps", "preferences"))),
        ("https://google.com.br/pagead/1p-user-list/1/", Some(("Google Ads", "marketing"))),
        ("https://www.notgoogle.de/ads/x", None),
        ("https://www.google.de/search?q=ads", None),
        ("https://www.youtube-nocookie.com/embed/xyz", Some(("YouTube", "marketing"))),
        ("https://www.google.com/maps/embed?pb=1", Some(("Google Maps", "preferences"))),
        ("wss://r.lr-ingest.io/socket", Some(("LogRocket", "replay"))),
        ("https://user:pw@CDN.Segment.COM:443/analytics.js", Some(("Segment", "analytics"))),
        // Not trackers: a look-alike host, another path on a shared host, other schemes.
        ("https://notgoogle-analytics.com/x.js", None),
        ("https://www.facebook.com/acme", None),
        ("https://www.google.com/search?q=maps", None),
        ("data:text/javascript,1", None),
        ("/relative/script.js", None),
    ];
    for (url, want) in table {
        assert_eq!(classify(&t, url), want.map(|(n, p)| (n.to_string(), p.to_string())), "{url}");
    }
}

#[test]
fn config_recategorises_adds_and_allow_lists() {
    let c = config(
        r#"{"services":[{"name":"youtube","purpose":"preferences"},{"name":"Acme Stats","purpose":"analytics","match":["acme-stats.test/collect"],"cookies":["_as_*"]}],"allow":["www.googletagmanager.com/gtm.js"]}"#,
    );
    let t = Trackers::new(&c.blocking);
    assert_eq!(classify(&t, "https://www.youtube.com/embed/x"), Some(("YouTube".into(), "preferences".into())));
    assert_eq!(classify(&t, "https://eu.acme-stats.test/collect?e=1"), Some(("Acme Stats".into(), "analytics".into())));
    assert_eq!(classify(&t, "https://eu.acme-stats.test/other"), None);
    // Allow-listed: only that path; the same host's gtag stays a tracker.
    assert_eq!(classify(&t, "https://www.googletagmanager.com/gtm.js?id=GTM-1"), None);
    assert!(classify(&t, "https://www.googletagmanager.com/gtag/js?id=G-1").is_some());
    // `auto: false` turns the database off.
    let off = Trackers::new(&config(r#"{"auto":false}"#).blocking);
    assert_eq!(classify(&off, "https://www.google-analytics.com/g/collect"), None);
}

#[test]
fn loader_table_carries_every_service_and_pattern() {
    // The loader parses this string; parsed the same way here it must give back the database.
    let parsed: Vec<(String, String, Vec<String>)> = loader_table()
        .split(';')
        .map(|s| {
            let f: Vec<&str> = s.split('|').collect();
            assert_eq!(f.len(), 3, "{s}");
            (f[1].to_string(), f[0].to_string(), f[2].split(',').map(String::from).collect())
        })
        .collect();
    let db: Vec<(String, String, Vec<String>)> =
        database().into_iter().map(|s| (s.name, s.purpose, s.matches)).collect();
    assert_eq!(parsed, db);
    assert!(db.len() >= 25, "the issue names at least these services");
    for name in [
        "Google Analytics",
        "Google Tag Manager",
        "Meta Pixel",
        "Hotjar",
        "Microsoft Clarity",
        "FullStory",
        "LogRocket",
        "Mixpanel",
        "Segment",
        "Amplitude",
        "Heap",
        "TikTok Pixel",
        "LinkedIn Insight",
        "YouTube",
        "Vimeo",
        "Google Maps",
    ] {
        assert!(db.iter().any(|s| s.0 == name), "{name} is missing from data/trackers.json");
    }
}

#[test]
fn withdrawal_expires_cookies_in_every_reachable_domain_and_path() {
    let t = Trackers::new(&Blocking::default());
    let names = ["_ga", "_ga_ABC123", "_fbp", "session", "_hjSessionUser_42"];
    let keys = ["_hjSession_42", "ajs_user_id", "cart"];
    let of = |purposes: &[&str]| -> Vec<String> {
        t.services().iter().filter(|s| purposes.contains(&s.purpose.as_str())).map(|s| s.name.clone()).collect()
    };
    let c = t.cleanup(&of(&["analytics"]), &names, &keys, "shop.example.com", "/a/b");
    let want_paths = ["/", "/a", "/a/", "/a/b"];
    let want_domains = ["", "; Domain=shop.example.com", "; Domain=example.com"];
    let mut want = Vec::new();
    for name in ["_ga", "_ga_ABC123"] {
        for d in want_domains {
            for p in want_paths {
                want.push(format!("{name}=; Max-Age=0; Path={p}{d}"));
            }
        }
    }
    assert_eq!(c.cookies, want);
    assert_eq!(c.storage, ["ajs_user_id"]);
    // Replay and marketing: their own names only; necessary cookies are never touched.
    let c = t.cleanup(&of(&["replay", "marketing"]), &names, &keys, "localhost", "/");
    let cookies: Vec<&str> = c.cookies.iter().map(|s| s.split('=').next().unwrap()).collect();
    assert_eq!(cookies, ["_fbp", "_fbp", "_hjSessionUser_42", "_hjSessionUser_42"]);
    assert_eq!(c.cookies[1], "_fbp=; Max-Age=0; Path=/; Domain=localhost");
    assert_eq!(c.storage, ["_hjSession_42"]);
}

#[test]
fn host_and_path_of_urls() {
    assert_eq!(host_and_path("https://a.b.test:8443/x/y?q#f"), Some(("a.b.test", "/x/y")));
    assert_eq!(host_and_path("http://a.test?x"), Some(("a.test", "/")));
    assert_eq!(host_and_path("javascript:alert(1)"), None);
    assert_eq!(host_and_path("blob:https://a.test/uuid"), None);
}
