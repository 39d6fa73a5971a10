//! Errors a site owner can act on.

/// Something wrong in the site config. The message names the field and says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The config text is not JSON at all.
    #[error("config is not valid JSON: {0}")]
    Syntax(String),
    /// The config could not be fetched.
    #[error("{0}")]
    Unavailable(String),
    /// A field has the wrong type or value.
    #[error("config: {path}: {message}")]
    Invalid {
        /// Where, e.g. `purposes[3].id`.
        path: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// A call on the JS API or an attribute in the page that Assent cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// A purpose id that the config does not define.
    #[error("unknown purpose `{id}`{context}; this site's purposes are: {known}")]
    UnknownPurpose {
        /// The id as written.
        id: String,
        /// Where it was written, e.g. ` in <script data-category>`.
        context: String,
        /// The configured ids, comma-separated.
        known: String,
    },
    /// An attempt to refuse a purpose that is always on.
    #[error("`necessary` is always on and cannot be refused")]
    NecessaryRefused,
    /// A conversation id that cannot be stored or scoped.
    #[error("conversation `{0}`{1} must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_`, `:` or `-`")]
    BadConversation(String, String),
    /// A service that neither the tracker database nor the config's `blocking.services` names.
    #[error("`{0}` is not a service of the tracker database or of blocking.services in the config")]
    UnknownService(String),
}
