//! `/v1/decide` and `/v1/batch`.

use serde_json::Value;

use super::*;

fn is_uuid_v7(id: &Value) -> bool {
    let id = id.as_str().unwrap_or_default();
    id.len() == 36 && id.as_bytes()[14] == b'7' && uuid::Uuid::parse_str(id).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decide_answers_the_decision_json_with_its_id_and_revision() {
    let server = start(args()).await;
    let response = server
        .client
        .post(server.url("/v1/decide"))
        .header("content-type", "application/json")
        .header("x-request-id", "hdr-1")
        .body(r#"{"user":"anna","ai":"chatgpt","data":"intern","requestId":"r-17"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "hdr-1");
    assert_eq!(response.headers()["content-type"], "application/json");
    let (status, body) = read(response).await;
    assert_eq!(status, 200);
    assert_eq!(body["decision"], "deny");
    assert_eq!(body["requestId"], "r-17");
    assert!(body["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["paragraph"] == "U3"));
    assert!(is_uuid_v7(&body["decisionId"]), "{body}");
    let revision = server.state.current().unwrap().revision.to_string();
    assert_eq!(body["policyRevision"], revision.as_str());

    let (status, allow) = server.post_json("/v1/decide?lang=en", ANNA_COPILOT).await;
    assert_eq!((status, allow["decision"].as_str()), (200, Some("allow")));
    assert_eq!(allow["obligations"][0]["paragraph"], "U1");
    assert!(allow["obligations"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("You are responsible"));
    assert!(allow.get("requestId").is_none());
    assert_ne!(allow["decisionId"], body["decisionId"]);
    // The same question again (from the memo) gets its own id.
    let (_, again) = server.post_json("/v1/decide?lang=en", ANNA_COPILOT).await;
    assert_eq!(again["obligations"], allow["obligations"]);
    assert_ne!(again["decisionId"], allow["decisionId"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_query_is_a_deny_naming_the_field_never_an_allow() {
    let server = start(args()).await;
    let cases = [
        (
            r#"{"user":"anna","ai":"chatgpt","data":"hemligt","requestId":"q"}"#,
            400,
            "data[0]: unknown data class `hemligt`",
        ),
        (
            r#"{"user":"anna","ai":"chatgpt"}"#,
            400,
            "data: missing required field",
        ),
        (
            r#"{"user":"nobody","ai":"chatgpt","data":"oppen"}"#,
            400,
            "unknown user `nobody`",
        ),
        (
            r#"{"user":"anna","ai":"chatgpt","data":"oppen","purpose":"x"}"#,
            400,
            "purpose: unknown field",
        ),
        (
            r#"{"user":{"id":"x","roles":["admin"]},"ai":"chatgpt","data":"oppen"}"#,
            400,
            "user.roles[0]",
        ),
        (
            r#"{"user":"anna","ai":"chatgpt","data":"oppen","data":"intern"}"#,
            400,
            "duplicate",
        ),
        ("{", 400, "invalid JSON"),
        ("", 400, "invalid JSON"),
        ("[1]", 400, ""),
    ];
    for (body, status, error) in cases {
        let (got, decision) = server.post_json("/v1/decide?lang=en", body).await;
        assert_eq!(got, status, "{body}: {decision}");
        assert_eq!(decision["decision"], "deny", "{body}");
        assert_eq!(
            decision["reasons"][0]["policy"], "aipolicy-invalid-query",
            "{body}"
        );
        let errors = decision["errors"].to_string();
        assert!(errors.contains(error), "{body}: {errors}");
        assert!(decision["decisionId"].is_string(), "{body}");
    }
    let (_, first) = server.post_json("/v1/decide", cases[0].0).await;
    assert_eq!(first["requestId"], "q");

    // Wrong content type, too large, too deep: each a deny that names the limit or the type.
    let response = server
        .client
        .post(server.url("/v1/decide"))
        .header("content-type", "text/plain")
        .body(ANNA_COPILOT)
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, 415);
    assert_eq!(body["decision"], "deny");
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("application/json"),
        "{body}"
    );
    let big = format!(
        r#"{{"user":"anna","ai":"chatgpt","data":"oppen","requestId":"{}"}}"#,
        "x".repeat(2_200_000)
    );
    let (status, body) = server.post_json("/v1/decide", &big).await;
    assert_eq!(status, 413);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("gränsen 2097152 byte (2 MiB)"),
        "{body}"
    );
    let deep = format!(
        r#"{{"user":"anna","ai":"chatgpt","data":"oppen","x":{}{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let (status, body) = server.post_json("/v1/decide", &deep).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0].as_str().unwrap().contains("16 nivåer"),
        "{body}"
    );
    let (status, body) = server.post_json("/v1/decide?lang=xx", ANNA_COPILOT).await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("okänt språk `xx`"),
        "{body}"
    );
    let invalid_utf8 = server
        .client
        .post(server.url("/v1/decide"))
        .header("content-type", "application/json")
        .body(vec![b'{', 0xff, b'}'])
        .send()
        .await
        .unwrap();
    let (status, body) = read(invalid_utf8).await;
    assert_eq!((status, body["decision"].as_str()), (400, Some("deny")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_answers_json_lines_in_order_as_aipolicy_batch() {
    let server = start(args()).await;
    let mut lines = Vec::new();
    for i in 0..150 {
        lines.push(match i % 3 {
            0 => format!(
                r#"{{"user":"anna","ai":"copilot-chat","data":"intern","requestId":"{i}"}}"#
            ),
            1 => format!(r#"{{"user":"anna","ai":"chatgpt","data":"intern","requestId":"{i}"}}"#),
            _ => format!(r#"{{"user":"anna","ai":"chatgpt","data":"hemligt","requestId":"{i}"}}"#),
        });
    }
    let body = format!("{}\n", lines.join("\n"));
    let response = server
        .client
        .post(server.url("/v1/batch"))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert_eq!(response.headers()["x-aipolicy-input-errors"], "50");
    let text = response.text().await.unwrap();
    let out: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 150);
    for (i, d) in out.iter().enumerate() {
        assert_eq!(d["requestId"], i.to_string().as_str());
        let expected = if i % 3 == 0 { "allow" } else { "deny" };
        assert_eq!(d["decision"], expected, "{d}");
        assert!(d["decisionId"].is_string() && d["policyRevision"].is_string());
        if i % 3 == 2 {
            let error = d["errors"][0].as_str().unwrap();
            assert!(
                error.starts_with(&format!("rad {}: data[0]: okänd informationsklass", i + 1)),
                "{error}"
            );
        }
    }
    let wrong_type = server.post_json("/v1/batch", ANNA_COPILOT).await;
    assert_eq!(wrong_type.0, 415);
    server.stop().await;

    let server = start(ServeArgs {
        max_batch: 3,
        max_body: 1000,
        ..args()
    })
    .await;
    let post = |body: String| {
        server
            .client
            .post(server.url("/v1/batch"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    let (status, body) = read(post(format!("{ANNA_COPILOT}\n").repeat(4)).await.unwrap()).await;
    assert_eq!(status, 413);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("gränsen är 3 per begäran (--max-batch)"),
        "{body}"
    );
    let (status, body) = read(post(" ".repeat(1001)).await.unwrap()).await;
    assert_eq!(status, 413);
    assert!(
        body["errors"][0]
            .as_str()
            .unwrap()
            .contains("gränsen 1000 byte"),
        "{body}"
    );
    server.stop().await;
}

/// The service decides on its own clock: no caller can move a decision to another day, where
/// a lapsed assessment might still hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_cannot_move_the_day_of_its_decision() {
    let server = start(args()).await;
    let (status, body) = server
        .post_json(
            "/v1/decide",
            r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2026-01-01"}"#,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["decision"], "deny");
    assert!(
        body["errors"][0].as_str().unwrap().starts_with("at: "),
        "{body}"
    );
    // In a batch, the line is an input error and the others are decided.
    let response = server
        .client
        .post(server.url("/v1/batch"))
        .header("content-type", "application/x-ndjson")
        .body(format!(
            "{}\n{}\n",
            r#"{"user":"anna","ai":"copilot-chat","data":"intern","at":"2026-01-01"}"#,
            ANNA_COPILOT
        ))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "deny");
    assert!(
        lines[0]["errors"][0].as_str().unwrap().contains("at: "),
        "{text}"
    );
    assert_eq!(lines[1]["decision"], "allow");
    // AuthZEN has no such context key either.
    let (status, body) = server
        .post_json(
            "/access/v1/evaluation",
            r#"{"subject":{"type":"user","id":"anna"},"resource":{"type":"ai_system","id":"copilot-chat"},"action":{"name":"use"},"context":{"data":["intern"],"at":"2026-01-01"}}"#,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    server.stop().await;
}

/// A decision remembered before midnight is not the answer after it: the day decides which
/// assessments hold, and the memo keys on that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_decides_a_new_day_by_the_new_days_assessments() {
    let (project, mut args) = project();
    // Copilot Chat's verification, made 2026-10-01, holds 12 months: through 2027-10-01.
    let (clock, hand) = aipolicy::Clock::manual(aipolicy::clock::parse_date("2027-10-01").unwrap());
    args.clock = clock;
    let server = start(args).await;
    let (_, before) = server.post_json("/v1/decide?lang=en", ANNA_COPILOT).await;
    assert_eq!(before["decision"], "allow", "{before}");
    let (_, again) = server.post_json("/v1/decide?lang=en", ANNA_COPILOT).await;
    assert_eq!(again["decision"], "allow");
    hand.set(aipolicy::clock::parse_date("2027-10-02").unwrap());
    let (_, after) = server.post_json("/v1/decide?lang=en", ANNA_COPILOT).await;
    assert_eq!(
        after["decision"], "deny",
        "yesterday's allow was served: {after}"
    );
    let message = after["reasons"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("of 2026-10-01 held through 2027-10-01"),
        "{message}"
    );
    // The status says the day the service decides at.
    let (_, status) = server.get("/v1/status").await;
    assert_eq!(status["day"], "2027-10-02", "{status}");
    assert_eq!(status["dayFixed"], true);
    // The staff page decides by the same clock, and says where to report.
    let page = server
        .client
        .get(server.url("/ask?ai=copilot-chat&data=intern&action=use&role=employee"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Nej, det får du inte"), "{page}");
    assert!(page.contains("rapporteras till: IT-servicedesk"), "{page}");
    server.stop().await;
    drop(project);
}

/// Every line of a batch gets a decision, a blank one too (as `aipolicy batch`), so every line
/// counts toward `--max-batch`: a body of line breaks cannot ask for unbounded output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_lines_count_toward_max_batch() {
    let server = start(ServeArgs {
        max_batch: 3,
        ..args()
    })
    .await;
    let post = |body: String| {
        server
            .client
            .post(server.url("/v1/batch"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
    };
    // Three lines, two of them blank: three decisions, the blank ones denies naming their line.
    let response = post(format!("{ANNA_COPILOT}\n\n \n")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-aipolicy-input-errors"], "2");
    let text = response.text().await.unwrap();
    let out: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(out.len(), 3, "{text}");
    assert_eq!(out[0]["decision"], "allow");
    for (i, blank) in out[1..].iter().enumerate() {
        assert_eq!(blank["decision"], "deny");
        let error = blank["errors"][0].as_str().unwrap();
        assert!(
            error.starts_with(&format!("rad {}: tom rad", i + 2)),
            "{error}"
        );
    }
    // Four lines or more, however many of them are blank: over the limit.
    for body in [
        "\n".repeat(5),
        " \n".repeat(4),
        format!("{ANNA_COPILOT}\n\n\n{ANNA_COPILOT}\n"),
    ] {
        let (status, answer) = read(post(body.clone()).await.unwrap()).await;
        assert_eq!(status, 413, "{body:?}: {answer}");
        assert_eq!(answer["decision"], "deny");
        assert!(
            answer["errors"][0]
                .as_str()
                .unwrap()
                .contains("gränsen är 3 per begäran (--max-batch)"),
            "{answer}"
        );
    }
    server.stop().await;

    // What the hostile client sent: a megabyte of line breaks, under the default limits.
    let server = start(args()).await;
    let response = server
        .client
        .post(server.url("/v1/batch"))
        .header("content-type", "application/x-ndjson")
        .body("\n".repeat(1 << 20))
        .send()
        .await
        .unwrap();
    let (status, answer) = read(response).await;
    assert_eq!(status, 413);
    let error = answer["errors"][0].as_str().unwrap();
    assert!(
        error.starts_with("1048576 rader")
            && error.contains("gränsen är 10000 per begäran (--max-batch)"),
        "{error}"
    );
    server.stop().await;
}

/// A caller that reads only `decision` must never take an error for an allow: a method the
/// endpoint does not take is a deny too, saying which it takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_of_the_native_api_is_a_decision_json_a_wrong_method_too() {
    let server = start(args()).await;
    for path in ["/v1/decide", "/v1/batch"] {
        for method in [
            reqwest::Method::GET,
            reqwest::Method::PUT,
            reqwest::Method::DELETE,
            reqwest::Method::PATCH,
            reqwest::Method::OPTIONS,
        ] {
            let response = server
                .client
                .request(method.clone(), server.url(path))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(response.headers()["allow"], "POST", "{method} {path}");
            assert_eq!(
                response.headers()["content-type"],
                "application/json",
                "{method} {path}"
            );
            let (_, body) = read(response).await;
            assert_eq!(body["decision"], "deny", "{method} {path}: {body}");
            assert!(!body["reasons"].as_array().unwrap().is_empty(), "{body}");
            let error = body["errors"][0].as_str().unwrap();
            assert!(
                error.contains(&format!("`{method} {path}`")) && error.contains("POST"),
                "{error}"
            );
        }
    }
    // The AuthZEN endpoints answer in their own shape: a message string.
    let response = server
        .client
        .get(server.url("/access/v1/evaluation"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(text.contains("POST"), "{text}");
    server.stop().await;
}

/// `serve --registered-users-only`: a user the register does not list is denied (U0,
/// `aipolicy-unregistered-user`) on the native API, on AuthZEN and on the staff page alike, and
/// the register's users are decided as before, however their id is spelt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_users_only_denies_unlisted_users_on_every_api() {
    let stranger = r#"{"user":{"id":"tove.extern","roles":["employee"],"aiLiteracy":true},"ai":"copilot-chat","data":"intern"}"#;
    let anna = r#"{"user":{"id":"ANNA","roles":["employee"]},"ai":"copilot-chat","data":"intern"}"#;

    // Without the switch: decided on the roles given, and noted.
    let server = start(args()).await;
    let (status, open) = server.post_json("/v1/decide?lang=en", stranger).await;
    assert_eq!(
        (status, open["decision"].as_str()),
        (200, Some("allow")),
        "{open}"
    );
    assert!(open["notes"][0]
        .as_str()
        .unwrap()
        .starts_with("User `tove.extern` is not in the register"));
    server.stop().await;

    let server = start(ServeArgs {
        registered_users_only: true,
        ..args()
    })
    .await;
    // Native, twice (the second from the memo), and in a batch.
    for _ in 0..2 {
        let (status, deny) = server.post_json("/v1/decide?lang=en", stranger).await;
        assert_eq!(
            (status, deny["decision"].as_str()),
            (200, Some("deny")),
            "{deny}"
        );
        assert_eq!(deny["reasons"][0]["policy"], "aipolicy-unregistered-user");
        assert_eq!(deny["reasons"][0]["paragraph"], "U0");
        let (status, allow) = server.post_json("/v1/decide?lang=en", anna).await;
        assert_eq!(
            (status, allow["decision"].as_str()),
            (200, Some("allow")),
            "{allow}"
        );
        assert!(allow["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("User `ANNA` is the register's `anna`"));
    }
    let response = server
        .client
        .post(server.url("/v1/batch"))
        .header("content-type", "application/x-ndjson")
        .body(format!("{stranger}\n{anna}\n"))
        .send()
        .await
        .unwrap();
    let body = response.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["reasons"][0]["policy"], "aipolicy-unregistered-user",
        "{body}"
    );
    assert_eq!(lines[1]["decision"], "allow", "{body}");

    // AuthZEN: an inline subject the register does not list is denied; anna is not.
    let evaluation = |id: &str| {
        serde_json::json!({
            "subject": {"type": "user", "id": id, "properties": {"roles": ["employee"], "aiLiteracy": true}},
            "action": {"name": "use"},
            "resource": {"type": "ai_system", "id": "copilot-chat"},
            "context": {"data": ["intern"]}
        })
        .to_string()
    };
    let (status, deny) = server
        .post_json("/access/v1/evaluation", &evaluation("tove.extern"))
        .await;
    assert_eq!(
        (status, deny["decision"].as_bool()),
        (200, Some(false)),
        "{deny}"
    );
    assert!(
        deny.to_string().contains("aipolicy-unregistered-user"),
        "{deny}"
    );
    let (status, allow) = server
        .post_json("/access/v1/evaluation", &evaluation("anna"))
        .await;
    assert_eq!(
        (status, allow["decision"].as_bool()),
        (200, Some(true)),
        "{allow}"
    );

    // The staff page: a visitor is no user of the register, so the answer is no, with the
    // reason (and no note about the stand-in user the page asks about).
    let response = server
        .client
        .get(server.url("/ask?ai=copilot-chat&data=intern&role=employee&lang=en"))
        .send()
        .await
        .unwrap();
    let html = response.text().await.unwrap();
    assert!(
        html.contains("The user is not in the register, and here only the"),
        "{html}"
    );
    assert!(
        !html.contains("is not in the register, so the roles"),
        "{html}"
    );
    server.stop().await;
}

/// Words that give a language away: an answer in one has none of the other's.
const ENGLISH_WORDS: [&str; 8] = [
    " the ",
    " is not ",
    "unknown",
    "expected",
    "missing",
    "did you mean",
    "EU AI Act",
    "GDPR",
];
const SWEDISH_WORDS: [&str; 8] = [
    " inte ",
    "okänd",
    "saknas",
    "menade du",
    " är ",
    "registret",
    "AI-förordningen",
    "dataskyddsförordningen",
];

/// The reasons, duties, notes and errors of an answer, as one text.
fn said(answer: &Value) -> String {
    let mut texts = Vec::new();
    for list in ["reasons", "obligations"] {
        for item in answer[list].as_array().into_iter().flatten() {
            texts.push(item["message"].as_str().unwrap_or_default().to_string());
            texts.push(item["law"].as_str().unwrap_or_default().to_string());
        }
    }
    for list in ["notes", "errors"] {
        for text in answer[list].as_array().into_iter().flatten() {
            texts.push(text.as_str().unwrap_or_default().to_string());
        }
    }
    texts.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_speaks_the_language_asked_for_and_only_that() {
    let server = start(args()).await;
    let queries = [
        // A system the register does not list, near a listed one: a deny with a note.
        r#"{"user":"anna","ai":"copilot","data":"intern"}"#,
        // An inline user the register lists spelt otherwise, and one it does not list.
        r#"{"user":{"id":"ANNA","roles":["employee"]},"ai":"copilot-chat","data":"intern"}"#,
        r#"{"user":{"id":"ana","roles":["employee"]},"ai":"lokal-sprakmodell","data":"personuppgifter","action":"decide","context":{"humanReview":true}}"#,
        // A rule from law: the law named in the answer's language.
        r#"{"user":"anna","ai":"chatgpt","data":"kansliga-personuppgifter"}"#,
        // Input errors: an unknown class (near a known one), a missing field, an unknown key.
        r#"{"user":"anna","ai":"chatgpt","data":"intrn"}"#,
        r#"{"user":"anna","ai":"chatgpt"}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"oppen","contxt":{}}"#,
        r#"{"user":"anna","ai":"chatgpt","data":"oppen""#,
    ];
    for query in queries {
        for (lang, other_language) in [("sv", ENGLISH_WORDS), ("en", SWEDISH_WORDS)] {
            let (_, answer) = server
                .post_json(&format!("/v1/decide?lang={lang}"), query)
                .await;
            let text = said(&answer);
            assert!(!text.is_empty(), "{query}: {answer}");
            for word in other_language {
                assert!(
                    !text.contains(word),
                    "{lang}: {word:?} in the answer to {query}:\n{text}"
                );
            }
        }
    }
    // The batch says a bad line's problems in the same language as its decisions.
    let response = server
        .client
        .post(server.url("/v1/batch?lang=sv"))
        .header("content-type", "application/x-ndjson")
        .body(format!("{}\n\n", queries[4]))
        .send()
        .await
        .unwrap();
    let (_, body) = read(response).await;
    let text = body.as_str().unwrap_or_default().to_string();
    assert!(text.contains("rad 2: tom rad"), "{text}");
    for word in ENGLISH_WORDS {
        assert!(!text.contains(word), "{word:?} in {text}");
    }
    server.stop().await;
}
