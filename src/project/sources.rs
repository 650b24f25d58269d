//! The texts of the inputs in force, each read once, within its limit, and hashed into the
//! policy revision. Everything that loads (the command line, the decision service, the decision
//! log, `aipolicy validate`) reads through here: one reader, one set of limits, and a revision
//! that names exactly the bytes the engine was built from (a file that changes while it is read
//! can never give a revision that names other rules).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::diagnostics::error::LoadError;
use crate::model::register::{self, Register};
use crate::policy::{self, PolicyFile};
use crate::project::inputs::{Inputs, Source};

/// One input as read: the name findings and errors give it, and its content, or why it could
/// not be read.
#[derive(Debug)]
pub struct Read<T> {
    /// The file or folder as the person who named it would type it, or `embedded …`.
    pub name: String,
    /// What was read.
    pub content: Result<T, LoadError>,
}

/// The policies, schema and register in force, read once.
///
/// ```
/// use aipolicy::project::inputs::Inputs;
/// use aipolicy::project::Sources;
/// let sources = Sources::read(&Inputs::embedded());
/// assert_eq!(sources.revision().map(|r| r.len()), Some(16));
/// ```
#[derive(Debug)]
pub struct Sources {
    /// Every `.cedar` file of the policy folder.
    pub policies: Read<Vec<PolicyFile>>,
    /// The Cedar schema's text.
    pub schema: Read<String>,
    /// The register's text.
    pub register: Read<String>,
}

impl Sources {
    /// Reads the policies, schema and register `inputs` name (each within its limit:
    /// [`policy::MAX_POLICY_BYTES`] per policy file, [`policy::MAX_SCHEMA_BYTES`],
    /// [`register::MAX_REGISTER_BYTES`]). A part that cannot be read says why in its
    /// [`Read::content`]; the others are read all the same, so that `validate` can tell every
    /// problem at once.
    pub fn read(inputs: &Inputs) -> Sources {
        Sources::read_parts(inputs, true)
    }

    /// [`Sources::read`], without the register when `register` is false (one given already
    /// read): then it has no revision.
    pub(crate) fn read_parts(inputs: &Inputs, register: bool) -> Sources {
        let (policies_name, policies) = inputs.policy_files();
        Sources {
            policies: Read {
                name: policies_name,
                content: policies,
            },
            schema: read_text(
                &inputs.schema,
                policy::BUNDLED_SCHEMA_NAME,
                policy::BUNDLED_SCHEMA,
                policy::read_schema_file,
            ),
            register: if register {
                read_text(
                    &inputs.register,
                    register::BUNDLED_REGISTER_NAME,
                    register::BUNDLED_REGISTER,
                    Register::read_file_text,
                )
            } else {
                Read {
                    name: "the register given already read".into(),
                    content: Err(LoadError::Internal(
                        "not read: the register was given already read".into(),
                    )),
                }
            },
        }
    }

    /// The policy revision (`policyRevision`): the first 16 hexadecimal digits of a SHA-256 over
    /// each policy file's name (not its folder: the same rules served from another folder have
    /// the same revision) and text, the schema and the register. `None` when a part could not
    /// be read (or was not: a register given already read).
    pub fn revision(&self) -> Option<String> {
        let mut hash = Sha256::new();
        let files = self.policies.content.as_ref().ok()?;
        for file in files {
            let name = Path::new(&file.name)
                .file_name()
                .map_or_else(|| file.name.clone(), |n| n.to_string_lossy().into_owned());
            hash_part(&mut hash, &format!("policy {name}"), file.text.as_bytes());
        }
        let schema = self.schema.content.as_ref().ok()?;
        hash_part(&mut hash, "schema", schema.as_bytes());
        let register = self.register.content.as_ref().ok()?;
        hash_part(&mut hash, "register", register.as_bytes());
        Some(crate::io::hex(&hash.finalize()[..8]))
    }
}

/// One text input: the embedded one (named `embedded …`), or the file, read by `read` within
/// its limit.
fn read_text(
    source: &Source,
    embedded_name: &str,
    embedded: &str,
    read: fn(&Path) -> Result<String, LoadError>,
) -> Read<String> {
    match source {
        Source::Embedded => Read {
            name: format!("embedded {embedded_name}"),
            content: Ok(embedded.to_string()),
        },
        Source::Path(path) => Read {
            name: path.display().to_string(),
            content: read(path),
        },
    }
}

/// One part of the revision: its kind and length before its bytes, so that no two different
/// sets of parts hash alike by moving bytes from one part into the next.
fn hash_part(hash: &mut Sha256, what: &str, bytes: &[u8]) {
    hash.update(what.as_bytes());
    hash.update([0]);
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}
