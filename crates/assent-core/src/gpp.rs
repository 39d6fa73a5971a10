//! IAB Global Privacy Platform (GPP 1.1): every US section of the GPP, encoded as the GPP string
//! ad-tech vendors read through `__gpp`. The US National section (`usnat`, section 7, version 2), and
//! the state sections (version 1): California `usca` (8), Virginia `usva` (9), Colorado `usco` (10),
//! Utah `usut` (11), Connecticut `usct` (12), Florida `usfl` (13), Montana `usmt` (14), Oregon `usor`
//! (15), Texas `ustx` (16), Delaware `usde` (17), Iowa `usia` (18), Nebraska `usne` (19), New
//! Hampshire `usnh` (20), New Jersey `usnj` (21), Tennessee `ustn` (22), Minnesota `usmn` (23),
//! Maryland `usmd` (24), Indiana `usin` (25), Kentucky `usky` (26) and Rhode Island `usri` (27). Each
//! has its GPC subsection where the IAB defines one (Virginia, Utah and Florida have none; Indiana,
//! Kentucky and Rhode Island have a sensitive data consents subsection instead). A visitor in one of
//! those states gets the state's section; elsewhere in a US opt-out region, the national one. Each
//! section's fields, their order and widths are [`UsSection`]'s layouts, as the IAB's `@iabgpp/cmpapi`
//! defines them; what Assent writes in each follows from the field ([`UsSignal`]).
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

/// The US sections Assent writes: every US section of the GPP, the national one and each state's. The
/// discriminant is the GPP section id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsSection {
    /// `usnat` (7).
    Nat = 7,
    /// `usca` (8), California.
    Ca = 8,
    /// `usva` (9), Virginia.
    Va = 9,
    /// `usco` (10), Colorado.
    Co = 10,
    /// `usut` (11), Utah.
    Ut = 11,
    /// `usct` (12), Connecticut.
    Ct = 12,
    /// `usfl` (13), Florida.
    Fl = 13,
    /// `usmt` (14), Montana.
    Mt = 14,
    /// `usor` (15), Oregon.
    Or = 15,
    /// `ustx` (16), Texas.
    Tx = 16,
    /// `usde` (17), Delaware.
    De = 17,
    /// `usia` (18), Iowa.
    Ia = 18,
    /// `usne` (19), Nebraska.
    Ne = 19,
    /// `usnh` (20), New Hampshire.
    Nh = 20,
    /// `usnj` (21), New Jersey.
    Nj = 21,
    /// `ustn` (22), Tennessee.
    Tn = 22,
    /// `usmn` (23), Minnesota.
    Mn = 23,
    /// `usmd` (24), Maryland.
    Md = 24,
    /// `usin` (25), Indiana.
    In = 25,
    /// `usky` (26), Kentucky.
    Ky = 26,
    /// `usri` (27), Rhode Island.
    Ri = 27,
}

impl UsSection {
    /// Every section, in id order (`supportedAPIs`).
    pub const ALL: [UsSection; 21] = [
        UsSection::Nat,
        UsSection::Ca,
        UsSection::Va,
        UsSection::Co,
        UsSection::Ut,
        UsSection::Ct,
        UsSection::Fl,
        UsSection::Mt,
        UsSection::Or,
        UsSection::Tx,
        UsSection::De,
        UsSection::Ia,
        UsSection::Ne,
        UsSection::Nh,
        UsSection::Nj,
        UsSection::Tn,
        UsSection::Mn,
        UsSection::Md,
        UsSection::In,
        UsSection::Ky,
        UsSection::Ri,
    ];

    /// The section for a visitor's resolved region (`US-CA`, …): the state's own where it has one, else
    /// the national one.
    pub fn for_region(region: &str) -> UsSection {
        match region {
            "US-CA" => UsSection::Ca,
            "US-VA" => UsSection::Va,
            "US-CO" => UsSection::Co,
            "US-UT" => UsSection::Ut,
            "US-CT" => UsSection::Ct,
            "US-FL" => UsSection::Fl,
            "US-MT" => UsSection::Mt,
            "US-OR" => UsSection::Or,
            "US-TX" => UsSection::Tx,
            "US-DE" => UsSection::De,
            "US-IA" => UsSection::Ia,
            "US-NE" => UsSection::Ne,
            "US-NH" => UsSection::Nh,
            "US-NJ" => UsSection::Nj,
            "US-TN" => UsSection::Tn,
            "US-MN" => UsSection::Mn,
            "US-MD" => UsSection::Md,
            "US-IN" => UsSection::In,
            "US-KY" => UsSection::Ky,
            "US-RI" => UsSection::Ri,
            _ => UsSection::Nat,
        }
    }

    /// The GPP section id.
    pub fn id(self) -> u32 {
        self as u32
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
            UsSection::Ut => "usut",
            UsSection::Ct => "usct",
            UsSection::Fl => "usfl",
            UsSection::Mt => "usmt",
            UsSection::Or => "usor",
            UsSection::Tx => "ustx",
            UsSection::De => "usde",
            UsSection::Ia => "usia",
            UsSection::Ne => "usne",
            UsSection::Nh => "usnh",
            UsSection::Nj => "usnj",
            UsSection::Tn => "ustn",
            UsSection::Mn => "usmn",
            UsSection::Md => "usmd",
            UsSection::In => "usin",
            UsSection::Ky => "usky",
            UsSection::Ri => "usri",
        }
    }

    /// How the section is written, field by field, as the IAB's encoder (`@iabgpp/cmpapi` 3.2) defines
    /// it: the section's version, the core segment's fields in order, then the subsection after the `.`
    /// where the section has one (GPC, or the newest sections' sensitive data consents).
    #[rustfmt::skip]
    fn layout(self) -> Layout {
        use Field::*;
        use Shape::{Int, List};
        let (version, core, sub): (u8, &'static [Field], &'static [Field]) = match self {
            UsSection::Nat => (USNAT_VERSION, &[Version, SharingNotice, SaleOptOutNotice, SharingOptOutNotice,
                TargetedAdvertisingOptOutNotice, SensitiveDataProcessingOptOutNotice, SensitiveDataLimitUseNotice,
                SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(16),
                KnownChildSensitiveDataConsents(List(3)), PersonalDataConsents,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Ca => (1, &[Version, SaleOptOutNotice, SharingOptOutNotice, SensitiveDataLimitUseNotice,
                SaleOptOut, SharingOptOut, SensitiveDataProcessing(9), KnownChildSensitiveDataConsents(List(2)),
                PersonalDataConsents,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Va => (1, &[Version, SharingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8), KnownChildSensitiveDataConsents(Int),
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], NONE),
            UsSection::Co => (1, &[Version, SharingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(7), KnownChildSensitiveDataConsents(Int),
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Ut => (1, &[Version, SharingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SensitiveDataProcessingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8), KnownChildSensitiveDataConsents(Int),
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], NONE),
            UsSection::Ct => (1, &[Version, SharingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(List(3)),
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Fl => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(List(3)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], NONE),
            UsSection::Mt => (1, &[Version, SharingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(List(3)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Or => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(11),
                KnownChildSensitiveDataConsents(List(3)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Tx => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(Int), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::De => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(9),
                KnownChildSensitiveDataConsents(List(5)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Ia => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SensitiveDataOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(Int),
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Ne => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(Int), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Nh => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(List(3)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Nj => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(10),
                KnownChildSensitiveDataConsents(List(5)), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Tn => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(Int), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            UsSection::Mn => (1, &[Version, ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, SensitiveDataProcessing(8),
                KnownChildSensitiveDataConsents(Int), AdditionalDataProcessingConsent,
                MspaCoveredTransaction, MspaOptOutOptionMode, MspaServiceProviderMode], GPC),
            // The newest sections start with the MSPA fields (`MspaVersion` in place of `Version`, one
            // `MspaMode`); Indiana, Kentucky and Rhode Island keep their sensitive data in a subsection.
            UsSection::Md => (1, &[MspaVersion, MspaCoveredTransaction, MspaMode,
                ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, AdditionalDataProcessingConsent], GPC),
            UsSection::In | UsSection::Ky | UsSection::Ri => (1, &[MspaVersion, MspaCoveredTransaction, MspaMode,
                ProcessingNotice, SaleOptOutNotice, TargetedAdvertisingOptOutNotice,
                SaleOptOut, TargetedAdvertisingOptOut, KnownChildSensitiveDataConsents(Int),
                AdditionalDataProcessingConsent], SENSITIVE_DATA_CONSENTS),
        };
        Layout { version, core, sub }
    }
}

/// A section's layout ([`UsSection::layout`]).
struct Layout {
    /// The section's version, written in its first field (`Version`, or `MspaVersion`).
    version: u8,
    /// The core segment's fields, in order.
    core: &'static [Field],
    /// The subsection's fields, written after a `.`; none where the section has no subsection.
    sub: &'static [Field],
}

/// No subsection.
const NONE: &[Field] = &[];
/// The GPC subsection: type 1, and the signal.
const GPC: &[Field] = &[Field::GpcSegmentType, Field::Gpc];
/// The sensitive data consents subsection of `usin`, `usky` and `usri` (the IAB's encoder writes it,
/// with no type field; it reads a section without it too).
const SENSITIVE_DATA_CONSENTS: &[Field] = &[Field::SensitiveDataProcessing(8)];

/// A field of a US section. The variants are named as the GPP names the fields; each is an integer of
/// [`Field::bits`] bits, a list of such integers, or (GPC) a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Version,
    MspaVersion,
    SharingNotice,
    SaleOptOutNotice,
    SharingOptOutNotice,
    TargetedAdvertisingOptOutNotice,
    ProcessingNotice,
    SensitiveDataProcessingOptOutNotice,
    SensitiveDataLimitUseNotice,
    SensitiveDataOptOutNotice,
    SaleOptOut,
    SharingOptOut,
    TargetedAdvertisingOptOut,
    /// A list of this many categories.
    SensitiveDataProcessing(u8),
    /// One integer, or a list, as the section defines it.
    KnownChildSensitiveDataConsents(Shape),
    PersonalDataConsents,
    AdditionalDataProcessingConsent,
    MspaCoveredTransaction,
    MspaOptOutOptionMode,
    MspaServiceProviderMode,
    MspaMode,
    GpcSegmentType,
    Gpc,
}

/// A field that is one integer in some sections and a list in others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One integer.
    Int,
    /// A list of this many.
    List(u8),
}

impl Field {
    /// The field's GPP name.
    fn name(self) -> &'static str {
        match self {
            Field::Version => "Version",
            Field::MspaVersion => "MspaVersion",
            Field::SharingNotice => "SharingNotice",
            Field::SaleOptOutNotice => "SaleOptOutNotice",
            Field::SharingOptOutNotice => "SharingOptOutNotice",
            Field::TargetedAdvertisingOptOutNotice => "TargetedAdvertisingOptOutNotice",
            Field::ProcessingNotice => "ProcessingNotice",
            Field::SensitiveDataProcessingOptOutNotice => "SensitiveDataProcessingOptOutNotice",
            Field::SensitiveDataLimitUseNotice => "SensitiveDataLimitUseNotice",
            Field::SensitiveDataOptOutNotice => "SensitiveDataOptOutNotice",
            Field::SaleOptOut => "SaleOptOut",
            Field::SharingOptOut => "SharingOptOut",
            Field::TargetedAdvertisingOptOut => "TargetedAdvertisingOptOut",
            Field::SensitiveDataProcessing(_) => "SensitiveDataProcessing",
            Field::KnownChildSensitiveDataConsents(_) => "KnownChildSensitiveDataConsents",
            Field::PersonalDataConsents => "PersonalDataConsents",
            Field::AdditionalDataProcessingConsent => "AdditionalDataProcessingConsent",
            Field::MspaCoveredTransaction => "MspaCoveredTransaction",
            Field::MspaOptOutOptionMode => "MspaOptOutOptionMode",
            Field::MspaServiceProviderMode => "MspaServiceProviderMode",
            Field::MspaMode => "MspaMode",
            Field::GpcSegmentType => "GpcSegmentType",
            Field::Gpc => "Gpc",
        }
    }

    /// The width of the field (of each item, for a list) in bits: 6 for the version, 1 for the GPC flag,
    /// 2 for everything else (as in every US section of the IAB's encoder).
    fn bits(self) -> u32 {
        match self {
            Field::Version | Field::MspaVersion => 6,
            Field::Gpc => 1,
            _ => 2,
        }
    }
}

/// A US section for a visitor in a US opt-out region: every notice of sale, sharing, targeted
/// advertising or processing it has was given (the sensitive data notices are not applicable:
/// sensitive purposes are opt-in), `opted_out` says whether sale, sharing and targeted advertising are
/// refused, no consent field applies, and no MSPA-covered transaction; GPC in the subsection where the
/// section has one (Virginia's, Utah's and Florida's have none).
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
    /// the core segment's, then the subsection's where there is one.
    pub fn fields(&self) -> Vec<(&'static str, FieldValue)> {
        let layout = self.section.layout();
        layout.core.iter().chain(layout.sub).map(|f| (f.name(), self.value(*f, layout.version))).collect()
    }

    /// The section as written in the GPP string: the core segment, then `.` and the subsection where
    /// the section has one. Each field is as wide as the section's layout says.
    pub fn encode(&self) -> String {
        let layout = self.section.layout();
        let segment = |fields: &[Field]| {
            let mut bits = Bits::default();
            for field in fields {
                match self.value(*field, layout.version) {
                    FieldValue::Int(v) => bits.push(u32::from(v), field.bits()),
                    FieldValue::Bool(b) => bits.push(u32::from(b), field.bits()),
                    FieldValue::List(items) => items.iter().for_each(|v| bits.push(u32::from(*v), field.bits())),
                }
            }
            bits.base64url()
        };
        match layout.sub {
            [] => segment(layout.core),
            sub => format!("{}.{}", segment(layout.core), segment(sub)),
        }
    }

    /// The whole GPP string with this as its only section.
    pub fn gpp_string(&self) -> String {
        format!("{}~{}", header(&[self.section.id()]), self.encode())
    }

    /// What Assent writes in a field, by the field: the notices of sale, sharing, targeted advertising
    /// and processing given (1), the sensitive data notices not applicable (0); the opt-outs 1 (opted
    /// out) or 2; every consent not applicable (0); not an MSPA-covered transaction (2), no MSPA mode
    /// (0); GPC subsection type 1, and the signal.
    fn value(&self, field: Field, version: u8) -> FieldValue {
        use FieldValue::{Bool, Int, List};
        let out = if self.opted_out { 1 } else { 2 };
        match field {
            Field::Version | Field::MspaVersion => Int(version),
            Field::SharingNotice
            | Field::SaleOptOutNotice
            | Field::SharingOptOutNotice
            | Field::TargetedAdvertisingOptOutNotice
            | Field::ProcessingNotice => Int(1),
            Field::SensitiveDataProcessingOptOutNotice
            | Field::SensitiveDataLimitUseNotice
            | Field::SensitiveDataOptOutNotice => Int(0),
            Field::SaleOptOut | Field::SharingOptOut | Field::TargetedAdvertisingOptOut => Int(out),
            Field::SensitiveDataProcessing(n) | Field::KnownChildSensitiveDataConsents(Shape::List(n)) => {
                List(vec![0; usize::from(n)])
            }
            Field::KnownChildSensitiveDataConsents(Shape::Int)
            | Field::PersonalDataConsents
            | Field::AdditionalDataProcessingConsent => Int(0),
            Field::MspaCoveredTransaction => Int(2),
            Field::MspaOptOutOptionMode | Field::MspaServiceProviderMode | Field::MspaMode => Int(0),
            Field::GpcSegmentType => Int(1),
            Field::Gpc => Bool(self.gpc),
        }
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

/// A bit string under construction, written most significant bit first (GPP and TCF).
#[derive(Debug, Default)]
pub(crate) struct Bits(pub(crate) Vec<bool>);

impl Bits {
    pub(crate) fn push(&mut self, value: u32, width: u32) {
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
        while !self.0.len().is_multiple_of(8) {
            self.0.push(false);
        }
        self.base64url_padded(6)
    }

    /// Zero-padded to a multiple of `bits` (TCF pads to 24, as the IAB's encoder does), then
    /// base64url without `=`.
    pub(crate) fn base64url_padded(mut self, bits: usize) -> String {
        const DICT: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        while !self.0.len().is_multiple_of(bits) {
            self.0.push(false);
        }
        self.0.chunks(6).map(|c| DICT[c.iter().fold(0usize, |acc, b| acc << 1 | usize::from(*b))] as char).collect()
    }
}
