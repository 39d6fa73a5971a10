// Trusted Types (docs/csp.md): Assent's policy `assent`, made by the loader on first need and held
// here, never exposed to the page. It passes on only what the page already trusted, or what Assent
// writes itself:
// - markup the page passed as TrustedHTML, after the loader held the trackers in it (a plain string
//   stays a string, so the browser refuses it, or runs the site's default policy, as without Assent);
// - a gated inline script's text and a gated script's URL, copied from the page's own element into the
//   one that runs it (with the original's nonce, so markup injected without it still does not run);
// - the embed placeholder's document, which the preferences module builds from escaped strings.

/** @type {any} the policy; null where it cannot be had (no Trusted Types, or refused) */
let policy;
/** The browser's Trusted Types, where it has them. */
export const tt = /** @type {any} */ (window).trustedTypes;

function made() {
  if (policy === undefined) {
    const same = (/** @type {string} */ s) => s;
    policy = null;
    try {
      if (tt) policy = tt.createPolicy('assent', { createHTML: same, createScript: same, createScriptURL: same });
    } catch (e) {
      console.error(`assent: ${e} Add 'assent' to the CSP's trusted-types directive (docs/csp.md); until then tags ` +
        'written as markup stay blocked.');
    }
  }
  return policy;
}

/** `create` through the policy, where there is one; else the string (which the browser refuses where it requires trust). */
const through = (/** @type {string} */ create) => (/** @type {string} */ s) => (made() ? policy[create](s) : s);

/** Whether the page passed markup as TrustedHTML. */
export const isTrusted = (/** @type {unknown} */ v) => !!tt && tt.isHTML(v);
/** The page uses Trusted Types but its CSP refused the policy: Assent writes no markup. */
export const refused = () => !!tt && !made();
/** Markup Assent writes, or the page's trusted markup after the loader held its trackers. Where the
 * policy is refused, nothing: an empty TrustedHTML. */
export const html = (/** @type {string} */ s) => (tt && !made() ? tt.emptyHTML : through('createHTML')(s));
/** A gated inline script's own text, for the script that runs it. */
export const script = through('createScript');
/** A gated script's own URL, for the script that runs it. */
export const scriptURL = through('createScriptURL');
