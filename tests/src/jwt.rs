//! Signed tokens (JWT) as an integration's server mints them: built by hand here
//! (base64url without padding of the header and claims, an HMAC over `header.claims`),
//! so that the tests share no code with the server's own verification.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Sha256, Sha512};

use crate::assertions::unix_now;

/// base64url without padding (RFC 4648 §5), as JWTs encode their parts.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let sextets = [(n >> 18) & 63, (n >> 12) & 63, (n >> 6) & 63, n & 63];
        for sextet in &sextets[..=chunk.len()] {
            out.push(char::from(ALPHABET[*sextet as usize]));
        }
    }
    out
}

/// `base64url(header).base64url(claims)`: what a signature covers.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        base64url(header.to_string().as_bytes()),
        base64url(claims.to_string().as_bytes())
    )
}

fn hmac_sha256(key: &str, message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha512(key: &str, message: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha512>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(message.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A token with `header` and `claims`, signed HMAC-SHA256 with `secret` (whatever the
/// header says its algorithm is).
pub fn sign_hs256(secret: &str, header: &Value, claims: &Value) -> String {
    let input = signing_input(header, claims);
    let signature = hmac_sha256(secret, &input);
    format!("{input}.{}", base64url(&signature))
}

/// An HS256 token with `claims`, as the docs tell an integration to mint it.
pub fn mint_jwt(secret: &str, claims: &Value) -> String {
    sign_hs256(secret, &json!({ "alg": "HS256", "typ": "JWT" }), claims)
}

/// An HS512 token with `claims`, signed with `secret`: a well-made token of an algorithm
/// the server does not take.
pub fn mint_hs512(secret: &str, claims: &Value) -> String {
    let input = signing_input(&json!({ "alg": "HS512", "typ": "JWT" }), claims);
    format!("{input}.{}", base64url(&hmac_sha512(secret, &input)))
}

/// An unsigned token (`alg: none`, empty signature).
pub fn unsigned_jwt(claims: &Value) -> String {
    format!(
        "{}.",
        signing_input(&json!({ "alg": "none", "typ": "JWT" }), claims)
    )
}

/// The usual claims of a token of client `client_id` for user `sub`: issued now,
/// expiring in an hour.
pub fn claims_for(client_id: &str, sub: &str) -> Value {
    let now = unix_now();
    json!({ "iss": client_id, "sub": sub, "iat": now, "exp": now + 3600 })
}

/// `claims` with `key` set to `value` (or removed, for `Value::Null`).
pub fn with_claim(mut claims: Value, key: &str, value: Value) -> Value {
    if let Some(object) = claims.as_object_mut() {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.to_owned(), value);
        }
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_without_padding() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), encoded, "{input:?}");
        }
        assert_eq!(base64url(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256("Jefe", "what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
