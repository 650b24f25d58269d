//! Reading an OpenAI-style request body: the model it names, and the text the model would be
//! given, to decide on.
//!
//! **What counts as text.** Everything in the body goes to the AI system's provider, so
//! everything in it is decided on, not only the fields a well-behaved chat app fills in: each
//! message's content (a string, or its `text` parts joined as the model reads them, so that a
//! personnummer split over two parts is still one personnummer), and then every other string,
//! number and object key anywhere in the body — system prompts and `name`s, tool calls and
//! their arguments, tool results, tool and function definitions, `metadata`, fields this
//! gateway has never heard of. Only the structural values are left out: `model` (it names the
//! AI system, and is decided as one), each message's `role` and each part's `type`.
//!
//! **What cannot be read is refused.** A content part that is not text (an image, audio, a
//! file) and an embedding input of token ids cannot be searched for information, so a request
//! holding one is refused (400, `unsupported_content`) rather than passed on unread.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::GatewayError;

/// What an endpoint of the gateway forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/embeddings`.
    Embeddings,
}

impl Operation {
    /// The path under an AI system's `endpoint`.
    pub fn path(self) -> &'static str {
        match self {
            Operation::Chat => "chat/completions",
            Operation::Embeddings => "embeddings",
        }
    }

    /// The operation a request path names (`/v1/chat/completions`, also behind a prefix, as
    /// Envoy's ext_authz sends it), if any.
    pub fn of_path(path: &str) -> Option<Operation> {
        let path = path
            .split('?')
            .next()
            .unwrap_or_default()
            .trim_end_matches('/');
        if path.ends_with("/chat/completions") {
            Some(Operation::Chat)
        } else if path.ends_with("/embeddings") {
            Some(Operation::Embeddings)
        } else {
            None
        }
    }
}

/// A request read: the body as JSON, its model, and its text with where each piece came from.
#[derive(Debug, Clone)]
pub struct Read {
    /// The body.
    pub body: Value,
    /// The `model` it names.
    pub model: String,
    /// The text decided on: one entry per message (or embedding input), then one for all the
    /// rest of the body.
    pub text: Vec<String>,
    /// Where each entry of `text` came from.
    pub places: Vec<Place>,
}

/// Where an entry of [`Read::text`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// One path (`messages[1]`, `input[0]`).
    Path(String),
    /// Many pieces, joined by line breaks.
    Pieces(Pieces),
}

impl Place {
    /// The path of the piece at character offset `at`.
    pub fn path_at(&self, at: usize) -> &str {
        match self {
            Place::Path(path) => path,
            Place::Pieces(pieces) => pieces.path_at(at),
        }
    }
}

/// The pieces of the rest of a body, joined by line breaks: each one's first character and its
/// path. The paths are written one after another into one string, so that a body of a million
/// numbers costs a few bytes a number here rather than a string each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pieces {
    /// Each piece's first character in the joined text, in order.
    starts: Vec<usize>,
    /// Where each piece's path ends in `paths`; it starts where the one before ends.
    path_ends: Vec<usize>,
    paths: String,
}

impl Pieces {
    fn push(&mut self, start: usize, path: &[Step]) {
        self.starts.push(start);
        describe_into(path, &mut self.paths);
        self.path_ends.push(self.paths.len());
    }

    /// The path of the piece at character offset `at`: a binary search, so that a refusal
    /// naming many findings in a body of many pieces costs n log n.
    fn path_at(&self, at: usize) -> &str {
        let Some(piece) = self
            .starts
            .partition_point(|&start| start <= at)
            .checked_sub(1)
        else {
            return "";
        };
        let begin = piece
            .checked_sub(1)
            .and_then(|before| self.path_ends.get(before))
            .copied()
            .unwrap_or(0);
        let end = self.path_ends.get(piece).copied().unwrap_or(begin);
        self.paths.get(begin..end).unwrap_or_default()
    }
}

/// Reads a body: UTF-8 JSON, an object with unique keys and a string `model`, in the shape of
/// `operation`. Every error names the JSON path and what was expected.
pub fn read(bytes: &[u8], operation: Operation) -> Result<Read, GatewayError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        GatewayError::bad_request(
            "invalid_utf8",
            format!(
                "the request body is not valid UTF-8 (at byte {}); send JSON text in UTF-8",
                e.valid_up_to()
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Err(GatewayError::bad_request(
            "invalid_json",
            "the request body is empty; send a JSON object",
        ));
    }
    if let Some(offset) = aipolicy::query::json_nesting_over(text.as_bytes(), MAX_DEPTH) {
        return Err(GatewayError::bad_request(
            "invalid_json",
            format!("the request body nests arrays and objects more than {MAX_DEPTH} levels deep (at byte {offset})"),
        ));
    }
    // Unique keys: `{"model": "a", "model": "b"}` would be decided for one model and answered
    // by whichever the AI system reads.
    let body = aipolicy::query::json_with_unique_keys(text.as_bytes()).map_err(|e| {
        GatewayError::bad_request(
            "invalid_json",
            format!(
                "the request body is not valid JSON: line {} column {}: {e}",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(root) = &body else {
        return Err(GatewayError::bad_request(
            "invalid_json",
            "the request body must be a JSON object",
        ));
    };
    let model = match root.get("model") {
        Some(Value::String(model)) if !model.trim().is_empty() => model.trim().to_string(),
        Some(_) => {
            return Err(param(
                "model",
                "expected the name of an AI system (a string)",
            ))
        }
        None => {
            return Err(param(
                "model",
                "missing; name the AI system (GET /v1/models lists the ones you may use)",
            ))
        }
    };
    let mut texts = Texts::default();
    match operation {
        Operation::Chat => chat(root, &mut texts)?,
        Operation::Embeddings => embeddings(root, &mut texts)?,
    }
    let text_bytes: usize = texts.text.iter().map(String::len).sum();
    let max = aipolicy::query::MAX_TEXT_BYTES;
    if text_bytes > max {
        return Err(text_too_large(Some(text_bytes)));
    }
    texts.other.room = max - text_bytes;
    rest(&body, &mut Vec::new(), &texts.skip, &mut texts.other, 0);
    if texts.other.over {
        return Err(text_too_large(None));
    }
    let Texts {
        mut text,
        mut places,
        other,
        ..
    } = texts;
    if !other.joined.is_empty() {
        text.push(other.joined);
        places.push(Place::Pieces(other.pieces));
    }
    Ok(Read {
        body,
        model,
        text,
        places,
    })
}

/// The deepest nesting of a body read: room for tool definitions' JSON schemas.
pub const MAX_DEPTH: usize = 64;

/// The roles of OpenAI's chat messages, the only ones accepted.
const ROLES: [&str; 6] = [
    "system",
    "developer",
    "user",
    "assistant",
    "tool",
    "function",
];

/// A 400 naming the field at `path` and what was expected there.
fn param(path: &str, expected: &str) -> GatewayError {
    GatewayError::bad_request("invalid_request", format!("{path}: {expected}"))
}

/// A 400 for content the gateway cannot read.
fn unsupported(path: &str, what: &str) -> GatewayError {
    GatewayError::bad_request(
        "unsupported_content",
        format!(
            "{path}: {what} cannot be searched for the information the municipality's AI policy is about, so the gateway does not pass it on; send text only"
        ),
    )
}

/// The text read so far.
#[derive(Default)]
struct Texts {
    text: Vec<String>,
    places: Vec<Place>,
    /// The paths already read (or structural), left out of the rest.
    skip: HashSet<Vec<Step>>,
    other: Other,
}

/// Everything else in the body, joined by line breaks.
#[derive(Default)]
struct Other {
    joined: String,
    chars: usize,
    pieces: Pieces,
    /// The bytes of text the rest may still hold: reading stops once it would hold more than a
    /// query takes, so that a body of many small values never grows into many times its size.
    room: usize,
    /// Whether it stopped so.
    over: bool,
}

impl Other {
    fn push(&mut self, path: &[Step], piece: &str) {
        let bytes = piece.len() + usize::from(!self.joined.is_empty());
        if self.over || bytes > self.room {
            self.over = true;
            return;
        }
        self.room -= bytes;
        if !self.joined.is_empty() {
            self.joined.push('\n');
            self.chars += 1;
        }
        self.pieces.push(self.chars, path);
        self.joined.push_str(piece);
        self.chars += piece.chars().count();
    }
}

/// A 413 for a request with more text than a query takes (`bytes`, when counted to the end).
fn text_too_large(bytes: Option<usize>) -> GatewayError {
    let max = aipolicy::query::MAX_TEXT_BYTES;
    let holds = match bytes {
        Some(bytes) => format!("{bytes} bytes"),
        None => format!("more than {max} bytes"),
    };
    GatewayError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        crate::error::INVALID_REQUEST,
        "text_too_large",
        format!(
            "the request holds {holds} of text; the gateway reads at most {max} bytes ({} MiB) of a request's text",
            max >> 20
        ),
    )
}

/// A step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    Index(usize),
}

fn key(name: &str) -> Step {
    Step::Key(name.to_string())
}

/// `messages[1].content[0]`, written at the end of `out`.
fn describe_into(path: &[Step], out: &mut String) {
    use std::fmt::Write;
    let start = out.len();
    for step in path {
        match step {
            Step::Key(k) => {
                if out.len() > start {
                    out.push('.');
                }
                out.push_str(k);
            }
            // Writing to a String cannot fail.
            Step::Index(i) => drop(write!(out, "[{i}]")),
        }
    }
}

/// The messages of a chat completion: each one's content is an entry of the text.
fn chat(root: &Map<String, Value>, texts: &mut Texts) -> Result<(), GatewayError> {
    texts.skip.insert(vec![key("model")]);
    let messages = match root.get("messages") {
        Some(Value::Array(messages)) if !messages.is_empty() => messages,
        Some(_) => return Err(param("messages", "expected a non-empty list of messages")),
        None => return Err(param("messages", "missing; expected a list of messages")),
    };
    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let Value::Object(message) = message else {
            return Err(param(&at, "expected a message object"));
        };
        // A role is left out of the text decided on only when it is one of OpenAI's: a model
        // server's chat template writes the role into the prompt, so any other string would
        // reach the model unread.
        match message.get("role") {
            Some(Value::String(role)) if ROLES.contains(&role.as_str()) => {
                texts
                    .skip
                    .insert(vec![key("messages"), Step::Index(i), key("role")]);
            }
            Some(Value::String(_)) => {
                return Err(param(
                    &format!("{at}.role"),
                    &format!("expected one of {}", ROLES.join(", ")),
                ))
            }
            _ => return Err(param(&format!("{at}.role"), "expected a string")),
        }
        let content_path = vec![key("messages"), Step::Index(i), key("content")];
        let content = match message.get("content") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => {
                let mut joined = String::new();
                for (j, part) in parts.iter().enumerate() {
                    let part_at = format!("{at}.content[{j}]");
                    let Value::Object(part) = part else {
                        return Err(param(&part_at, "expected a content part object"));
                    };
                    let kind = match part.get("type") {
                        Some(Value::String(kind)) => kind.as_str(),
                        _ => return Err(param(&format!("{part_at}.type"), "expected a string")),
                    };
                    // `refusal` is an assistant's text too.
                    let field = match kind {
                        "text" => "text",
                        "refusal" => "refusal",
                        other => {
                            return Err(unsupported(
                                &format!("{part_at}.type"),
                                &format!("a content part of type `{other}`"),
                            ))
                        }
                    };
                    match part.get(field) {
                        Some(Value::String(text)) => joined.push_str(text),
                        _ => return Err(param(&format!("{part_at}.{field}"), "expected a string")),
                    }
                    let mut part_path = content_path.clone();
                    part_path.push(Step::Index(j));
                    for name in ["type", field] {
                        let mut path = part_path.clone();
                        path.push(key(name));
                        texts.skip.insert(path);
                    }
                }
                joined
            }
            Some(_) => {
                return Err(param(
                    &format!("{at}.content"),
                    "expected a string, a list of content parts, or null",
                ))
            }
        };
        if matches!(message.get("content"), Some(Value::String(_))) {
            texts.skip.insert(content_path);
        }
        texts.text.push(content);
        texts.places.push(Place::Path(at));
    }
    Ok(())
}

/// The inputs of an embedding: each string an entry of the text; token ids cannot be read.
fn embeddings(root: &Map<String, Value>, texts: &mut Texts) -> Result<(), GatewayError> {
    texts.skip.insert(vec![key("model")]);
    match root.get("input") {
        Some(Value::String(text)) => {
            texts.text.push(text.clone());
            texts.places.push(Place::Path("input".into()));
            texts.skip.insert(vec![key("input")]);
        }
        Some(Value::Array(items)) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) => {
                        texts.text.push(text.clone());
                        texts.places.push(Place::Path(format!("input[{i}]")));
                        texts.skip.insert(vec![key("input"), Step::Index(i)]);
                    }
                    Value::Number(_) | Value::Array(_) => {
                        return Err(unsupported(&format!("input[{i}]"), "an input of token ids"))
                    }
                    _ => return Err(param(&format!("input[{i}]"), "expected a string")),
                }
            }
        }
        Some(_) => {
            return Err(param(
                "input",
                "expected a string or a non-empty list of strings",
            ))
        }
        None => return Err(param("input", "missing; expected the text to embed")),
    }
    Ok(())
}

/// Every string, number and key of `value` not under a path of `skip`, into `other`.
fn rest(
    value: &Value,
    path: &mut Vec<Step>,
    skip: &HashSet<Vec<Step>>,
    other: &mut Other,
    depth: usize,
) {
    if other.over || skip.contains(path.as_slice()) || depth > MAX_DEPTH {
        return;
    }
    match value {
        Value::String(text) => other.push(path, text),
        Value::Number(number) => other.push(path, &number.to_string()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                rest(item, path, skip, other, depth + 1);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (name, item) in map {
                path.push(Step::Key(name.clone()));
                // The key itself is text too (a tool's parameter names, `metadata`'s keys).
                other.push(path, name);
                rest(item, path, skip, other, depth + 1);
                path.pop();
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_of(body: &str) -> Result<Read, GatewayError> {
        read(body.as_bytes(), Operation::Chat)
    }

    #[test]
    fn each_message_is_an_entry_and_the_rest_is_one() {
        let read = chat_of(
            r#"{"model":"m","messages":[{"role":"system","content":"Du är hjälpsam."},
               {"role":"user","name":"anna","content":[{"type":"text","text":"19121212-"},{"type":"text","text":"1212"}]}],
               "metadata":{"ärende":"4711"}}"#,
        )
        .unwrap();
        assert_eq!(read.model, "m");
        assert_eq!(read.text[0], "Du är hjälpsam.");
        // Parts are joined as the model reads them: a number split over two parts is whole.
        assert_eq!(read.text[1], "19121212-1212");
        let rest = &read.text[2];
        for expected in ["anna", "ärende", "4711", "metadata"] {
            assert!(rest.contains(expected), "{rest}");
        }
        // The structural values are left out (keys are text: a tool's parameter names are).
        let pieces: Vec<&str> = rest.split('\n').collect();
        for structural in ["system", "user", "m"] {
            assert!(!pieces.contains(&structural), "{rest}");
        }
        let at = rest.find("4711").unwrap();
        assert_eq!(
            read.places[2].path_at(rest[..at].chars().count()),
            "metadata.ärende"
        );
    }

    #[test]
    fn every_piece_of_the_rest_names_its_path() {
        let read = chat_of(
            r#"{"model":"m","messages":[{"role":"user","content":"hej"}],"tools":[{"type":"function","function":{"name":"boka","parameters":{"a":[7,8]}}}],"n":2}"#,
        )
        .unwrap();
        let rest = &read.text[1];
        let path_of = |piece: &str| {
            let at = rest.split('\n').position(|p| p == piece).unwrap();
            let start: usize = rest
                .split('\n')
                .take(at)
                .map(|p| p.chars().count() + 1)
                .sum();
            read.places[1].path_at(start).to_string()
        };
        assert_eq!(path_of("boka"), "tools[0].function.name");
        assert_eq!(path_of("8"), "tools[0].function.parameters.a[1]");
        assert_eq!(path_of("2"), "n");
    }

    #[test]
    fn a_body_of_more_text_than_a_query_takes_is_refused_as_it_is_read() {
        // Two bytes of body a number, each a piece of text and a path: read to the end, a
        // body of a few MiB would hold many times its size.
        let numbers = "1,".repeat(aipolicy::query::MAX_TEXT_BYTES / 2 + 1);
        let body = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"hej"}}],"x":[{numbers}1]}}"#
        );
        let e = chat_of(&body).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.code.as_str()),
            (413, "text_too_large")
        );
        assert!(
            e.message.contains("more than 1048576 bytes"),
            "{}",
            e.message
        );
        // Just within: read.
        let numbers = "1,".repeat(1000);
        assert!(chat_of(&format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"hej"}}],"x":[{numbers}1]}}"#
        ))
        .is_ok());
        // The messages alone over it: the count is exact.
        let long = "a".repeat(aipolicy::query::MAX_TEXT_BYTES + 1);
        let e = chat_of(&format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"{long}"}}]}}"#
        ))
        .unwrap_err();
        assert!(e.message.contains("holds 1048577 bytes"), "{}", e.message);
    }

    #[test]
    fn what_cannot_be_read_is_refused() {
        let e = chat_of(r#"{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:"}}]}]}"#).unwrap_err();
        assert_eq!(e.code, "unsupported_content");
        assert!(
            e.message
                .starts_with("messages[0].content[0].type: a content part of type `image_url`"),
            "{}",
            e.message
        );
        let e = read(br#"{"model":"m","input":[[1,2,3]]}"#, Operation::Embeddings).unwrap_err();
        assert_eq!(e.code, "unsupported_content");
        assert!(
            e.message.starts_with("input[0]: an input of token ids"),
            "{}",
            e.message
        );
    }

    #[test]
    fn errors_name_the_path() {
        let e = chat_of(r#"{"model":"m","messages":[{"content":"x"}]}"#).unwrap_err();
        assert_eq!(e.message, "messages[0].role: expected a string");
        let e = chat_of(r#"{"messages":[]}"#).unwrap_err();
        assert!(e.message.starts_with("model: missing"), "{}", e.message);
        let e = chat_of(r#"{"model":"a","model":"b","messages":[]}"#).unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = read(b"{\"model\":\"\xff\"}", Operation::Chat).unwrap_err();
        assert_eq!(e.code, "invalid_utf8");
        assert!(e.message.contains("at byte 10"), "{}", e.message);
    }

    #[test]
    fn embeddings_inputs_are_entries() {
        let read = read(
            br#"{"model":"e","input":["a","b"],"dimensions":256}"#,
            Operation::Embeddings,
        )
        .unwrap();
        assert_eq!(&read.text[..2], ["a", "b"]);
        assert_eq!(read.places[1], Place::Path("input[1]".into()));
        assert!(read.text[2].contains("256"));
    }

    #[test]
    fn operations_by_path() {
        assert_eq!(
            Operation::of_path("/ext-authz/v1/chat/completions"),
            Some(Operation::Chat)
        );
        assert_eq!(
            Operation::of_path("/openai/v1/embeddings?x=1"),
            Some(Operation::Embeddings)
        );
        assert_eq!(Operation::of_path("/v1/models"), None);
    }
}
