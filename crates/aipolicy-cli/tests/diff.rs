//! `aipolicy diff`: prepared changes to a copy of the Askersund project — a forbid removed, a
//! user group widened, a register key changed, a system added, a reformat — each compared
//! with the unchanged copy, as reviewed snapshots (text, and Markdown for one) and checks of
//! the JSON: the right cells, the right proof result, the right exit code. Then the same
//! through git: the working tree against `HEAD`, two revisions, a revision that is none.
//!
//! The proofs need the SMT solver cvc5 (`apt-get install cvc5`, or `CVC5=<path>`); CI's
//! `.ci/run` installs it. Without it these tests fail with that advice, never pass silently.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A copy of the Askersund project (policies, schema, register) in `dir/name`.
fn project(dir: &Path, name: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("policies")).unwrap();
    std::fs::create_dir_all(root.join("schemas")).unwrap();
    for entry in std::fs::read_dir(common::repo("policies")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, root.join("policies").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        common::repo("schemas/aipolicy.cedarschema"),
        root.join("schemas/aipolicy.cedarschema"),
    )
    .unwrap();
    std::fs::copy(
        common::repo("examples/askersund/register.yaml"),
        root.join("register.yaml"),
    )
    .unwrap();
    root
}

/// Replaces `from` (which must be there) by `to` in `file`, once.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "`{from}` is not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Removes the policy `id` (from its `@id` to its `;`) from `file`.
fn remove_policy(file: &Path, id: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let start = text.find(&format!("@id(\"{id}\")")).unwrap();
    let end = start + text[start..].find(';').unwrap() + 1;
    std::fs::write(file, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

/// `old/` and `new/`, both the Askersund project, in a fresh folder for test `name`.
fn pair(name: &str) -> (PathBuf, PathBuf) {
    let dir = common::workdir("diff", name);
    project(&dir, "old");
    let new = project(&dir, "new");
    (dir, new)
}

/// Runs `aipolicy diff ARGS…` in `dir`: exit code, stdout, stderr.
fn diff(dir: &Path, args: &[&str]) -> (i32, String, String) {
    common::require_cvc5();
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let output = common::output(
        common::aipolicy(&all).current_dir(dir).env("NO_COLOR", "1"),
        "",
    );
    (
        output.status.code().unwrap_or(-1),
        common::text(&output.stdout),
        common::text(&output.stderr),
    )
}

/// The snapshot of what a person sees, timings replaced.
fn snapshot(name: &str, args: &[&str], (code, stdout, _): &(i32, String, String)) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\(\d+ ms\)", "([time])");
    settings.add_filter(r"cvc5 version [0-9.]+", "cvc5 version [version]");
    settings.bind(|| {
        insta::assert_snapshot!(
            name,
            format!("$ aipolicy diff {}\nexit: {code}\n{stdout}", args.join(" "))
        );
    });
}

/// The JSON of `aipolicy diff old new --format json`.
fn json(dir: &Path) -> (i32, Value) {
    let (code, stdout, stderr) = diff(dir, &["old", "new", "--format", "json", "-q"]);
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    (code, value)
}

/// Each action's proof of a diff's JSON: (new allows more, old allowed more), by result.
fn proof(value: &Value) -> Vec<(String, String, String)> {
    value["proof"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["newAllowsMore"]["result"].as_str().unwrap().to_string(),
                a["oldAllowsMore"]["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const ARGS: &[&str] = &["old", "new", "--lang", "en", "-q"];

#[test]
fn a_reformat_is_proved_equivalent() {
    let (dir, new) = pair("reformat");
    // Another layout and a comment: the Cedar is the same.
    edit(
        &new.join("policies/u3-publik-ai.cedar"),
        "forbid (\n  principal,\n  action in Action::\"anyUse\",\n  resource\n)",
        "// Reformatted by hand: one line.\nforbid (principal, action in Action::\"anyUse\", resource)",
    );
    let run = diff(&dir, ARGS);
    assert_eq!(run.0, 0, "{}{}", run.1, run.2);
    assert!(
        run.1.contains("No decision changes in the 54432 cells of the matrix, proved equivalent for every request."),
        "{}",
        run.1
    );
    snapshot("reformat", ARGS, &run);
    let (code, value) = json(&dir);
    assert_eq!(code, 0);
    assert!(proof(&value)
        .iter()
        .all(|(_, new, old)| new == "proved" && old == "proved"));
    assert_eq!(value["rules"]["policies"], Value::Array(Vec::new()));
    assert_eq!(value["rules"]["filesChanged"][0], "u3-publik-ai.cedar");
}

#[test]
fn a_forbid_removed_is_found_by_the_proof_where_the_matrix_sees_nothing() {
    let (dir, new) = pair("forbid");
    remove_policy(
        &new.join("policies/u3-publik-ai.cedar"),
        "u3-public-ai-open-only",
    );
    let run = diff(&dir, ARGS);
    // The register's public AI is denied above open data by other rules too; the proof finds
    // a register where only U3 stood in the way.
    assert_eq!(run.0, 1, "{}{}", run.1, run.2);
    snapshot("forbid-removed", ARGS, &run);
    let (code, value) = json(&dir);
    assert_eq!(code, 1);
    assert_eq!(value["newlyAllowed"], 0);
    let proof = proof(&value);
    let (_, use_new, use_old) = proof.iter().find(|(a, _, _)| a == "use").unwrap();
    assert_eq!(
        (use_new.as_str(), use_old.as_str()),
        ("counterexample", "proved")
    );
    // The counterexample, replayed: the old policies deny it, the new allow it.
    let use_proof = &value["proof"]["actions"][0]["newAllowsMore"];
    assert_eq!(use_proof["old"], "deny");
    assert_eq!(use_proof["new"], "allow");
    // Only takes away? No: every action but reportIncident's permits a new request… and the
    // old policies allow nothing the new do not.
    assert!(proof.iter().all(|(_, _, old)| old == "proved"));
    // The U3 reason is gone from the cells of public AI.
    assert!(value["reasonGroups"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["ai"] == "chatgpt" && g["removed"][0] == "U3 u3-public-ai-open-only"));
    // For CI: something is newly allowed, so --fail-on newly-allowed fails too.
    let (code, _, _) = diff(&dir, &["old", "new", "-q", "--fail-on", "newly-allowed"]);
    assert_eq!(code, 1);
}

#[test]
fn a_user_group_widened_allows_contractors_copilot_chat() {
    let (dir, new) = pair("groups");
    edit(
        &new.join("register.yaml"),
        "    userGroups: [employee, elected]\n    aiActRisk: limited",
        "    userGroups: [employee, contractor, elected]\n    aiActRisk: limited",
    );
    let run = diff(&dir, ARGS);
    assert_eq!(run.0, 1, "{}{}", run.1, run.2);
    assert!(run.1.contains(
        "Private contractors may now use `copilot-chat` with `oppen` and `intern`: deny (§3 s3-user-in-user-groups) → allow"
    ), "{}", run.1);
    snapshot("user-group-widened", ARGS, &run);
    let md_args = ["old", "new", "--lang", "en", "-q", "--format", "md"];
    snapshot("user-group-widened-md", &md_args, &diff(&dir, &md_args));
    let sv_args = ["old", "new", "-q"];
    let sv = diff(&dir, &sv_args);
    assert!(sv.1.contains("Privata utförare får nu använda `copilot-chat` med `oppen` och `intern`: nekat (§3 s3-user-in-user-groups) → tillåtet"), "{}", sv.1);
    let (code, value) = json(&dir);
    assert_eq!(code, 1);
    assert_eq!(value["newlyAllowed"], 56);
    assert_eq!(value["newlyDenied"], 0);
    let changes = value["changes"].as_array().unwrap();
    assert!(changes
        .iter()
        .filter(|c| c["shift"] == "newlyAllowed")
        .all(|c| c["role"] == "contractor" && c["ai"] == "copilot-chat"));
    // The register's change, with the decisions it changed; the policies are the same.
    let item = &value["register"][0];
    assert_eq!(item["id"], "copilot-chat");
    assert_eq!(item["keys"][0]["key"], "userGroups");
    assert_eq!(item["newlyAllowed"], 56);
    assert!(proof(&value)
        .iter()
        .all(|(_, new, old)| new == "proved" && old == "proved"));
}

#[test]
fn a_register_key_narrowed_only_takes_away() {
    let (dir, new) = pair("key");
    edit(
        &new.join("register.yaml"),
        "    maxDataLevel: 1\n    personalData: none\n    secrecy: false\n    userGroups: [employee, elected]",
        "    maxDataLevel: 0\n    personalData: none\n    secrecy: false\n    userGroups: [employee, elected]",
    );
    let run = diff(&dir, ARGS);
    assert_eq!(run.0, 1, "{}{}", run.1, run.2);
    snapshot("register-key-changed", ARGS, &run);
    let (_, value) = json(&dir);
    assert_eq!(value["newlyAllowed"], 0);
    assert!(value["newlyDenied"].as_u64().unwrap() > 0);
    assert!(value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["shift"] == "newlyDenied")
        .all(|c| c["ai"] == "copilot-chat" && c["data"] == "intern"));
    // Nothing newly allowed: CI's --fail-on newly-allowed passes.
    let (code, _, _) = diff(&dir, &["old", "new", "-q", "--fail-on", "newly-allowed"]);
    assert_eq!(code, 0);
}

#[test]
fn a_system_added_is_decided_where_it_was_public_ai_before() {
    let (dir, new) = pair("system");
    edit(
        &new.join("register.yaml"),
        "users:\n",
        "  - id: sammanfattaren\n    name: Sammanfattaren\n    hosting: internal\n    approved: true\n    owner: IT-chef\n    verified: true\n    maxDataLevel: 1\n    userGroups: [employee]\n\nusers:\n",
    );
    let run = diff(&dir, ARGS);
    assert_eq!(run.0, 1, "{}{}", run.1, run.2);
    assert!(
        run.1
            .contains("Employees may now use `sammanfattaren` with `intern`"),
        "{}",
        run.1
    );
    snapshot("system-added", ARGS, &run);
    let (_, value) = json(&dir);
    let item = value["register"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "sammanfattaren")
        .unwrap()
        .clone();
    assert_eq!(item["status"], "added");
    assert_eq!(item["newlyAllowed"], value["newlyAllowed"]);
}

/// `git` in `dir`, which must succeed.
fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn git_revisions_and_the_working_tree() {
    let dir = common::workdir("diff", "git");
    let root = project(&dir, "repo");
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "first"]);
    // The working tree equals HEAD: no changes, proved.
    let (code, stdout, stderr) = diff(&root, &["--lang", "en"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("The change HEAD ("), "{stdout}");
    assert!(stdout.contains("→ the working tree"), "{stdout}");
    assert!(stderr.contains("old: HEAD ("), "{stderr}");
    assert!(stderr.contains("policies HEAD:policies"), "{stderr}");
    // An edit not yet committed is what `aipolicy diff` alone shows.
    edit(
        &root.join("register.yaml"),
        "    userGroups: [employee, elected]\n    aiActRisk: limited",
        "    userGroups: [employee, contractor, elected]\n    aiActRisk: limited",
    );
    let (code, stdout, _) = diff(&root, &["--lang", "en", "--no-proof", "-q"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("Private contractors may now use `copilot-chat`"));
    assert!(stdout.contains("Proof: not made (--no-proof)"));
    // Committed: two revisions, from a folder below the project's root too.
    git(&root, &["commit", "-q", "-am", "contractors"]);
    let (code, stdout, _) = diff(
        &root.join("policies"),
        &["HEAD~1", "HEAD", "--lang", "en", "--no-proof", "-q"],
    );
    assert_eq!(code, 1);
    assert!(stdout.contains("Private contractors may now use `copilot-chat`"));
    // A revision that is none, and one that is no folder outside git: errors, exit 2.
    let (code, _, stderr) = diff(&root, &["no-such-rev", "--no-proof"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("`no-such-rev` is neither a folder nor a git revision"),
        "{stderr}"
    );
    let outside = common::workdir("diff", "no-git");
    let (code, _, stderr) = diff(&outside, &["HEAD", "--no-proof"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not in a git repository"), "{stderr}");
}

#[test]
fn a_broken_side_is_an_error_naming_its_file_and_line() {
    let (dir, new) = pair("broken");
    edit(
        &new.join("register.yaml"),
        "maxDataLevel: 1",
        "maxDataLevel: 9",
    );
    let (code, _, stderr) = diff(&dir, &["old", "new", "--no-proof"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("new: "), "{stderr}");
    assert!(stderr.contains("register.yaml"), "{stderr}");
    assert!(stderr.contains("line "), "{stderr}");
}

#[test]
fn a_data_class_added_was_an_input_error_before_said_in_one_language() {
    let (dir, new) = pair("class");
    edit(
        &new.join("register.yaml"),
        "aiSystems:\n",
        "  - id: forskningsdata\n    name: Forskningsdata\n    level: 1\n    personalData: none\n    secrecy: false\n\naiSystems:\n",
    );
    let (code, stdout, stderr) = diff(&dir, &["old", "new", "-q", "--no-proof"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    // Before, a query naming the class was refused (never allowed); now it is decided.
    assert!(
        stdout.contains("Anställda och förtroendevalda får nu använda `copilot-chat` med `forskningsdata`: indatafel (registret har ingen informationsklass `forskningsdata`) → tillåtet"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Informationsklass `forskningsdata` tillagd"),
        "{stdout}"
    );
    // One language: none of the English sentences or headings.
    for english in [
        "may now",
        "Newly allowed",
        "input error",
        "decisions changed",
    ] {
        assert!(!stdout.contains(english), "`{english}` in {stdout}");
    }
    let (_, value) = json(&dir);
    let change = value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["data"] == "forskningsdata")
        .unwrap();
    assert_eq!(change["old"]["unknownClass"], "forskningsdata");
    assert_eq!(change["old"]["decision"], "deny");
}
