//! IAB Global Privacy Platform (GPP 1.1): the US National section (`usnat`, section 7, version 2)
//! with its GPC subsection, encoded as the GPP string ad-tech vendors read through `__gpp`.
//!
//! Encoding follows the IAB's GPP specification: fields are written as fixed-width bit fields; the
//! bit string is padded with zeros to a whole number of bytes and then of base64 characters, and
//! written in the base64url alphabet without padding. The header lists section ids with Fibonacci
//! coding. The e2e suite decodes our strings with the IAB's own `@iabgpp/cmpapi`.

/// The `usnat` section id.
pub const USNAT_ID: u32 = 7;
/// The `usnat` section version written.
pub const USNAT_VERSION: u8 = 2;

/// The `usnat` fields. Two-bit values: 0 not applicable, 1 yes (notice given / opted out / consent
/// given), 2 no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsNat {
    /// Notice of sharing given.
    pub sharing_notice: u8,
    /// Notice of the opportunity to opt out of sale given.
    pub sale_opt_out_notice: u8,
    /// Notice of the opportunity to opt out of sharing given.
    pub sharing_opt_out_notice: u8,
    /// Notice of the opportunity to opt out of targeted advertising given.
    pub targeted_advertising_opt_out_notice: u8,
    /// Notice of the opportunity to opt out of sensitive data processing given.
    pub sensitive_data_processing_opt_out_notice: u8,
    /// Notice of the opportunity to limit use of sensitive data given.
    pub sensitive_data_limit_use_notice: u8,
    /// Opted out of sale.
    pub sale_opt_out: u8,
    /// Opted out of sharing.
    pub sharing_opt_out: u8,
    /// Opted out of targeted advertising.
    pub targeted_advertising_opt_out: u8,
    /// Sensitive data categories (16).
    pub sensitive_data_processing: [u8; 16],
    /// Known-child sensitive data consents (3).
    pub known_child_sensitive_data_consents: [u8; 3],
    /// Consent to collect personal data (where a state law needs it).
    pub personal_data_consents: u8,
    /// Covered by the IAB Multi-State Privacy Agreement (1 yes, 2 no).
    pub mspa_covered_transaction: u8,
    /// MSPA opt-out option mode.
    pub mspa_opt_out_option_mode: u8,
    /// MSPA service provider mode.
    pub mspa_service_provider_mode: u8,
    /// Whether the browser sent Global Privacy Control (the GPC subsection).
    pub gpc: bool,
}

impl UsNat {
    /// The state for a visitor in a US opt-out region: the opt-out notice was shown; `opted_out` says
    /// whether sale, sharing and targeted advertising are refused; nothing sensitive applies; no
    /// MSPA-covered transaction.
    pub fn for_opt_out(opted_out: bool, gpc: bool) -> UsNat {
        let out = if opted_out { 1 } else { 2 };
        UsNat {
            sharing_notice: 1,
            sale_opt_out_notice: 1,
            sharing_opt_out_notice: 1,
            targeted_advertising_opt_out_notice: 1,
            sensitive_data_processing_opt_out_notice: 0,
            sensitive_data_limit_use_notice: 0,
            sale_opt_out: out,
            sharing_opt_out: out,
            targeted_advertising_opt_out: out,
            sensitive_data_processing: [0; 16],
            known_child_sensitive_data_consents: [0; 3],
            personal_data_consents: 0,
            mspa_covered_transaction: 2,
            mspa_opt_out_option_mode: 0,
            mspa_service_provider_mode: 0,
            gpc,
        }
    }

    /// The section's fields by their GPP names, in order (lists as their items), for `getSection`.
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        use FieldValue::{Bool, Int, List};
        vec![
            ("Version", Int(USNAT_VERSION)),
            ("SharingNotice", Int(self.sharing_notice)),
            ("SaleOptOutNotice", Int(self.sale_opt_out_notice)),
            ("SharingOptOutNotice", Int(self.sharing_opt_out_notice)),
            ("TargetedAdvertisingOptOutNotice", Int(self.targeted_advertising_opt_out_notice)),
            ("SensitiveDataProcessingOptOutNotice", Int(self.sensitive_data_processing_opt_out_notice)),
            ("SensitiveDataLimitUseNotice", Int(self.sensitive_data_limit_use_notice)),
            ("SaleOptOut", Int(self.sale_opt_out)),
            ("SharingOptOut", Int(self.sharing_opt_out)),
            ("TargetedAdvertisingOptOut", Int(self.targeted_advertising_opt_out)),
            ("SensitiveDataProcessing", List(self.sensitive_data_processing.to_vec())),
            ("KnownChildSensitiveDataConsents", List(self.known_child_sensitive_data_consents.to_vec())),
            ("PersonalDataConsents", Int(self.personal_data_consents)),
            ("MspaCoveredTransaction", Int(self.mspa_covered_transaction)),
            ("MspaOptOutOptionMode", Int(self.mspa_opt_out_option_mode)),
            ("MspaServiceProviderMode", Int(self.mspa_service_provider_mode)),
            ("GpcSegmentType", Int(1)),
            ("Gpc", Bool(self.gpc)),
        ]
    }

    /// The section as written in the GPP string: core segment `.` GPC subsection.
    pub fn encode(&self) -> String {
        let mut core = Bits::default();
        core.push(u32::from(USNAT_VERSION), 6);
        for v in [
            self.sharing_notice,
            self.sale_opt_out_notice,
            self.sharing_opt_out_notice,
            self.targeted_advertising_opt_out_notice,
            self.sensitive_data_processing_opt_out_notice,
            self.sensitive_data_limit_use_notice,
            self.sale_opt_out,
            self.sharing_opt_out,
            self.targeted_advertising_opt_out,
        ] {
            core.push(u32::from(v), 2);
        }
        for v in self.sensitive_data_processing.iter().chain(&self.known_child_sensitive_data_consents) {
            core.push(u32::from(*v), 2);
        }
        for v in [
            self.personal_data_consents,
            self.mspa_covered_transaction,
            self.mspa_opt_out_option_mode,
            self.mspa_service_provider_mode,
        ] {
            core.push(u32::from(v), 2);
        }
        let mut gpc = Bits::default();
        gpc.push(1, 2); // subsection type 1: GPC
        gpc.push(u32::from(self.gpc), 1);
        format!("{}.{}", core.base64url(), gpc.base64url())
    }

    /// The whole GPP string with this as its only section.
    pub fn gpp_string(&self) -> String {
        format!("{}~{}", header(&[USNAT_ID]), self.encode())
    }
}

/// A field value for `getSection`/`getField`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A small integer.
    Int(u8),
    /// A flag.
    Bool(bool),
    /// A list of small integers.
    List(Vec<u8>),
}

/// The GPP header: type 3, version 1, and the section ids (ascending) as a Fibonacci-coded range list.
pub fn header(section_ids: &[u32]) -> String {
    let mut bits = Bits::default();
    bits.push(3, 6);
    bits.push(1, 6);
    bits.push(section_ids.len() as u32, 12);
    let mut previous = 0;
    for id in section_ids {
        bits.push(0, 1); // a single id, not a range
        bits.fibonacci(id - previous);
        previous = *id;
    }
    bits.base64url()
}

/// A bit string under construction.
#[derive(Debug, Default)]
struct Bits(Vec<bool>);

impl Bits {
    fn push(&mut self, value: u32, width: u32) {
        for i in (0..width).rev() {
            self.0.push(value >> i & 1 == 1);
        }
    }

    /// Fibonacci coding (Zeckendorf digits from 1, 2, 3, 5, …, lowest first, then a closing 1).
    fn fibonacci(&mut self, mut n: u32) {
        let mut fibs = vec![1u32, 2];
        while fibs[fibs.len() - 1] + fibs[fibs.len() - 2] <= n {
            fibs.push(fibs[fibs.len() - 1] + fibs[fibs.len() - 2]);
        }
        let mut digits = vec![false; fibs.len()];
        for i in (0..fibs.len()).rev() {
            if fibs[i] <= n {
                digits[i] = true;
                n -= fibs[i];
            }
        }
        while digits.last() == Some(&false) {
            digits.pop();
        }
        self.0.extend(digits);
        self.0.push(true);
    }

    /// Zero-padded to whole bytes, then to whole base64 characters; base64url without `=`.
    fn base64url(mut self) -> String {
        const DICT: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        while !self.0.len().is_multiple_of(8) {
            self.0.push(false);
        }
        while !self.0.len().is_multiple_of(6) {
            self.0.push(false);
        }
        self.0.chunks(6).map(|c| DICT[c.iter().fold(0usize, |acc, b| acc << 1 | usize::from(*b))] as char).collect()
    }
}
