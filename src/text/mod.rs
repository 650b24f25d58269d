//! What a text holds, found in the text itself rather than declared by whoever sends it: the
//! information the policy's data classes are about. Linear-time finders, no model.
//!
//! So far: Swedish identity numbers ([`personnummer`]). The finders report what they found and
//! where (byte offsets), never the matched text, so that a decision or a log line built from
//! them holds none of the information.

pub mod contacts;
pub mod personnummer;
