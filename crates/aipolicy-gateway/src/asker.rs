//! Who asks, for whom, in which language, declaring what: read from a request's headers.
//!
//! - The **caller** authenticates as for `aipolicy serve`: `Authorization: Bearer SECRET`, a
//!   secret of `--token-file` (without one, on loopback, every local caller).
//! - The **user**: behind single sign-on (`--trust-user-header NAME`), the registered user the
//!   sign-in proxy names in that header, as on the staff page; else the end user a caller
//!   names in `X-AIPolicy-User`, which only a token marked `names-users` may; else the caller
//!   itself, as the register's user of its name (an integration that asks as itself). The
//!   user must be one the register lists: the gateway learns no roles from a header.
//! - `X-AIPolicy-Data: class,class`: the classes the caller declares (what is found in the text
//!   is added, and the strictest counts); `X-AIPolicy-Action` (default `use`);
//!   `X-AIPolicy-Language: sv|en`, else the first of `sv` or `en` in `Accept-Language`, else
//!   `--lang`.

use aipolicy::{Action, Language, Register, UserRef};
use aipolicy_server::http::Dialect;
use aipolicy_server::tokens::Caller;
use axum::http::{HeaderMap, HeaderName};

use crate::error::GatewayError;
use crate::Gateway;

/// `X-AIPolicy-User`: the end user a caller asks for.
pub static USER: HeaderName = HeaderName::from_static("x-aipolicy-user");
/// `X-AIPolicy-Data`: the classes the caller declares.
pub static DATA: HeaderName = HeaderName::from_static("x-aipolicy-data");
/// `X-AIPolicy-Action`: the action (default `use`).
pub static ACTION: HeaderName = HeaderName::from_static("x-aipolicy-action");
/// `X-AIPolicy-Language`: `sv` or `en`.
pub static LANGUAGE: HeaderName = HeaderName::from_static("x-aipolicy-language");

/// The longest user id or class name taken from a header, in characters.
const MAX_NAME_CHARS: usize = 256;

/// Who asks, and what they declare.
#[derive(Debug, Clone)]
pub struct Asker {
    /// The caller let in.
    pub caller: Caller,
    /// The user decided for.
    pub user: UserRef,
    /// The classes declared in `X-AIPolicy-Data`.
    pub data: Vec<String>,
    /// The action.
    pub action: Action,
    /// The language of reasons and refusals.
    pub language: Language,
}

/// The language a request asks for: `X-AIPolicy-Language`, else `Accept-Language`, else
/// `default`. A bad `X-AIPolicy-Language` is an error; `Accept-Language` is a preference.
pub fn language(headers: &HeaderMap, default: Language) -> Result<Language, GatewayError> {
    if let Some(value) = headers.get(&LANGUAGE) {
        let text = value.to_str().unwrap_or_default().trim();
        return text.parse().map_err(|e: String| {
            GatewayError::bad_request("invalid_header", format!("X-AIPolicy-Language: {e}"))
        });
    }
    let Some(accept) = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(default);
    };
    let mut ranked: Vec<(f32, Language)> = accept
        .split(',')
        .filter_map(|item| {
            let mut fields = item.split(';');
            let tag = fields.next()?.trim().to_ascii_lowercase();
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            let language = match tag.split('-').next()? {
                "sv" => Language::Sv,
                "en" => Language::En,
                _ => return None,
            };
            (q > 0.0).then_some((q, language))
        })
        .collect();
    // Stable: of equal weights, the first named wins.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok(ranked.first().map_or(default, |(_, language)| *language))
}

/// One header's text: `None` when absent; an error when it is given twice, is not UTF-8 text,
/// is empty or longer than `max` characters.
fn one(
    headers: &HeaderMap,
    name: &HeaderName,
    label: &str,
    max: usize,
) -> Result<Option<String>, GatewayError> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = |what: &str| GatewayError::bad_request("invalid_header", format!("{label}: {what}"));
    if values.next().is_some() {
        return Err(bad("given more than once; send it once"));
    }
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| bad("not UTF-8 text"))?
        .trim();
    let count = text.chars().count();
    if count == 0 || count > max {
        return Err(bad(&format!("expected 1 to {max} characters, got {count}")));
    }
    Ok(Some(text.to_string()))
}

impl Gateway {
    /// Lets the caller in and reads who it asks for and what it declares, against `register`.
    pub(crate) fn asker(
        &self,
        headers: &HeaderMap,
        register: &Register,
    ) -> Result<Asker, GatewayError> {
        let caller = aipolicy_server::http::authorize(&self.state, headers, Dialect::Plain, false)
            .map_err(|e| GatewayError::from_api(&e))?;
        let language = language(headers, self.state.config.language)?;
        let named = one(headers, &USER, "X-AIPolicy-User", MAX_NAME_CHARS)?;
        let user = match (&self.settings.user_header, named) {
            (Some(_), Some(_)) => {
                return Err(GatewayError::bad_request(
                    "invalid_header",
                    "X-AIPolicy-User: not taken here: the signed-in user comes from the sign-in proxy's header",
                ))
            }
            (Some(header), None) => {
                let signed_in = one(headers, header, header.as_str(), MAX_NAME_CHARS)?;
                let Some(id) = signed_in else {
                    return Err(GatewayError::new(
                        axum::http::StatusCode::UNAUTHORIZED,
                        crate::error::AUTHENTICATION,
                        "not_signed_in",
                        format!("you are not signed in: the request has no `{header}` header from the sign-in proxy"),
                    ));
                };
                id
            }
            (None, Some(id)) => {
                if !caller.names_users {
                    return Err(GatewayError::forbidden(
                        "may_not_name_users",
                        format!("caller `{}` may not name its end user (X-AIPolicy-User): its line in the token file needs the flag `names-users`", caller.name),
                    ));
                }
                id
            }
            (None, None) => {
                if self.state.tokens.is_none() {
                    return Err(GatewayError::bad_request(
                        "user_required",
                        "name the end user with X-AIPolicy-User (a user of the register)",
                    ));
                }
                caller.name.to_string()
            }
        };
        if register.user(&user).is_none() {
            return Err(GatewayError::forbidden(
                "unknown_user",
                format!("`{user}` is not a user of the AI register, so the gateway cannot decide for them; the register lists who may use AI"),
            ));
        }
        let data = match one(headers, &DATA, "X-AIPolicy-Data", 4096)? {
            None => Vec::new(),
            Some(list) => {
                let classes: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect();
                if classes.is_empty() {
                    return Err(GatewayError::bad_request(
                        "invalid_header",
                        "X-AIPolicy-Data: expected data classes of the register, separated by commas",
                    ));
                }
                classes
            }
        };
        let action = match one(headers, &ACTION, "X-AIPolicy-Action", 64)? {
            None => Action::Use,
            Some(name) => name.parse().map_err(|e: aipolicy::InputError| {
                GatewayError::bad_request("invalid_header", format!("X-AIPolicy-Action: {e}"))
            })?,
        };
        // A request through the gateway sends information to a model: only the actions on
        // information (U2) describe that. `reportIncident` (always allowed, U4) or `develop`
        // would let any text through to any system.
        if !action.requires_data() {
            return Err(GatewayError::bad_request(
                "invalid_header",
                format!(
                    "X-AIPolicy-Action: `{action}` is not what a request to a model does; the gateway decides `use` (the default), `decide`, `publish` or `sendToResident`"
                ),
            ));
        }
        Ok(Asker {
            caller,
            user: UserRef::registered(user),
            data,
            action,
            language,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Language {
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::ACCEPT_LANGUAGE, value.parse().unwrap());
        language(&headers, Language::Sv).unwrap()
    }

    #[test]
    fn the_language_asked_for() {
        assert_eq!(accept("en-GB,en;q=0.9,sv;q=0.8"), Language::En);
        assert_eq!(accept("de, sv;q=0.5, en;q=0.4"), Language::Sv);
        assert_eq!(accept("de"), Language::Sv);
        assert_eq!(accept("sv;q=0, en;q=0.1"), Language::En);
        let mut headers = HeaderMap::new();
        headers.insert(&LANGUAGE, "fr".parse().unwrap());
        assert!(language(&headers, Language::Sv).is_err());
    }
}
