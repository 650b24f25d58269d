//! Callers and their tokens: `--token-file F`, one caller a line, `NAME SHA256HEX [admin]` (the
//! hex SHA-256 of the caller's secret; `#` starts a comment). A request is let in when the
//! SHA-256 of its `Authorization: Bearer SECRET` equals a line's hash, compared in constant time
//! with every line. The file holds no secret, and no secret is ever logged.

use std::path::Path;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::load::LoadFailure;

/// The largest token file read.
pub const MAX_TOKEN_FILE_BYTES: usize = 1024 * 1024;

/// Who is calling, once let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name from the token file (`local` without a token file).
    pub name: std::sync::Arc<str>,
    /// Whether the caller may reload.
    pub admin: bool,
}

/// The callers of a token file.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    callers: Vec<(Caller, [u8; 32])>,
}

/// Why a request was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A header that is not `Bearer SECRET`, or a secret no line has.
    Invalid,
}

impl Tokens {
    /// Reads a token file; an error names the file and line.
    pub fn from_file(path: &Path) -> Result<Tokens, LoadFailure> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|e| {
            LoadFailure::at(format!("cannot read token file `{name}`: {e}"), &name, None)
        })?;
        if text.len() > MAX_TOKEN_FILE_BYTES {
            return Err(LoadFailure::at(
                format!(
                    "token file `{name}` is larger than the limit of {MAX_TOKEN_FILE_BYTES} bytes"
                ),
                &name,
                None,
            ));
        }
        let text = String::from_utf8(text).map_err(|_| {
            LoadFailure::at(
                format!("token file `{name}` is not valid UTF-8"),
                &name,
                None,
            )
        })?;
        Tokens::parse(&text, &name)
    }

    /// Parses the text of a token file named `file`.
    pub fn parse(text: &str, file: &str) -> Result<Tokens, LoadFailure> {
        let mut callers: Vec<(Caller, [u8; 32])> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let content = line.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            let bad = |message: String| LoadFailure::at(message, file, Some(number));
            let fields: Vec<&str> = content.split_whitespace().collect();
            let (name, hex, admin) = match fields.as_slice() {
                [name, hex] => (*name, *hex, false),
                [name, hex, "admin"] => (*name, *hex, true),
                [_, _, other] => {
                    return Err(bad(format!(
                        "unknown flag `{other}`; a line is `NAME SHA256HEX [admin]`"
                    )))
                }
                _ => return Err(bad(
                    "a line is `NAME SHA256HEX [admin]` (the hex SHA-256 of the caller's secret)"
                        .to_string(),
                )),
            };
            let hash = parse_hex(hex).ok_or_else(|| {
                bad(format!(
                    "caller `{name}`: the hash must be 64 hexadecimal digits (the SHA-256 of the secret, e.g. from `printf %s SECRET | sha256sum`)"
                ))
            })?;
            if callers.iter().any(|(c, _)| &*c.name == name) {
                return Err(bad(format!("caller `{name}` is named twice")));
            }
            if callers.iter().any(|(_, h)| *h == hash) {
                return Err(bad(format!(
                    "caller `{name}` has the same secret as another caller; give each its own"
                )));
            }
            callers.push((
                Caller {
                    name: name.into(),
                    admin,
                },
                hash,
            ));
        }
        Ok(Tokens { callers })
    }

    /// How many callers the file names.
    pub fn len(&self) -> usize {
        self.callers.len()
    }

    /// Whether the file names no caller (then nobody is let in).
    pub fn is_empty(&self) -> bool {
        self.callers.is_empty()
    }

    /// The caller whose secret an `Authorization` header value carries.
    pub fn check(&self, authorization: Option<&[u8]>) -> Result<Caller, AuthError> {
        let value = authorization.ok_or(AuthError::Missing)?;
        let secret = strip_bearer(value).ok_or(AuthError::Invalid)?;
        let presented: [u8; 32] = Sha256::digest(secret).into();
        let mut found: Option<&Caller> = None;
        // Every line is compared, whichever matches: the time taken does not tell which.
        for (caller, hash) in &self.callers {
            if bool::from(hash.ct_eq(&presented)) {
                found = Some(caller);
            }
        }
        found.cloned().ok_or(AuthError::Invalid)
    }
}

/// The secret of `Bearer SECRET` (the scheme in any case, RFC 7235).
fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let secret = rest.trim_ascii();
    (!secret.is_empty()).then_some(secret)
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |b: u8| (b as char).to_digit(16);
        let value = digit(pair[0])? * 16 + digit(pair[1])?;
        out[i] = u8::try_from(value).ok()?;
    }
    Some(out)
}

/// The hex SHA-256 of a secret, as a token file holds it.
pub fn hash_secret(secret: &str) -> String {
    crate::load::hex(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_callers_and_checks_secrets() {
        let text = format!(
            "# callers\ngateway {}\nops {} admin  # the operators\n\n",
            hash_secret("s3cret"),
            hash_secret("adm1n")
        );
        let tokens = Tokens::parse(&text, "tokens").unwrap();
        assert_eq!(tokens.len(), 2);
        let gateway = tokens.check(Some(b"Bearer s3cret")).unwrap();
        assert_eq!((&*gateway.name, gateway.admin), ("gateway", false));
        assert!(tokens.check(Some(b"bearer adm1n")).unwrap().admin);
        assert_eq!(tokens.check(None), Err(AuthError::Missing));
        assert_eq!(tokens.check(Some(b"Bearer wrong")), Err(AuthError::Invalid));
        assert_eq!(tokens.check(Some(b"Basic s3cret")), Err(AuthError::Invalid));
        assert_eq!(tokens.check(Some(b"Bearer ")), Err(AuthError::Invalid));
        assert_eq!(tokens.check(Some(b"Bear")), Err(AuthError::Invalid));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Tokens::parse("# c\nx 1234\n", "t").unwrap_err();
        assert_eq!((e.file.as_deref(), e.line), (Some("t"), Some(2)));
        assert!(e.message.contains("64 hexadecimal digits"), "{e}");
        let h = hash_secret("a");
        let e = Tokens::parse(&format!("x {h}\nx {h}\n"), "t").unwrap_err();
        assert!(e.message.contains("named twice"), "{e}");
        let e = Tokens::parse(&format!("x {h} root\n"), "t").unwrap_err();
        assert!(e.message.contains("unknown flag `root`"), "{e}");
    }
}
