//! The GPP `usnat` encoder, read back by a reader written here from the IAB's field list (the e2e
//! suite checks the same strings with the IAB's own `@iabgpp/cmpapi`).

use assent_core::gpp::{UsNat, USNAT_VERSION};

/// Encodes the fields the bytes give (each 2-bit field 0 to 3, as the spec allows) and reads them back.
pub fn usnat(data: &[u8]) {
    let mut bytes = data.iter().copied().chain(std::iter::repeat(0));
    let mut field = || bytes.next().unwrap_or(0) & 3;
    let given = UsNat {
        sharing_notice: field(),
        sale_opt_out_notice: field(),
        sharing_opt_out_notice: field(),
        targeted_advertising_opt_out_notice: field(),
        sensitive_data_processing_opt_out_notice: field(),
        sensitive_data_limit_use_notice: field(),
        sale_opt_out: field(),
        sharing_opt_out: field(),
        targeted_advertising_opt_out: field(),
        sensitive_data_processing: std::array::from_fn(|_| field()),
        known_child_sensitive_data_consents: std::array::from_fn(|_| field()),
        personal_data_consents: field(),
        mspa_covered_transaction: field(),
        mspa_opt_out_option_mode: field(),
        mspa_service_provider_mode: field(),
        gpc: field() & 1 == 1,
    };
    let encoded = given.encode();
    let (core, gpc) = encoded.split_once('.').expect("a core segment and a GPC segment");
    let mut core = Reader::new(core);
    assert_eq!(core.take(6), u32::from(USNAT_VERSION));
    let mut next = || u8::try_from(core.take(2)).expect("two bits");
    let read = UsNat {
        sharing_notice: next(),
        sale_opt_out_notice: next(),
        sharing_opt_out_notice: next(),
        targeted_advertising_opt_out_notice: next(),
        sensitive_data_processing_opt_out_notice: next(),
        sensitive_data_limit_use_notice: next(),
        sale_opt_out: next(),
        sharing_opt_out: next(),
        targeted_advertising_opt_out: next(),
        sensitive_data_processing: std::array::from_fn(|_| next()),
        known_child_sensitive_data_consents: std::array::from_fn(|_| next()),
        personal_data_consents: next(),
        mspa_covered_transaction: next(),
        mspa_opt_out_option_mode: next(),
        mspa_service_provider_mode: next(),
        gpc: {
            let mut g = Reader::new(gpc);
            assert_eq!(g.take(2), 1, "subsection type 1: GPC");
            g.take(1) == 1
        },
    };
    assert_eq!(read, given, "{encoded}");
    assert!(given.gpp_string().ends_with(&format!("~{encoded}")));
}

/// Bits of a GPP base64url segment, most significant first.
struct Reader {
    bits: Vec<bool>,
    at: usize,
}

impl Reader {
    fn new(segment: &str) -> Reader {
        const DICT: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bits = segment
            .chars()
            .flat_map(|c| {
                let v = DICT.find(c).unwrap_or_else(|| panic!("{c:?} is not base64url"));
                (0..6).rev().map(move |i| v >> i & 1 == 1)
            })
            .collect();
        Reader { bits, at: 0 }
    }

    fn take(&mut self, n: usize) -> u32 {
        let bits = &self.bits[self.at..self.at + n];
        self.at += n;
        bits.iter().fold(0, |acc, b| acc << 1 | u32::from(*b))
    }
}
