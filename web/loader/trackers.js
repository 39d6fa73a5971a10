// The tracker table and its matching rule: the loader's twin of assent_core::trackers, pinned by
// data/conformance/trackers.json (read by the core's tests and by tests/loader). Pure: no DOM.

/**
 * @typedef {{ purpose: string, name: string, match: string[] }} Service
 * @typedef {{ href: string, host: string, hostname: string }} Here
 * @typedef {{ auto?: unknown, services?: unknown, allow?: unknown }} Blocking
 */

// A host (with a dot, not at either end) and an optional path: assent_core::trackers::is_pattern.
const PATTERN = /^[a-z0-9-][a-z0-9.-]*\.[a-z0-9.-]*[a-z0-9-](\/[^?# |;,]*)?$/;

/** Whether a config `match` or `allow` entry is a usable `host` or `host/path-prefix`. */
export const isPattern = (/** @type {unknown} */ m) => typeof m === 'string' && PATTERN.test(m);

// A URL whose host only the URL parser reads as one: percent-escapes or non-ASCII (a dot like `。`) in
// the host, or a tab or newline anywhere (browsers strip them). The parser reads `\` as `/`, and
// `http:host` as `http://host`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: `[^\x00-\x7f]` is "not ASCII"
const ODD_HOST = /^([a-z][\w+.-]*:[/\\]*|[^?#]*?[/\\]{2})[^/\\?#]*(%|[^\x00-\x7f])|[\t\n\r]/i;

// Google's country domains serve google.com's Ads and Maps paths (assent_core::trackers::google_country).
const asGoogleCom = (/** @type {string} */ host) => host.replace(/(^|\.)google\.(com?\.)?[a-z]{2}$/, '$1google.com');

/** Whether `pattern` covers a URL with this host and path (assent_core::trackers::pattern_matches). */
function covers(/** @type {string} */ pattern, /** @type {string} */ host, /** @type {string} */ path) {
  const slash = pattern.indexOf('/');
  const want = slash < 0 ? pattern : pattern.slice(0, slash);
  return (host === want || host.endsWith(`.${want}`)) && path.startsWith(slash < 0 ? '/' : pattern.slice(slash));
}

/**
 * The table (`purpose|name|pattern,…` per service, `;` between services, as
 * assent_core::trackers::loader_table writes it) as a matcher for the page at `here`.
 * @param {string} table
 * @param {Here} here
 */
export function trackers(table, here) {
  /** @type {Service[]} */
  let services = [];
  /** @type {string[]} */
  let allow = [];
  /** @type {Map<string, [number, string][]>} host → [service index, path prefix] of every pattern on it */
  let byHost = new Map();
  let hostRe = /$^/;
  let selfTracked = false;
  for (const row of table.split(';')) {
    const [purpose, name, match] = row.split('|');
    if (match) services.push({ purpose, name, match: match.split(',') });
  }
  // One regex of all the hosts, so that markup costs one test and a URL a lookup per label of its host.
  const index = () => {
    byHost = new Map();
    services.forEach((s, i) => {
      for (const m of s.match) {
        const host = m.split('/')[0];
        const list = byHost.get(host) || [];
        list.push([i, m.slice(host.length) || '/']);
        byHost.set(host, list);
      }
    });
    const hosts = [...byHost.keys()].join('|').replace(/\./g, '\\.') || '$^';
    hostRe = new RegExp(`(^|[^a-z0-9-])(${hosts}|google\\.(com?\\.)?[a-z]{2})($|[^a-z0-9-])`, 'i');
    selfTracked = hostRe.test(here.hostname); // then relative URLs can be trackers too
  };
  index();

  return {
    /** Whether text (a URL or markup) may name a tracker host: a cheap test before any parsing. */
    mayName: (/** @type {string} */ text) => selfTracked || hostRe.test(text),
    /**
     * The service a URL belongs to, unless the config allow-lists it (assent_core::trackers::classify).
     * @param {string} url
     * @returns {Service | null}
     */
    classify(url) {
      if (!selfTracked && !hostRe.test(url) && !ODD_HOST.test(url)) return null;
      let u;
      try {
        u = new URL(url, here.href);
      } catch {
        return null;
      }
      if (!/^(https?|wss?):$/.test(u.protocol)) return null;
      const host = asGoogleCom(u.hostname.replace(/\.$/, ''));
      if (allow.some((m) => covers(m, host, u.pathname))) return null;
      // The first service in table order with a pattern on the host or a parent domain of it.
      let best = -1;
      for (let h = host; h; h = h.slice(h.indexOf('.') + 1 || h.length)) {
        for (const [i, path] of byHost.get(h) || []) {
          if (u.pathname.startsWith(path) && (best < 0 || i < best)) best = i;
        }
      }
      return best < 0 ? null : services[best];
    },
    /** The table's service of that name, in any case (names are keys, as in the core). */
    named: (/** @type {string} */ name) => services.find((s) => s.name.toLowerCase() === name.toLowerCase()) || null,
    /**
     * The config's `blocking`: services changed or added, hosts allowed, or (`auto: false`) no table at
     * all (assent_core::trackers::Trackers::new). Only usable patterns count: the core refuses a bad
     * entry with an error, which must not break the lookup for every other service.
     * @param {Blocking | null | undefined} blocking
     */
    configure(blocking) {
      const b = blocking && typeof blocking === 'object' ? blocking : {};
      if (b.auto === false) {
        services = [];
        allow = [];
      } else {
        const rules = Array.isArray(b.services) ? b.services : [];
        for (const r of rules) {
          if (!r || typeof r.name !== 'string') continue;
          const match = Array.isArray(r.match) ? r.match.filter(isPattern) : [];
          let s = services.find((x) => x.name.toLowerCase() === r.name.toLowerCase());
          if (!s && typeof r.purpose === 'string') {
            s = { name: r.name, purpose: r.purpose, match: [] };
            services.push(s);
          }
          if (!s) continue;
          if (typeof r.purpose === 'string') s.purpose = r.purpose;
          s.match = s.match.concat(match);
        }
        allow = Array.isArray(b.allow) ? b.allow.filter(isPattern) : [];
      }
      index();
    },
  };
}

/** @typedef {ReturnType<typeof trackers>} Trackers */

/**
 * The tracker service of a gated element: the one its `data-service` names, if the table knows it, else
 * the one its URL belongs to (assent-client's `service_of`).
 * @param {Trackers} table
 * @param {{ getAttribute(name: string): string | null }} el
 */
export function serviceOf(table, el) {
  const named = el.getAttribute('data-service');
  const known = named && table.named(named);
  if (known) return known.name;
  const url = ['data-src', 'src', 'data-href', 'href'].map((a) => el.getAttribute(a)).find((u) => u != null);
  return (url != null && table.classify(url)?.name) || null;
}
