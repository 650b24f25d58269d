//! Callers and their tokens: `--token-file F`, one caller a line, `NAME SHA256HEX [admin]
//! [names-users]` (the hex SHA-256 of the caller's secret; `#` starts a comment). A request is let in when the
//! SHA-256 of its `Authorization: Bearer SECRET` equals a line's hash, compared in constant time
//! with every line. The file holds no secret, and no secret is ever logged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::load::LoadFailure;
use crate::state::ReloadError;

/// The largest token file read.
pub const MAX_TOKEN_FILE_BYTES: usize = 1024 * 1024;

/// Who is calling, once let in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's name from the token file (`local` without a token file).
    pub name: std::sync::Arc<str>,
    /// Whether the caller may reload.
    pub admin: bool,
    /// Whether the caller may name the end user it asks for (`names-users`; the gateway's
    /// `X-AIPolicy-User`). Without it, a caller asks only as itself.
    pub names_users: bool,
}

/// The callers of a token file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
    /// Reads a token file; an error names the file and line (and [`LoadFailure::problems`]
    /// every broken line).
    pub fn from_file(path: &Path) -> Result<Tokens, LoadFailure> {
        let name = path.display().to_string();
        Tokens::parse(&read_text(path)?, &name)
    }

    /// Parses the text of a token file named `file`; an error names the first broken line, and
    /// [`LoadFailure::problems`] every one.
    pub fn parse(text: &str, file: &str) -> Result<Tokens, LoadFailure> {
        let (tokens, problems) = Tokens::parse_lines(text, file);
        match problems.first() {
            None => Ok(tokens),
            Some(first) => {
                let mut failure = first.clone();
                failure.problems = problems.iter().flat_map(|p| p.problems.clone()).collect();
                Err(failure)
            }
        }
    }

    /// Parses the text of a token file named `file` line by line: the callers of the lines that
    /// can be read, and a problem for each line that cannot. A name on two lines, or one secret
    /// on two, is a problem on the later line, and neither line's caller is kept: which of them
    /// was meant cannot be told.
    pub fn parse_lines(text: &str, file: &str) -> (Tokens, Vec<LoadFailure>) {
        let mut read: Vec<(usize, Caller, [u8; 32])> = Vec::new();
        let mut problems: Vec<LoadFailure> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let content = line.split('#').next().unwrap_or_default().trim();
            if content.is_empty() {
                continue;
            }
            match parse_line(content) {
                Ok((caller, hash)) => read.push((number, caller, hash)),
                Err(message) => problems.push(LoadFailure::at(message, file, Some(number))),
            }
        }
        let mut kept = vec![true; read.len()];
        for (i, (number, caller, hash)) in read.iter().enumerate() {
            let clashes: Vec<usize> = (0..i)
                .filter(|&j| read[j].1.name == caller.name || read[j].2 == *hash)
                .collect();
            if let Some(&j) = clashes.first() {
                let (first, other, _) = &read[j];
                let message = if other.name == caller.name {
                    format!(
                        "caller `{}` is named twice (also on line {first})",
                        caller.name
                    )
                } else {
                    format!(
                        "caller `{}` has the same secret as caller `{}` (line {first}); give each its own",
                        caller.name, other.name
                    )
                };
                problems.push(LoadFailure::at(message, file, Some(*number)));
                kept[i] = false;
                for j in clashes {
                    kept[j] = false;
                }
            }
        }
        problems.sort_by_key(|p| p.line);
        let callers = read
            .into_iter()
            .zip(kept)
            .filter(|(_, kept)| *kept)
            .map(|((_, caller, hash), _)| (caller, hash))
            .collect();
        (Tokens { callers }, problems)
    }

    /// The callers `self` and `other` both name with the same secret; an admin only where
    /// both make it one. Never a caller, nor a right, that either does not give.
    pub fn within(&self, other: &Tokens) -> Tokens {
        let callers = self
            .callers
            .iter()
            .filter_map(|(caller, hash)| {
                let (theirs, _) = other
                    .callers
                    .iter()
                    .find(|(c, h)| c.name == caller.name && bool::from(h.ct_eq(hash)))?;
                let caller = Caller {
                    name: caller.name.clone(),
                    admin: caller.admin && theirs.admin,
                    names_users: caller.names_users && theirs.names_users,
                };
                Some((caller, *hash))
            })
            .collect();
        Tokens { callers }
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

/// The token file in force: the callers let in, and what was wrong with the file when it was
/// last read. It is read again on every reload, as a load of its own: a broken file never holds
/// up a policy, and a policy that fails never keeps a file's edit out.
///
/// A file with a broken line is not taken whole, nor is the last good one kept whole: the
/// callers let in are those that both the last good file and the lines of the new one that can
/// be read name, with the same secret (an admin only where both say so). A caller the edit
/// removed, or whose secret it changed, is refused at once, whatever else the edit broke; a
/// caller the edit added waits until the file is mended. Nothing is let in that the operator's
/// last word does not allow.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    callers: ArcSwap<Tokens>,
    read: Mutex<Read>,
}

/// The file as last read.
#[derive(Debug, Default)]
struct Read {
    /// The callers of the last read without a broken line.
    last_good: Tokens,
    /// What is broken in it now, when something is.
    error: Option<ReloadError>,
}

/// The token file, as `/v1/status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenFileStatus {
    /// Whether the file as last read has no broken line.
    pub ok: bool,
    /// The callers let in now.
    pub callers: usize,
    /// What is broken in it (every broken line among the problems), when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReloadError>,
}

/// What reading the token file again came to.
#[derive(Debug, Clone, Serialize)]
pub struct TokensReloaded {
    /// `loaded` (the callers let in changed), `unchanged`, or `failed` (a line is broken: see
    /// [`TokenFile`] for who is let in meanwhile).
    pub result: &'static str,
    /// The callers let in now.
    pub callers: usize,
    /// What is broken, when `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ReloadError>,
}

impl TokenFile {
    /// The file at `path`, read at start (where a broken file stops the start) into `callers`.
    pub fn new(path: PathBuf, callers: Tokens) -> TokenFile {
        TokenFile {
            path,
            callers: ArcSwap::from_pointee(callers.clone()),
            read: Mutex::new(Read {
                last_good: callers,
                error: None,
            }),
        }
    }

    /// The callers let in now.
    pub fn callers(&self) -> Arc<Tokens> {
        self.callers.load_full()
    }

    /// Whether the file as last read has a broken line.
    pub fn is_broken(&self) -> bool {
        self.read.lock().map_or(true, |read| read.error.is_some())
    }

    /// The file as `/v1/status` shows it.
    pub fn status(&self) -> TokenFileStatus {
        let error = self.read.lock().map_or_else(
            |_| {
                Some(ReloadError::new(
                    LoadFailure::plain("the token file's state cannot be read"),
                    "status",
                ))
            },
            |read| read.error.clone(),
        );
        TokenFileStatus {
            ok: error.is_none(),
            callers: self.callers().len(),
            error,
        }
    }

    /// Lets nobody in, for `failure`: what to do when whom the file lets in cannot be told.
    pub fn refuse_all(&self, failure: LoadFailure, trigger: &str) -> TokensReloaded {
        self.callers.store(Arc::new(Tokens::default()));
        tracing::error!(
            trigger,
            "token file: {failure}; nobody is let in until it is read again"
        );
        let error = ReloadError::new(failure, trigger);
        if let Ok(mut read) = self.read.lock() {
            read.error = Some(error.clone());
        }
        TokensReloaded {
            result: "failed",
            callers: 0,
            error: Some(error),
        }
    }

    /// Reads the file again (blocking) and lets in whom it says; `trigger` is what asked.
    pub fn reread(&self, trigger: &str) -> TokensReloaded {
        let name = self.path.display().to_string();
        let (read, problems) = match read_text(&self.path) {
            Ok(text) => Tokens::parse_lines(&text, &name),
            Err(failure) => (Tokens::default(), vec![failure]),
        };
        let before = self.callers();
        let Ok(mut state) = self.read.lock() else {
            // With no last good file to go by, nobody is let in.
            return self.refuse_all(
                LoadFailure::plain("the token file's state cannot be read"),
                trigger,
            );
        };
        let Some(first) = problems.first() else {
            let result = if *before == read {
                "unchanged"
            } else {
                "loaded"
            };
            state.last_good = read.clone();
            state.error = None;
            let callers = read.len();
            self.callers.store(Arc::new(read));
            tracing::info!(trigger, result, callers, file = %name, "token file loaded");
            return TokensReloaded {
                result,
                callers,
                error: None,
            };
        };
        let mut failure = first.clone();
        failure.problems = problems.iter().flat_map(|p| p.problems.clone()).collect();
        let kept = read.within(&state.last_good);
        let callers = kept.len();
        tracing::error!(
            trigger,
            file = %name,
            line = failure.line.unwrap_or(0),
            callers,
            "token file load failed: {failure}; until it is mended, only the {callers} caller(s) that both the last good file and the lines that can be read name are let in"
        );
        let error = ReloadError::new(failure, trigger);
        state.error = Some(error.clone());
        self.callers.store(Arc::new(kept));
        TokensReloaded {
            result: "failed",
            callers,
            error: Some(error),
        }
    }
}

/// Reads a token file's text: at most [`MAX_TOKEN_FILE_BYTES`], UTF-8.
pub fn read_text(path: &Path) -> Result<String, LoadFailure> {
    let name = path.display().to_string();
    // The core's reader: never past the limit (a link to `/dev/zero` stops there).
    aipolicy::io::read::read_text_file(path, "token file", MAX_TOKEN_FILE_BYTES)
        .map_err(|e| LoadFailure::at(format!("cannot read token file `{name}`: {e}"), &name, None))?
        .map_err(|problem| {
            LoadFailure::at(
                format!("token file `{name}`: {}", problem.message),
                &name,
                None,
            )
        })
}

/// What a line of the token file may say after the hash.
const LINE: &str = "a line is `NAME SHA256HEX [admin] [names-users]`";

/// One line's caller and hash (its comment and spaces trimmed away), or what is wrong with it.
fn parse_line(content: &str) -> Result<(Caller, [u8; 32]), String> {
    let fields: Vec<&str> = content.split_whitespace().collect();
    let [name, hex, flags @ ..] = fields.as_slice() else {
        return Err(format!("{LINE} (the hex SHA-256 of the caller's secret)"));
    };
    let (mut admin, mut names_users) = (false, false);
    for flag in flags {
        let seen = match *flag {
            "admin" => std::mem::replace(&mut admin, true),
            "names-users" => std::mem::replace(&mut names_users, true),
            other => return Err(format!("unknown flag `{other}`; {LINE}")),
        };
        if seen {
            return Err(format!("flag `{flag}` is given twice; {LINE}"));
        }
    }
    let hash = parse_hex(hex).ok_or_else(|| {
        format!(
            "caller `{name}`: the hash must be 64 hexadecimal digits (the SHA-256 of the secret, e.g. from `printf %s SECRET | sha256sum`)"
        )
    })?;
    Ok((
        Caller {
            name: (*name).into(),
            admin,
            names_users,
        },
        hash,
    ))
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
    fn a_broken_file_keeps_only_the_lines_that_can_be_read() {
        let (a, b, c) = (hash_secret("a"), hash_secret("b"), hash_secret("c"));
        let text = format!("x {a}\ny 1234\nz {b} admin\nw {c}\nv {c}\nz {a}\n");
        let (tokens, problems) = Tokens::parse_lines(&text, "t");
        let lines: Vec<_> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(2), Some(5), Some(6)]);
        // `y` cannot be read, `w` and `v` share a secret, `z` is named twice (and `z` shares
        // `x`'s secret on line 6): only the lines no problem touches are kept.
        let names: Vec<_> = tokens.callers.iter().map(|(c, _)| &*c.name).collect();
        assert_eq!(names, Vec::<&str>::new());
        let (tokens, _) = Tokens::parse_lines(&format!("x {a}\ny 1\nz {b} admin\n"), "t");
        assert_eq!(tokens.len(), 2);
    }

    #[test]
    fn within_keeps_what_both_give() {
        let (a, b) = (hash_secret("a"), hash_secret("b"));
        let old = Tokens::parse(&format!("x {a} admin\ny {b}\n"), "t").unwrap();
        let new = Tokens::parse(&format!("x {a}\ny {}\n", hash_secret("b2")), "t").unwrap();
        let both = new.within(&old);
        assert_eq!(both.len(), 1);
        let x = both.check(Some(b"Bearer a")).unwrap();
        assert!(!x.admin);
        assert_eq!(both.check(Some(b"Bearer b2")), Err(AuthError::Invalid));
        assert_eq!(both.check(Some(b"Bearer b")), Err(AuthError::Invalid));
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
        let e = Tokens::parse(&format!("x {h} admin admin\n"), "t").unwrap_err();
        assert!(e.message.contains("given twice"), "{e}");
    }

    #[test]
    fn a_caller_may_be_allowed_to_name_users() {
        let (a, b) = (hash_secret("a"), hash_secret("b"));
        let tokens = Tokens::parse(
            &format!("chat {a} names-users\nops {b} names-users admin\n"),
            "t",
        )
        .unwrap();
        let chat = tokens.check(Some(b"Bearer a")).unwrap();
        assert!(chat.names_users && !chat.admin);
        let ops = tokens.check(Some(b"Bearer b")).unwrap();
        assert!(ops.names_users && ops.admin);
        // A broken edit keeps a right only where both files give it.
        let old = Tokens::parse(&format!("chat {a}\n"), "t").unwrap();
        assert!(
            !tokens
                .within(&old)
                .check(Some(b"Bearer a"))
                .unwrap()
                .names_users
        );
    }
}
