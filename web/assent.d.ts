// Type declarations for `window.assent`, installed by assent.js.

/** A purpose id from the site config, e.g. "analytics" or "ai_training". */
export type PurposeId = string;

/** How a decision was captured. */
export type CaptureMethod = 'accept_all' | 'reject_all' | 'preferences_saved' | 'withdrawal' | 'acknowledged' | 'api' | 'ai_toggle' | 'gpc' | 'placeholder';

/** The consent flow a region gets. */
export type Flow = 'optIn' | 'optOut' | 'notice';

/** Options that scope a question to one chat conversation, or to one tracker service. */
export interface ScopeOptions {
  /** The conversation id, as on `<assent-ai-toggle conversation="…">`. */
  conversation?: string;
  /** A service name from the tracker database or the config (`allowed` only), e.g. `YouTube`. */
  service?: string;
}

/** The detail of `assent:change` when a service is allowed always ("Always allow" on an embed's placeholder) or stops being. */
export interface ServiceChange {
  service: string;
  /** `service:<name>`, as in receipts and the collector's gate. */
  scope: string;
  /** Whether the service is now allowed always. */
  on: boolean;
  /** The receipt of that choice. */
  receipt: string | null;
}

/** The detail of `assent:change` fired by `<assent-ai-toggle>` (bubbles and leaves shadow roots). */
export interface ConversationChange {
  conversation: string;
  /** `conversation:<id>`, as in receipts and the collector's gate. */
  scope: string;
  /** Whether the conversation may now be used for AI training. */
  on: boolean;
  /** The receipt of the conversation's own choice, or null when it follows the site-wide one. */
  receipt: string | null;
  do_not_train: boolean;
}

/** The visitor's current decision. */
export interface Consent {
  /** Pseudonymous random subject id (32 hex digits). */
  subject: string;
  /** Notice version the visitor answered. */
  noticeVersion: string;
  /** ISO 8601 UTC. */
  decidedAt: string;
  /** ISO 8601 UTC; the visitor is asked again after this. */
  expiresAt: string;
  method: CaptureMethod;
  /** ISO 3166 code in force, if known. */
  region: string | null;
  flow: Flow;
  /** Id of the signed receipt that records this decision. */
  receipt: string;
  /** Every purpose the decision answered, allowed or not. */
  purposes: Record<PurposeId, boolean>;
}

/** What `stamp` adds. */
export interface StampFacts {
  /** The receipt that decides: the conversation's own choice if it has one, else the site-wide decision. */
  receipt: string | null;
  purposes: PurposeId[];
  do_not_train: boolean;
  /**
   * The same choice in the IETF AIPREF vocabulary: `train-ai=n` where `do_not_train` is true, else
   * `train-ai=y`. Send it as the `Content-Usage` header with the data (docs/ai-training-data.md).
   */
  content_usage: 'train-ai=y' | 'train-ai=n';
  /** `conversation:<id>` when stamped with `{conversation}`. */
  scope?: string;
}

export interface Assent {
  /** Resolves once the decision for this page view is known and applied. */
  readonly ready: Promise<Assent>;
  /** The current decision, or null before the visitor has made one. */
  consent(): Consent | null;
  /**
   * Whether data may be used for this purpose now. With `{conversation}`, in that conversation: its
   * own ai_training choice (from `<assent-ai-toggle>`) wins over the site-wide one. With `{service}`,
   * for that service: true when the purpose is allowed or the visitor allows the service always.
   */
  allowed(purpose: PurposeId, options?: ScopeOptions): boolean;
  /** Sets some purposes; the others keep their state. */
  set(choices: Record<PurposeId, boolean>): Promise<void>;
  /** Allows every optional purpose except ai_training, which is only ever granted on its own. */
  acceptAll(): Promise<void>;
  /** Refuses every optional purpose, ai_training included. */
  rejectAll(): Promise<void>;
  /** Withdraws one purpose, or every optional purpose. Scripts that already ran are not unloaded. */
  withdraw(purpose?: PurposeId): Promise<void>;
  showBanner(): Promise<void>;
  showPreferences(): Promise<void>;
  /**
   * Returns a copy of `payload` with the consent facts that must travel with it under `assent`:
   * the receipt id, the purposes allowed now, and `do_not_train` (true unless ai_training is granted).
   * With `{conversation}`, the facts for that conversation, plus `scope`.
   */
  stamp<T extends object>(payload: T, options?: ScopeOptions): T & { assent: StampFacts };
  /** Gates elements added to the page since the last scan. */
  rescan(): void;
  /** What automatic blocking held or dropped on this page view (see docs/blocking.md). */
  report(): BlockedItem[];
  /** Calls fn with the new decision after every change; returns an unsubscribe function. */
  on(event: 'change', fn: (consent: Consent) => void): () => void;
}

/** One tag or request that automatic blocking held or dropped. */
export interface BlockedItem {
  /** The tracker database's (or the config's) service name, e.g. `Google Analytics`. */
  service: string;
  /** The purpose it waits for. */
  purpose: PurposeId;
  kind: 'script' | 'iframe' | 'img' | 'link' | 'pixel' | 'fetch' | 'beacon' | 'xhr';
  url: string;
  /** `held` waits in the page; `ran` was allowed since; `dropped` is gone (requests are never queued). */
  state: 'held' | 'ran' | 'dropped';
  /** Why, e.g. "no decision yet on `analytics`". */
  reason: string;
}

declare global {
  interface Window {
    assent: Assent;
    /** IAB GPP 1.1 (with `data-gpp` on the script tag); see docs/gpp.md. */
    __gpp?: (command: 'ping' | 'addEventListener' | 'removeEventListener' | 'hasSection' | 'getSection' | 'getField',
      callback: (value: unknown, success: boolean) => void, parameter?: unknown) => void;
    /** Google's dataLayer (with `data-consent-mode`); see docs/google-consent-mode.md. */
    dataLayer?: unknown[];
  }
  interface DocumentEventMap {
    /** A site-wide decision (detail: Consent), a conversation's toggle (detail: ConversationChange) or a service allowed always (detail: ServiceChange). */
    'assent:change': CustomEvent<Consent | ConversationChange | ServiceChange>;
  }
}
