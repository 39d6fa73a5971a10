//! The three consent flows a region can get.

/// How consent is asked. Ordered from least to most strict, so `max()` picks the strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase"))]
pub enum Flow {
    /// Information only, with a link to preferences; `optOut` purposes run by default.
    Notice,
    /// `optOut` purposes run until the visitor objects; sensitive purposes stay opt-in.
    OptOut,
    /// Nothing optional runs until the visitor chooses; "Reject all" sits on the first layer.
    OptIn,
}

impl Flow {
    /// The name used in config, the cookie and the JS API.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Notice => "notice",
            Flow::OptOut => "optOut",
            Flow::OptIn => "optIn",
        }
    }

    /// Inverse of [`Flow::as_str`].
    pub fn parse(s: &str) -> Option<Flow> {
        [Flow::Notice, Flow::OptOut, Flow::OptIn].into_iter().find(|f| f.as_str() == s)
    }
}
