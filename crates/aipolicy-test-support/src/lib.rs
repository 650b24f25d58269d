//! What the tests of aipolicy's crates share, so that each helper is written once: the
//! repository's files, a copy of the bundled project to change, and a PostgreSQL schema of a
//! test's own. A dev-dependency only; never part of a release.

// A helper that cannot do its job fails the test that called it, loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// The day the tests decide at (as `AIPOLICY_TODAY`, `--at` or a fixed clock): every
/// assessment of the bundled register holds on it and none lapses within 30 days, so that the
/// tests decide the same whatever day they run.
pub const TODAY: &str = "2026-12-07";

/// A path in the repository, e.g. `repo("policies")`.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// A copy of the bundled policies, schema and register in a temporary folder (removed when
/// dropped), for a test that changes a file.
pub struct Project {
    /// The temporary folder.
    pub dir: tempfile::TempDir,
    /// `DIR/policies`, with every bundled `.cedar` file.
    pub policies: PathBuf,
    /// `DIR/aipolicy.cedarschema`.
    pub schema: PathBuf,
    /// `DIR/register.yaml`, the Askersund register.
    pub register: PathBuf,
}

/// The bundled project, copied: see [`Project`].
pub fn bundled_project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    copy_policies(&policies);
    let schema = dir.path().join("aipolicy.cedarschema");
    std::fs::copy(repo("schemas/aipolicy.cedarschema"), &schema).unwrap();
    let register = dir.path().join("register.yaml");
    std::fs::copy(repo("examples/askersund/register.yaml"), &register).unwrap();
    Project {
        dir,
        policies,
        schema,
        register,
    }
}

/// Copies every bundled `.cedar` file into `to` (created when missing).
pub fn copy_policies(to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(repo("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "cedar") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// anna, Copilot Chat, internal information: allowed by the bundled register (until
/// [`suspend_copilot`]).
pub const ANNA_COPILOT: &str = r#"{"user":"anna","ai":"copilot-chat","data":"intern"}"#;

/// Suspends `copilot-chat` in a copy of the bundled register: [`ANNA_COPILOT`] turns from
/// allow to deny.
pub fn suspend_copilot(register: &Path) {
    let text = std::fs::read_to_string(register).unwrap();
    let changed = text.replacen(
        "name: Microsoft 365 Copilot Chat\n    hosting: internal\n    approved: true\n    status: active",
        "name: Microsoft 365 Copilot Chat\n    hosting: internal\n    approved: true\n    status: suspended",
        1,
    );
    assert_ne!(text, changed, "the register changed shape");
    std::fs::write(register, changed).unwrap();
}

/// A schema of a test's own on the PostgreSQL server of `AIPOLICY_TEST_POSTGRES`, dropped
/// when this is dropped. Its name has the process id in it, so that two test runs against
/// one server do not share it.
pub struct PostgresSchema {
    server: String,
    name: String,
    /// The URL a sink is given: the server, with the schema as its `search_path`.
    pub url: String,
}

/// A fresh schema `NAME_PID` (see [`PostgresSchema`]). Without `AIPOLICY_TEST_POSTGRES` the
/// test fails, saying how to get a server: the PostgreSQL sink is tested against a real one.
pub fn postgres_schema(name: &str) -> PostgresSchema {
    let Ok(server) = std::env::var("AIPOLICY_TEST_POSTGRES") else {
        panic!(
            "AIPOLICY_TEST_POSTGRES is not set: the PostgreSQL sink is tested against a real server. \
             Run .ci/run (it installs Debian's postgresql, starts it and sets the variable), or start \
             one yourself and export AIPOLICY_TEST_POSTGRES=postgres://USER:PASSWORD@127.0.0.1:5432/DB"
        );
    };
    let name = format!("{name}_{}", std::process::id());
    connect(&server)
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ))
        .unwrap();
    let separator = if server.contains('?') { '&' } else { '?' };
    let url = format!("{server}{separator}options=-csearch_path%3D{name}");
    PostgresSchema { server, name, url }
}

fn connect(server: &str) -> postgres::Client {
    postgres::Client::connect(server, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to AIPOLICY_TEST_POSTGRES ({server}): {e}"))
}

impl Drop for PostgresSchema {
    fn drop(&mut self) {
        // Best effort: a schema left behind by a killed run has another run's id in its name.
        if let Ok(mut client) = postgres::Client::connect(&self.server, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}
