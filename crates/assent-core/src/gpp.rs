//! IAB Global Privacy Platform (GPP 1.1): the US National section (`usnat`, section 7, version 2) and
//! the state sections of California, Virginia, Colorado and Connecticut (`usca`, `usva`, `usco`,
//! `usct`, sections 8, 9, 10 and 12, version 1), each with its GPC subsection where it has one,
//! encoded as the GPP string ad-tech vendors read through `__gpp`. A visitor in one of those states
//! gets the state's section; elsewhere in a US opt-out region, the national one.
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

/// The US sections Assent writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsSection {
    /// `usnat` (7).
    Nat,
    /// `usca` (8).
    Ca,
    /// `usva` (9).
    Va,
    /// `usco` (10).
    Co,
    /// `usct` (12).
    Ct,
}

impl UsSection {
    /// Every section, in id order (`supportedAPIs`).
    pub const ALL: [UsSection; 5] = [UsSection::Nat, UsSection::Ca, UsSection::Va, UsSection::Co, UsSection::Ct];

    /// The section for a visitor's resolved region (`US-CA`, …): the state's own where it has one.
    pub fn for_region(region: &str) -> UsSection {
        match region {
            "US-CA" => UsSection::Ca,
            "US-VA" => UsSection::Va,
            "US-CO" => UsSection::Co,
            "US-CT" => UsSection::Ct,
            _ => UsSection::Nat,
        }
    }

    /// The GPP section id.
    pub fn id(self) -> u32 {
        match self {
            UsSection::Nat => USNAT_ID,
            UsSection::Ca => 8,
            UsSection::Va => 9,
            UsSection::Co => 10,
            UsSection::Ct => 12,
        }
    }

    /// The section with GPP id `id`, if Assent writes it.
    pub fn from_id(id: u32) -> Option<UsSection> {
        UsSection::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The section a `__gpp` parameter names: its name (`usca`) or its id (`8`).
    pub fn named(parameter: &str) -> Option<UsSection> {
        UsSection::ALL.into_iter().find(|s| s.name() == parameter || s.id().to_string() == parameter)
    }

    /// The GPP section name.
    pub fn name(self) -> &'static str {
        match self {
            UsSection::Nat => "usnat",
            UsSection::Ca => "usca",
            UsSection::Va => "usva",
            UsSection::Co => "usco",
            UsSection::Ct => "usct",
        }
    }
}

/// A US section for a visitor in a US opt-out region: every notice it has was given, `opted_out` says
/// whether sale, sharing and targeted advertising are refused, nothing sensitive applies, and no
/// MSPA-covered transaction; GPC in the subsection where the section has one (Virginia's has none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsSignal {
    /// Which section.
    pub section: UsSection,
    /// Opted out of sale, sharing and targeted advertising.
    pub opted_out: bool,
    /// The browser sent Global Privacy Control.
    pub gpc: bool,
}

impl UsSignal {
    /// The section's fields by their GPP names, in order (lists as their items), for `getSection`:
    /// the core segment's, then the GPC subsection's where there is one.
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        use FieldValue::{Int, List};
        let out = if self.opted_out { 1 } else { 2 };
        let (sensitive, children): (usize, Option<FieldValue>) = match self.section {
            UsSection::Nat => return UsNat::for_opt_out(self.opted_out, self.gpc).fields(),
            UsSection::Ca => {
                let mut fields = vec![
                    ("Version", Int(1)),
                    ("SaleOptOutNotice", Int(1)),
                    ("SharingOptOutNotice", Int(1)),
                    ("SensitiveDataLimitUseNotice", Int(0)),
                    ("SaleOptOut", Int(out)),
                    ("SharingOptOut", Int(out)),
                    ("SensitiveDataProcessing", List(vec![0; 9])),
                    ("KnownChildSensitiveDataConsents", List(vec![0; 2])),
                    ("PersonalDataConsents", Int(0)),
                ];
                fields.extend(mspa());
                fields.extend(gpc_subsection(self.gpc));
                return fields;
            }
            UsSection::Va => (8, Some(Int(0))),
            UsSection::Co => (7, Some(Int(0))),
            UsSection::Ct => (8, Some(List(vec![0; 3]))),
        };
        let mut fields = vec![
            ("Version", Int(1)),
            ("SharingNotice", Int(1)),
            ("SaleOptOutNotice", Int(1)),
            ("TargetedAdvertisingOptOutNotice", Int(1)),
            ("SaleOptOut", Int(out)),
            ("TargetedAdvertisingOptOut", Int(out)),
            ("SensitiveDataProcessing", List(vec![0; sensitive])),
        ];
        fields.extend(children.map(|c| ("KnownChildSensitiveDataConsents", c)));
        fields.extend(mspa());
        if self.section != UsSection::Va {
            fields.extend(gpc_subsection(self.gpc));
        }
        fields
    }

    /// The section as written in the GPP string: the core segment, then `.` and the GPC subsection
    /// where the section has one.
    pub fn encode(&self) -> String {
        if self.section == UsSection::Nat {
            return UsNat::for_opt_out(self.opted_out, self.gpc).encode();
        }
        let (mut core, mut gpc) = (Bits::default(), None::<Bits>);
        for (name, value) in self.fields() {
            let bits = match name {
                "GpcSegmentType" => gpc.insert(Bits::default()),
                _ if gpc.is_some() => gpc.as_mut().expect("the GPC subsection"),
                _ => &mut core,
            };
            match value {
                FieldValue::Int(v) => bits.push(u32::from(v), if name == "Version" { 6 } else { 2 }),
                FieldValue::Bool(b) => bits.push(u32::from(b), 1),
                FieldValue::List(items) => items.iter().for_each(|v| bits.push(u32::from(*v), 2)),
            }
        }
        match gpc {
            Some(gpc) => format!("{}.{}", core.base64url(), gpc.base64url()),
            None => core.base64url(),
        }
    }

    /// The whole GPP string with this as its only section.
    pub fn gpp_string(&self) -> String {
        format!("{}~{}", header(&[self.section.id()]), self.encode())
    }
}

/// The MSPA fields every US section ends its core segment with: not an MSPA-covered transaction.
fn mspa() -> [(&'static str, FieldValue); 3] {
    use FieldValue::Int;
    [("MspaCoveredTransaction", Int(2)), ("MspaOptOutOptionMode", Int(0)), ("MspaServiceProviderMode", Int(0))]
}

/// The GPC subsection's fields: type 1, and the signal.
fn gpc_subsection(gpc: bool) -> [(&'static str, FieldValue); 2] {
    [("GpcSegmentType", FieldValue::Int(1)), ("Gpc", FieldValue::Bool(gpc))]
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
