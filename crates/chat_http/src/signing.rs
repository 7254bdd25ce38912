//! Time-limited signed URLs for stored files, so an `<img>` can load an attachment
//! without a credential: `path?expires=<unix seconds>&signature=<hex HMAC-SHA256>`.
//!
//! The signature covers the path and the expiry (`path + "\n" + expires`), so changing
//! either, or the signature, makes the URL invalid; past its expiry it is refused even
//! when intact. Both answer 403.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// The signature is genuine but `now` is past `expires`.
    Expired,
    /// The signature is malformed or does not match the path and expiry.
    Invalid,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Expired => "signed URL expired",
            SignatureError::Invalid => "invalid URL signature",
        })
    }
}

impl std::error::Error for SignatureError {}

/// Signs and checks file URLs with a server secret (which should be at least 32 random
/// bytes, and the same on every node).
#[derive(Clone)]
pub struct UrlSigner {
    mac: HmacSha256,
}

impl fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

impl UrlSigner {
    pub fn new(secret: &[u8]) -> Self {
        // HMAC takes keys of any length (longer ones are hashed), so this cannot fail.
        let mac = match HmacSha256::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        Self { mac }
    }

    fn mac(&self, path: &str, expires: i64) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// The lowercase hex HMAC-SHA256 of `path + "\n" + expires`.
    pub fn sign(&self, path: &str, expires: i64) -> String {
        let tag = self.mac(path, expires).finalize().into_bytes();
        let mut hex = String::with_capacity(tag.len() * 2);
        for byte in tag {
            hex.push(HEX[usize::from(byte >> 4)] as char);
            hex.push(HEX[usize::from(byte & 0x0F)] as char);
        }
        hex
    }

    /// `Ok` when `signature` (hex, either case) is this signer's for `path` and
    /// `expires`, and `now` is not past `expires`. The signature is checked first and
    /// in constant time, so `Expired` only ever describes a genuine URL.
    pub fn verify(
        &self,
        path: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), SignatureError> {
        let tag = decode_hex(signature).ok_or(SignatureError::Invalid)?;
        self.mac(path, expires)
            .verify_slice(&tag)
            .map_err(|_| SignatureError::Invalid)?;
        if now > expires {
            return Err(SignatureError::Expired);
        }
        Ok(())
    }

    /// `path?expires=…&signature=…`, valid for `ttl_secs` from `now`. `path` must not
    /// already carry a query string.
    pub fn signed_path(&self, path: &str, now: i64, ttl_secs: i64) -> String {
        let expires = now.saturating_add(ttl_secs);
        let signature = self.sign(path, expires);
        format!("{path}?expires={expires}&signature={signature}")
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The bytes of an even-length hex string; `None` for anything else.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = hex.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/files/accounts/7/attachments/0000.png";
    const NOW: i64 = 1_700_000_000;

    fn signer() -> UrlSigner {
        UrlSigner::new(b"a server secret of thirty-two b.")
    }

    /// The `(expires, signature)` of a `signed_path` URL.
    fn query(url: &str) -> Option<(i64, String)> {
        let (_, query) = url.split_once('?')?;
        let mut expires = None;
        let mut signature = None;
        for pair in query.split('&') {
            match pair.split_once('=')? {
                ("expires", v) => expires = v.parse().ok(),
                ("signature", v) => signature = Some(v.to_owned()),
                _ => return None,
            }
        }
        Some((expires?, signature?))
    }

    #[test]
    fn a_signed_path_verifies_until_it_expires() {
        let url = signer().signed_path(PATH, NOW, 300);
        assert!(url.starts_with(&format!("{PATH}?expires={}&signature=", NOW + 300)));
        let Some((expires, signature)) = query(&url) else {
            panic!("no query in {url}");
        };
        assert_eq!(expires, NOW + 300);
        assert_eq!(signature.len(), 64);
        assert_eq!(signer().verify(PATH, expires, &signature, NOW), Ok(()));
        assert_eq!(
            signer().verify(PATH, expires, &signature, NOW + 300),
            Ok(())
        );
        assert_eq!(
            signer().verify(PATH, expires, &signature, NOW + 301),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn the_signature_is_hex_hmac_sha256_of_path_newline_expires() {
        // Expected values from Python's `hmac.new(key, msg, hashlib.sha256).hexdigest()`.
        let signer = UrlSigner::new(b"Jefe");
        assert_eq!(
            signer.sign("/p", 42),
            "81d49ff10b0eb933d13bd6d4b714ce02ad62ab77ad41f7f311a313036712e3dd"
        );
        assert_eq!(
            signer.sign("/files/a.png", -5),
            "41151f15c125e4fe608b67316cc6d986989bd3e93640dc035aee5b8f6782bbe3"
        );
    }

    #[test]
    fn a_tampered_path_is_invalid() {
        let signature = signer().sign(PATH, NOW + 60);
        for path in [
            "/files/accounts/7/attachments/0001.png",
            "/files/accounts/8/attachments/0000.png",
            "/files/accounts/7/attachments/0000.png/",
            "",
        ] {
            assert_eq!(
                signer().verify(path, NOW + 60, &signature, NOW),
                Err(SignatureError::Invalid),
                "{path}"
            );
        }
    }

    #[test]
    fn a_tampered_expiry_is_invalid_not_extended() {
        let signature = signer().sign(PATH, NOW + 60);
        for expires in [NOW + 61, NOW + 3600, i64::MAX, NOW + 59] {
            assert_eq!(
                signer().verify(PATH, expires, &signature, NOW),
                Err(SignatureError::Invalid),
                "{expires}"
            );
        }
        // An expired URL pushed into the future is invalid, not merely expired.
        let old = signer().sign(PATH, NOW - 10);
        assert_eq!(
            signer().verify(PATH, NOW + 10, &old, NOW),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn a_tampered_or_malformed_signature_is_invalid() {
        let good = signer().sign(PATH, NOW + 60);
        let mut flipped = good.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap_or_default();
        for signature in [
            flipped.as_str(),
            &good[..62],
            &good[..63],
            &format!("{good}00"),
            "",
            "zz",
            &good.replace(|c: char| c.is_ascii_digit(), "g"),
            &format!("{}é", &good[..62]),
        ] {
            assert_eq!(
                signer().verify(PATH, NOW + 60, signature, NOW),
                Err(SignatureError::Invalid),
                "{signature:?}"
            );
        }
    }

    #[test]
    fn upper_case_hex_is_accepted() {
        let signature = signer().sign(PATH, NOW + 60).to_ascii_uppercase();
        assert_eq!(signer().verify(PATH, NOW + 60, &signature, NOW), Ok(()));
    }

    #[test]
    fn another_secret_does_not_verify() {
        let signature = signer().sign(PATH, NOW + 60);
        let other = UrlSigner::new(b"another secret");
        assert_ne!(other.sign(PATH, NOW + 60), signature);
        assert_eq!(
            other.verify(PATH, NOW + 60, &signature, NOW),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn long_secrets_work_and_the_secret_never_prints() {
        let signer = UrlSigner::new(&[7; 200]);
        let signature = signer.sign(PATH, NOW);
        assert_eq!(signer.verify(PATH, NOW, &signature, NOW), Ok(()));
        assert_eq!(format!("{signer:?}"), "UrlSigner(..)");
    }

    #[test]
    fn ttl_overflow_saturates() {
        let url = signer().signed_path(PATH, NOW, i64::MAX);
        assert_eq!(query(&url).map(|(e, _)| e), Some(i64::MAX));
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ffA5"), Some(vec![0x00, 0xFF, 0xA5]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex(""), None);
        assert_eq!(decode_hex("0g"), None);
        assert_eq!(decode_hex("+1"), None);
    }
}
