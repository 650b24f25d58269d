//! Starting a project as a new user does: `aipolicy init`, then the commands in the folder it
//! wrote; and a folder that holds only a register, which is a project of its own (its register
//! is used, and a broken one refused, never replaced by the embedded one).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

fn aipolicy(dir: &Path, args: &[&str]) -> Output {
    common::output(common::aipolicy(args).current_dir(dir), "")
}

fn stdout(output: &Output) -> String {
    common::text(&output.stdout)
}

fn stderr(output: &Output) -> String {
    common::text(&output.stderr)
}

/// `text` without whitespace and miette's margin, so that a message reads the same however
/// miette wraps it.
fn flat(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

/// Every file under `dir` (relative path → bytes): what a run may or may not have changed.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

#[test]
fn a_folder_with_only_a_register_is_a_project_and_its_broken_register_is_refused() {
    let dir = common::workdir("init", "register-only");
    // A register with a level KLASSA does not have, on line 5.
    std::fs::write(
        dir.join("register.yaml"),
        "dataClasses:\n  - id: oppen\n    personalData: none\n    secrecy: false\n    level: 9\naiSystems:\n  - {id: chatgpt, hosting: public, approved: false}\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["validate"]);
    let err = stderr(&output);
    assert!(
        err.starts_with(
            "inputs: register register.yaml; embedded Askersund policies, schema and invariants (project .)\n"
        ),
        "{err}"
    );
    // `validate`'s own exit for an error it finds in the register is 1 ("a check failed", as
    // `validate --help` and the README say); what matters is that it is not 0 and not "ok".
    assert_eq!(output.status.code(), Some(1), "{}{err}", stdout(&output));
    assert!(!stdout(&output).starts_with("ok"), "{}", stdout(&output));
    assert!(err.contains("register.yaml:5"), "{err}");
    assert!(err.contains("level"), "{err}");
    // Every command refuses it, `check` with the input error's 2.
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("register.yaml"),
        "{}",
        stderr(&output)
    );

    // Mended, it is the register `check` decides on: `anna` is Askersund's, not this one's.
    std::fs::write(
        dir.join("register.yaml"),
        "dataClasses:\n  - id: oppen\n    personalData: none\n    secrecy: false\n    level: 0\naiSystems:\n  - {id: chatgpt, hosting: public, approved: false}\n",
    )
    .unwrap();
    let output = aipolicy(&dir, &["validate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern", "--format", "json",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("okänd informationsklass `intern`"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn validate_fails_on_a_register_only_project_whose_register_cannot_be_read() {
    // A register of nothing but `level: 9`: an error in the register at its line, never "ok".
    let dir = common::workdir("init", "register-level-9");
    std::fs::write(dir.join("register.yaml"), "level: 9\n").unwrap();
    let output = aipolicy(&dir, &["validate"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("register.yaml:1"), "{err}");
    assert!(!stdout(&output).starts_with("ok"), "{}", stdout(&output));
}

#[test]
fn init_writes_a_project_that_validates_tests_and_decides_at_once() {
    let parent = common::workdir("init", "fresh");
    let output = aipolicy(
        &parent,
        &["init", "hallsberg", "--name", "Hallsbergs kommun"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let said = stdout(&output);
    assert!(
        said.starts_with("Wrote a project for Hallsbergs kommun in `hallsberg` (new):\n"),
        "{said}"
    );
    assert!(
        said.contains("\n  cd hallsberg\n  aipolicy validate\n  aipolicy test\n"),
        "{said}"
    );
    let dir = parent.join("hallsberg");
    let files = tree(&dir);
    for expected in [
        "aipolicy.toml",
        "register.yaml",
        "policy.md",
        "privacy.md",
        "policies/u3-publik-ai.cedar",
        "policies/invariants.yaml",
        "tests/scenarios/exempel.yaml",
        ".github/workflows/aipolicy.yml",
    ] {
        assert!(
            files.contains_key(Path::new(expected)),
            "{expected}: {files:?}"
        );
        assert!(
            said.contains(&format!("  {expected}")),
            "{expected}: {said}"
        );
    }
    // No file is Askersund's: the name stands where Askersund's did, the website is to fill in.
    for (path, bytes) in &files {
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            !text.to_lowercase().contains("askersund"),
            "{} names Askersund",
            path.display()
        );
    }
    let register = String::from_utf8(files[Path::new("register.yaml")].clone()).unwrap();
    assert!(
        register.contains("\nmunicipality: Hallsbergs kommun\n"),
        "{register}"
    );
    assert!(register.contains("www.FYLL-I-KOMMUNENS-WEBBPLATS.se"));

    // The commands in the new folder use its files, and pass.
    let output = aipolicy(&dir, &["validate"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).starts_with("inputs: policies policies, register register.yaml, invariants policies/invariants.yaml, scenarios tests/scenarios; embedded Askersund schema (project .)\n"),
        "{}",
        stderr(&output)
    );
    let output = aipolicy(&dir, &["test"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("3 passed, 0 failed"),
        "{}",
        stdout(&output)
    );
    let output = aipolicy(
        &dir,
        &[
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "intern",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("U3"), "{}", stdout(&output));
    let output = aipolicy(
        &dir,
        &[
            "check",
            "--user",
            "anna",
            "--ai",
            "copilot-chat",
            "--data",
            "intern",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // It serves: the staff page shows the project's policy text and privacy notice.
    let (mut server, addr, _log) =
        common::spawn_serve_in(Some(&dir), &[], std::time::Duration::from_secs(20));
    let privacy = common::http_get(&addr, "/privacy");
    let policy = common::http_get(&addr, "/policy");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        privacy.contains("Personuppgiftsansvarig") && privacy.contains("Hallsbergs kommun"),
        "{privacy}"
    );
    assert!(!privacy.contains("inte lagt till någon egen integritetstext"));
    assert!(policy.contains("policy.md"), "{policy}");
    // A rule changed in the new project changes its decisions: its files are the ones in force.
    let u3 = dir.join("policies/u3-publik-ai.cedar");
    let text = std::fs::read_to_string(&u3).unwrap();
    std::fs::write(
        &u3,
        text.replace("@paragraph(\"U3\")", "@paragraph(\"U9\")"),
    )
    .unwrap();
    let output = aipolicy(&dir, &["validate"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn init_twice_refuses_with_2_and_changes_nothing() {
    let dir = common::workdir("init", "twice");
    let first = aipolicy(&dir, &["init", "--name", "Hallsbergs kommun"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first)
            .starts_with("Wrote a project for Hallsbergs kommun in the current folder:\n"),
        "{}",
        stdout(&first)
    );
    assert!(!stdout(&first).contains("  cd "), "{}", stdout(&first));
    let before = tree(&dir);
    let second = aipolicy(&dir, &["init", "--name", "Askersunds kommun"]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert_eq!(stdout(&second), "");
    let err = stderr(&second);
    assert!(err.contains("aipolicy.toml"), "{err}");
    assert!(err.contains("register.yaml"), "{err}");
    assert!(flat(&err).contains("nothingwaswritten"), "{err}");
    assert_eq!(tree(&dir), before);
}

#[test]
fn init_writes_nothing_when_one_file_is_in_the_way() {
    let parent = common::workdir("init", "one-in-the-way");
    let dir = parent.join("hallsberg");
    std::fs::create_dir_all(dir.join("tests/scenarios")).unwrap();
    std::fs::write(dir.join("tests/scenarios/exempel.yaml"), "cases: []\n").unwrap();
    let before = tree(&dir);
    let output = aipolicy(
        &parent,
        &["init", "hallsberg", "--name", "Hallsbergs kommun"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        flat(&err).contains(&flat(
            "`hallsberg` already holds a file of the project; nothing was written:\n  hallsberg/tests/scenarios/exempel.yaml"
        )),
        "{err}"
    );
    assert_eq!(tree(&dir), before);
    assert!(!dir.join("aipolicy.toml").exists());

    // Policies of another name are in the way too: they would decide beside the new ones.
    let other = common::workdir("init", "other-policies");
    std::fs::create_dir_all(other.join("policies")).unwrap();
    std::fs::write(other.join("policies/own.cedar"), "").unwrap();
    let output = aipolicy(&other, &["init", "--name", "Hallsbergs kommun"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("own.cedar"), "{}", stderr(&output));
    assert_eq!(tree(&other).len(), 1);
}

#[test]
fn init_needs_a_name_it_can_write() {
    let dir = common::workdir("init", "name");
    let output = aipolicy(&dir, &["init"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--name <NAME>"),
        "{}",
        stderr(&output)
    );
    let output = aipolicy(&dir, &["init", "--name", "Hallsberg: kommun"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        flat(&stderr(&output))
            .contains(&flat("--name `Hallsberg: kommun`: `:` cannot be in a name")),
        "{}",
        stderr(&output)
    );
    assert!(tree(&dir).is_empty());
    // The long help teaches, with an example.
    let output = aipolicy(&dir, &["init", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).contains("aipolicy init hallsberg --name \"Hallsbergs kommun\""),
        "{}",
        stdout(&output)
    );
}
