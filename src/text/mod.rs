//! What a text holds, found in the text itself rather than declared by whoever sends it: the
//! information the policy's data classes are about. Linear-time finders (hand-written for
//! identity numbers, the `regex` crate's automata for the rest), no model.
//!
//! - [`personnummer`]: personnummer and samordningsnummer, with a real date and check digit;
//! - [`contacts`]: e-mail addresses and Swedish phone numbers;
//! - [`markings`]: security-protection classifications and secrecy markings (OSL references);
//! - [`sensitive`]: the special categories of personal data (GDPR art. 9), by a Swedish word list.
//!
//! The finders report what they found and where (byte offsets), never the matched text, so that
//! a decision or a log line built from them holds none of the information.

pub mod contacts;
pub mod markings;
pub mod personnummer;
pub mod sensitive;
