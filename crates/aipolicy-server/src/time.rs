//! RFC 3339 times (UTC): the decision log's own form, one for the whole workspace.

pub use aipolicy::log::rfc3339;
