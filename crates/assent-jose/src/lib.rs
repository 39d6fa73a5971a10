//! JWS compact serialisation (RFC 7515) for receipts: verification with the public JWK carried in the
//! protected header (EdDSA/Ed25519, or ES256/P-256 where the browser lacks Ed25519), and the
//! collector's own EdDSA signature on acknowledgments.

use assent_core::json::{as_string, Fields, Json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use sha2::{Digest, Sha256};

/// Why a JWS was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not a JWS, or a header that cannot be used.
    #[error("malformed receipt: {0}")]
    Malformed(String),
    /// The signature does not verify.
    #[error("bad signature: {0}")]
    BadSignature(String),
}

/// A verified JWS: its payload text and the signer's key thumbprint.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The payload, as UTF-8 text.
    pub payload: String,
    /// RFC 7638 thumbprint of the signer's public JWK (base64url SHA-256).
    pub key_thumbprint: String,
}

fn part(text: &str, what: &str) -> Result<Vec<u8>, JwsError> {
    B64.decode(text).map_err(|_| JwsError::Malformed(format!("the {what} is not base64url without padding")))
}

/// Verifies a compact JWS whose protected header carries the public key as `jwk`.
pub fn verify(compact: &str) -> Result<Verified, JwsError> {
    let compact = compact.trim();
    let parts: Vec<&str> = compact.split('.').collect();
    let [header_b64, payload_b64, sig_b64] = parts[..] else {
        return Err(JwsError::Malformed("a JWS compact string has three base64url parts separated by `.`".into()));
    };
    let header_text = String::from_utf8(part(header_b64, "header")?)
        .map_err(|_| JwsError::Malformed("the header is not UTF-8".into()))?;
    let header = Json::parse(&header_text).map_err(|e| JwsError::Malformed(format!("header: {e}")))?;
    let h = Fields::new(&header, "header", &["alg", "jwk", "typ", "kid"])
        .map_err(|e| JwsError::Malformed(e.to_string()))?;
    let alg = h.string("alg").ok().flatten().unwrap_or_default();
    match alg.as_str() {
        "EdDSA" | "ES256" => {}
        "" => return Err(JwsError::Malformed("header.alg: missing".into())),
        other => {
            return Err(JwsError::Malformed(format!(
                "header.alg `{other}` is not accepted: receipts are signed with EdDSA (Ed25519) or ES256"
            )))
        }
    }
    let jwk = h.get("jwk").ok_or_else(|| JwsError::Malformed("header.jwk: missing: the signer's public key".into()))?;
    let signing_input = format!("{header_b64}.{payload_b64}");
    let signature = part(sig_b64, "signature")?;
    let jwk_field = |name: &str| -> Result<String, JwsError> {
        let f = jwk.as_object().and_then(|m| m.iter().find(|(k, _)| k == name)).map(|(_, v)| v);
        f.and_then(|v| as_string(v, name).ok())
            .ok_or_else(|| JwsError::Malformed(format!("header.jwk.{name}: missing or not a string")))
    };
    let thumbprint_input = match alg.as_str() {
        "EdDSA" => {
            if jwk_field("kty")? != "OKP" || jwk_field("crv")? != "Ed25519" {
                return Err(JwsError::Malformed(
                    "header.jwk: EdDSA needs {\"kty\":\"OKP\",\"crv\":\"Ed25519\"}".into(),
                ));
            }
            let x = jwk_field("x")?;
            let key: [u8; 32] = part(&x, "jwk.x")?
                .try_into()
                .map_err(|_| JwsError::Malformed("header.jwk.x: an Ed25519 key is 32 bytes".into()))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&key)
                .map_err(|_| JwsError::Malformed("header.jwk.x: not a valid Ed25519 point".into()))?;
            let sig = ed25519_dalek::Signature::from_slice(&signature)
                .map_err(|_| JwsError::BadSignature("an Ed25519 signature is 64 bytes".into()))?;
            verify_strict(&key, signing_input.as_bytes(), &sig).map_err(|_| {
                JwsError::BadSignature("the Ed25519 signature does not match header and payload".into())
            })?;
            format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#)
        }
        "ES256" => {
            if jwk_field("kty")? != "EC" || jwk_field("crv")? != "P-256" {
                return Err(JwsError::Malformed("header.jwk: ES256 needs {\"kty\":\"EC\",\"crv\":\"P-256\"}".into()));
            }
            let (x, y) = (jwk_field("x")?, jwk_field("y")?);
            let (xb, yb) = (part(&x, "jwk.x")?, part(&y, "jwk.y")?);
            if xb.len() != 32 || yb.len() != 32 {
                return Err(JwsError::Malformed("header.jwk: P-256 coordinates are 32 bytes each".into()));
            }
            let point = p256::EncodedPoint::from_affine_coordinates(xb.as_slice().into(), yb.as_slice().into(), false);
            let key = p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                .map_err(|_| JwsError::Malformed("header.jwk: not a point on P-256".into()))?;
            let sig = p256::ecdsa::Signature::from_slice(&signature)
                .map_err(|_| JwsError::BadSignature("an ES256 signature is 64 bytes (r || s)".into()))?;
            key.verify(signing_input.as_bytes(), &sig)
                .map_err(|_| JwsError::BadSignature("the ES256 signature does not match header and payload".into()))?;
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
        }
        _ => unreachable!("alg was checked above"),
    };
    let payload = String::from_utf8(part(payload_b64, "payload")?)
        .map_err(|_| JwsError::Malformed("the payload is not UTF-8".into()))?;
    Ok(Verified { payload, key_thumbprint: B64.encode(Sha256::digest(thumbprint_input.as_bytes())) })
}

/// The y coordinates (sign bit cleared, little-endian) that an encoding of a small-order point can have:
/// 0, 1, p − 1, the non-canonical p and p + 1, and ±√((√(d + 1) + 1) / d) of the order-8 points.
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    let mut ff = [0xff; 32];
    ff[31] = 0x7f;
    let (mut minus_one, mut p, mut p_plus_one) = (ff, ff, ff);
    minus_one[0] = 0xec;
    p[0] = 0xed;
    p_plus_one[0] = 0xee;
    let mut one = [0; 32];
    one[0] = 1;
    [
        [0; 32],
        one,
        minus_one,
        p,
        p_plus_one,
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
            0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
            0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
    ]
};

/// Exactly `VerifyingKey::verify_strict` (a small-order key or R is refused, so one signature cannot
/// stand for several messages), at the cost of a plain `verify` (about 10 % less per receipt).
///
/// `verify_strict` decompresses R to test its order. That is only needed when R's y coordinate is one
/// a small-order point can have; for every other R the plain check answers the same: an R that is not
/// a point, or not in canonical form, never equals the canonical encoding that verification recomputes.
fn verify_strict(
    key: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    sig: &ed25519_dalek::Signature,
) -> Result<(), ed25519_dalek::SignatureError> {
    let mut y = *sig.r_bytes();
    y[31] &= 0x7f;
    if key.is_weak() || SMALL_ORDER_Y.contains(&y) {
        return key.verify_strict(message, sig);
    }
    key.verify(message, sig)
}

/// Verifies a collector's acknowledgment (an EdDSA JWS with `kid` in its header) against the keys of a
/// JWKS document (`/.well-known/jwks.json`); returns its payload.
pub fn verify_ack(compact: &str, jwks: &Json) -> Result<String, JwsError> {
    verify_with_jwks(compact, jwks, ACK_TYPE)
}

/// The `typ` of a collector's acknowledgment.
pub const ACK_TYPE: &str = "assent-ack+jws";
/// The `typ` of a signed training-run manifest (`assent filter --manifest`).
pub const MANIFEST_TYPE: &str = "assent-manifest+jws";
/// The `typ` of a collector's webhook: a withdrawal or an expiry, signed with the collector's key.
pub const EVENT_TYPE: &str = "assent-event+jws";

/// Verifies an EdDSA JWS of type `typ` with `kid` in its header against the keys of a JWKS document;
/// returns its payload.
pub fn verify_with_jwks(compact: &str, jwks: &Json, typ: &str) -> Result<String, JwsError> {
    let compact = compact.trim();
    let mut parts = compact.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("a JWS compact string has three base64url parts separated by `.`".into()));
    };
    let header = String::from_utf8(part(header_b64, "header")?)
        .map_err(|_| JwsError::Malformed("the header is not UTF-8".into()))?;
    let header = Json::parse(&header).map_err(|e| JwsError::Malformed(format!("header: {e}")))?;
    let member = |json: &Json, name: &str| -> Option<String> {
        json.as_object()?.iter().find(|(k, _)| k == name).and_then(|(_, v)| as_string(v, name).ok())
    };
    if member(&header, "alg").as_deref() != Some("EdDSA") || member(&header, "typ").as_deref() != Some(typ) {
        return Err(JwsError::Malformed(format!("not an {typ}: the header needs alg EdDSA and typ {typ}")));
    }
    let kid = member(&header, "kid").ok_or_else(|| JwsError::Malformed("header.kid: missing".into()))?;
    let keys = jwks.as_object().and_then(|m| m.iter().find(|(k, _)| k == "keys")).and_then(|(_, v)| match v {
        Json::Array(keys) => Some(keys),
        _ => None,
    });
    let key = keys
        .into_iter()
        .flatten()
        .find(|k| {
            member(k, "kid").as_deref() == Some(&kid)
                && member(k, "kty").as_deref() == Some("OKP")
                && member(k, "crv").as_deref() == Some("Ed25519")
        })
        .ok_or_else(|| JwsError::BadSignature(format!("key `{kid}` is not an Ed25519 key in the JWKS")))?;
    let x: [u8; 32] = part(&member(key, "x").unwrap_or_default(), "JWKS key's x")?
        .try_into()
        .map_err(|_| JwsError::Malformed(format!("JWKS key `{kid}`: an Ed25519 key is 32 bytes")))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
        .map_err(|_| JwsError::Malformed(format!("JWKS key `{kid}`: not a valid Ed25519 point")))?;
    let sig = ed25519_dalek::Signature::from_slice(&part(sig_b64, "signature")?)
        .map_err(|_| JwsError::BadSignature("an Ed25519 signature is 64 bytes".into()))?;
    key.verify_strict(format!("{header_b64}.{payload_b64}").as_bytes(), &sig)
        .map_err(|_| JwsError::BadSignature(format!("the signature does not match key `{kid}`")))?;
    String::from_utf8(part(payload_b64, "payload")?).map_err(|_| JwsError::Malformed("the payload is not UTF-8".into()))
}

/// SHA-256 of a receipt's compact string, lowercase hex: the value the next receipt's `prev` names.
pub fn receipt_hash(compact: &str) -> String {
    Sha256::digest(compact.trim().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The public JWK of an Ed25519 key for a JWKS, with its RFC 7638 thumbprint as `kid`.
pub fn public_jwk(x: [u8; 32]) -> Json {
    let s = |v: &str| Json::String(v.to_string());
    let x = B64.encode(x);
    let kid = B64.encode(Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#).as_bytes()));
    Json::Object(vec![
        ("alg".into(), s("EdDSA")),
        ("crv".into(), s("Ed25519")),
        ("kid".into(), s(&kid)),
        ("kty".into(), s("OKP")),
        ("use".into(), s("sig")),
        ("x".into(), s(&x)),
    ])
}

/// The collector's signing key, published at `/.well-known/jwks.json`.
#[derive(Debug, Clone)]
pub struct CollectorKey {
    key: SigningKey,
    /// Key id: the RFC 7638 thumbprint.
    pub kid: String,
}

impl CollectorKey {
    /// From the 32 secret bytes.
    pub fn from_secret(secret: [u8; 32]) -> CollectorKey {
        let key = SigningKey::from_bytes(&secret);
        let x = B64.encode(key.verifying_key().to_bytes());
        let kid = B64.encode(Sha256::digest(format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#).as_bytes()));
        CollectorKey { key, kid }
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> Json {
        public_jwk(self.key.verifying_key().to_bytes())
    }

    /// Signs a canonical JSON payload as an acknowledgment: a compact JWS with `kid` in the header.
    pub fn sign(&self, payload: &Json) -> String {
        self.sign_typed(payload, ACK_TYPE)
    }

    /// Signs a canonical JSON payload as a compact JWS of type `typ` with `kid` in the header.
    pub fn sign_typed(&self, payload: &Json, typ: &str) -> String {
        let header = format!(r#"{{"alg":"EdDSA","kid":"{}","typ":"{typ}"}}"#, self.kid);
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload.canonical()));
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(sig.to_bytes()))
    }
}

/// The payload of a compact JWS as text, without verifying anything (for labelling a failure).
pub fn unverified_payload(compact: &str) -> Option<String> {
    let payload = compact.trim().split('.').nth(1)?;
    String::from_utf8(B64.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::{verify_strict, SMALL_ORDER_Y};
    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::IsIdentity;
    use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
    use sha2::{Digest, Sha512};

    /// Guards the table behind the fast strict check: every small-order point has one of its y values.
    /// The torsion group is cyclic of order 8, so the multiples of one order-8 point are all of them.
    #[test]
    fn every_small_order_point_has_a_listed_y() {
        let t = CompressedEdwardsY(SMALL_ORDER_Y[5]).decompress().expect("a point");
        assert!(t.is_small_order() && !(t + t + t + t).is_identity(), "an order-8 point");
        let mut multiple = curve25519_dalek::EdwardsPoint::default();
        for _ in 0..8 {
            let mut y = multiple.compress().to_bytes();
            y[31] &= 0x7f;
            assert!(SMALL_ORDER_Y.contains(&y), "{y:02x?} is missing");
            multiple += t;
        }
        assert!(multiple.is_identity());
        for y in SMALL_ORDER_Y {
            assert!(
                CompressedEdwardsY(y).decompress().is_some_and(|p| p.is_small_order()),
                "{y:02x?} is not a small-order y"
            );
        }
    }

    fn k(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
        Scalar::from_bytes_mod_order_wide(
            &Sha512::new().chain_update(r).chain_update(a).chain_update(message).finalize().into(),
        )
    }

    /// Guards that the fast path answers as `verify_strict` does, including the two signatures that
    /// plain verification accepts and strict verification refuses.
    #[test]
    fn answers_exactly_as_verify_strict() {
        let cases = |key: &VerifyingKey, message: &[u8], sig: &Signature| {
            assert_eq!(verify_strict(key, message, sig).is_ok(), key.verify_strict(message, sig).is_ok(), "{sig:?}");
            verify_strict(key, message, sig).is_ok()
        };
        for n in 0u8..64 {
            let signer = SigningKey::from_bytes(&[n.wrapping_mul(37).wrapping_add(1); 32]);
            let key = signer.verifying_key();
            let message = [b"receipt ".as_slice(), &[n]].concat();
            let sig = signer.sign(&message);
            assert!(cases(&key, &message, &sig), "an honest signature verifies");
            assert!(!cases(&key, b"another message", &sig));
            let mut bytes = sig.to_bytes();
            bytes[usize::from(n % 64)] ^= 1 << (n % 8);
            cases(&key, &message, &Signature::from_bytes(&bytes));

            // R = the identity and s = k·a: the equation holds, so plain `verify` accepts it.
            let identity = SMALL_ORDER_Y[1];
            let s = k(&identity, key.as_bytes(), &message) * signer.to_scalar();
            let forged = Signature::from_components(identity, s.to_bytes());
            assert!(key.verify(&message, &forged).is_ok(), "the case plain verification lets through");
            assert!(!cases(&key, &message, &forged), "a small-order R is refused");
        }
        // With a small-order key (here the identity), R = s·B verifies any message plainly, for any s.
        let weak = VerifyingKey::from_bytes(&SMALL_ORDER_Y[1]).unwrap();
        let s = Scalar::from(5u8);
        let r = curve25519_dalek::EdwardsPoint::mul_base(&s).compress().to_bytes();
        let any = Signature::from_components(r, s.to_bytes());
        assert!(weak.verify(b"anything at all", &any).is_ok());
        assert!(!cases(&weak, b"anything at all", &any), "a small-order key is refused");
    }
}
