//! `aipolicy check --text` and `aipolicy batch` with a query's `text`: what is found raises the
//! question, the answer says what and where but never repeats the text, and every bad text is
//! a clear input error (exit 2), never a decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

mod common;

use std::io::Write;

use common::{aipolicy, output, output_fed, text, workdir};

/// Standard error's words, without the frame miette wraps long lines in.
fn words(bytes: &[u8]) -> String {
    text(bytes)
        .split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

const PROMPT: &str = "Klienten 19811218-9876 (tel 070-123 45 67) har diagnos F32.\n";

#[test]
fn a_personnummer_in_a_text_for_a_public_chatbot_is_denied_with_u3_and_what_was_found() {
    let dir = workdir("text", "prompt");
    let file = dir.join("prompt.txt");
    std::fs::write(&file, PROMPT).unwrap();
    let run = aipolicy([
        "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--lang", "en",
        "--format", "json", "--text",
    ])
    .arg(&file)
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(decision["decision"], "deny");
    let policies: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert!(policies.contains(&"u3-public-ai-open-only"), "{policies:?}");
    let found = decision["found"].as_array().unwrap();
    assert_eq!(found[0]["kind"], "personnummer");
    assert_eq!(
        (found[0]["start"].as_u64(), found[0]["end"].as_u64()),
        (Some(9), Some(22))
    );
    assert_eq!(found[0]["class"], "personuppgifter");
    let stdout = text(&run.stdout);
    assert!(
        !stdout.contains("9876") && !stdout.contains("070-123"),
        "{stdout}"
    );
    // The same from stdin, as a person reads it.
    let run = output(
        &mut aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--text", "-",
        ]),
        PROMPT,
    );
    assert_eq!(run.status.code(), Some(1));
    let stdout = text(&run.stdout);
    assert!(stdout.contains("Hittat i texten:"), "{stdout}");
    assert!(
        stdout.contains("ett personnummer [personnummer], tecken 10–22 → personuppgifter"),
        "{stdout}"
    );
    assert!(!stdout.contains("9876"), "{stdout}");
}

#[test]
fn harmless_open_text_is_allowed() {
    let run = output(
        &mut aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--text", "-",
        ]),
        "Skriv en inbjudan till julmarknaden.",
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stdout));
}

#[test]
fn bad_texts_are_input_errors_that_say_what_is_wrong() {
    // Not UTF-8.
    let run = output_fed(
        &mut aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--text", "-",
        ]),
        |mut pipe| {
            let _ = pipe.write_all(b"Hej \xff\xfe d\xe5");
        },
    );
    assert_eq!(run.status.code(), Some(2));
    let stderr = words(&run.stderr);
    // In the answer's language: Swedish by default (the rest of this test asks in English).
    assert!(
        stderr.contains(
            "ogiltig fråga: text: stdin är inte text i UTF-8 (ogiltig byte vid position 4)"
        ),
        "{stderr}"
    );
    let run = output_fed(
        &mut aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--text", "-",
            "--lang", "en",
        ]),
        |mut pipe| {
            let _ = pipe.write_all(b"Hej \xff\xfe d\xe5");
        },
    );
    let stderr = words(&run.stderr);
    assert!(
        stderr.contains("text: stdin is not UTF-8 text (invalid byte at offset 4)"),
        "{stderr}"
    );
    // Over 1 MiB, and an endless stream: stopped at the limit.
    for source in ["/dev/zero", "big"] {
        let dir = workdir("text", "big");
        let path = if source == "big" {
            let file = dir.join("big.txt");
            std::fs::write(&file, "a".repeat(aipolicy::query::MAX_TEXT_BYTES + 1)).unwrap();
            file
        } else {
            source.into()
        };
        let run = aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--data", "oppen", "--lang", "en",
            "--text",
        ])
        .arg(&path)
        .output()
        .unwrap();
        assert_eq!(run.status.code(), Some(2));
        let stderr = words(&run.stderr);
        assert!(
            stderr.contains("the limit of a text is 1048576 bytes (1 MiB)"),
            "{stderr}"
        );
    }
    // A missing file.
    let run = aipolicy([
        "check",
        "--user",
        "anna",
        "--ai",
        "chatgpt",
        "--lang",
        "en",
        "--text",
        "no-such-prompt.txt",
    ])
    .output()
    .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(words(&run.stderr).contains("cannot read the text file `no-such-prompt.txt`"));
    // Nothing found and no class named: not taken as open.
    let run = output(
        &mut aipolicy([
            "check", "--user", "anna", "--ai", "chatgpt", "--text", "-", "--lang", "en",
        ]),
        "Skriv en dikt.",
    );
    assert_eq!(run.status.code(), Some(2));
    assert!(words(&run.stderr).contains("nothing found in `text` belongs to a data class"));
}

#[test]
fn batch_decides_texts_line_by_line_with_what_was_found() {
    let lines = [
        r#"{"user":"anna","ai":"chatgpt","data":"oppen","text":"Skriv en inbjudan.","requestId":"a"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"oppen","text":["Hej","Gäller 811218-9876"],"requestId":"b"}"#,
        r#"{"user":"anna","ai":"chatgpt","text":"Skriv en dikt.","requestId":"c"}"#,
    ];
    let run = output(&mut aipolicy(["batch", "--lang", "en"]), &lines.join("\n"));
    let out: Vec<serde_json::Value> = text(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 3);
    assert_eq!(out[0]["decision"], "allow");
    assert!(out[0].get("found").is_none());
    assert_eq!(out[1]["decision"], "deny");
    assert_eq!(out[1]["found"][0]["message"], 1);
    assert_eq!(out[1]["requestId"], "b");
    assert_eq!(out[2]["decision"], "deny");
    assert!(out[2]["errors"][0]
        .as_str()
        .unwrap()
        .contains("data: nothing found in `text`"));
    assert!(!text(&run.stdout).contains("9876"));
}
