//! Bad input, from either side: bodies too large, not UTF-8, not JSON, content that cannot be
//! read; AI systems that are down, hang, answer garbage, refuse the credential or never end; a
//! client that goes away mid-stream. Each is a clear error, never an answer without a
//! decision, and nothing reaches the model that was not decided.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::upstream::Mode;
use super::*;

const USER: [(&str, &str); 2] = [("x-aipolicy-user", "anna"), ("x-aipolicy-data", "oppen")];

#[tokio::test]
async fn a_body_of_10_mb_is_413() {
    let gateway = start().await;
    let text = "a".repeat(10 * 1024 * 1024);
    let response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &USER,
            chat("chatgpt", &text, false),
        )
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, 413, "{body}");
    assert!(error_of(&body).2.contains("2097152 bytes"), "{body}");
    // Within the body limit, but more text than the engine reads.
    let text = "a".repeat(1536 * 1024);
    let (status, _, body) = read(
        gateway
            .post(
                "/v1/chat/completions",
                CHAT_APP,
                &USER,
                chat("chatgpt", &text, false),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error_of(&body).1),
        (413, "text_too_large"),
        "{body}"
    );
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn what_cannot_be_read_is_400() {
    let gateway = start().await;
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"{\"model\":\"chatgpt\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}".to_vec(), "invalid_utf8", "not valid UTF-8"),
        (b"{\"model\":\"chatgpt\",".to_vec(), "invalid_json", "not valid JSON"),
        (b"[]".to_vec(), "invalid_json", "must be a JSON object"),
        (br#"{"model":"chatgpt","model":"copilot-chat","messages":[]}"#.to_vec(), "invalid_json", "duplicate"),
        (br#"{"model":"chatgpt","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}"#.to_vec(), "unsupported_content", "messages[0].content[0].type"),
        (br#"{"model":"chatgpt","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}"#.to_vec(), "unsupported_content", "input_audio"),
        (br#"{"model":"chatgpt","messages":{"role":"user"}}"#.to_vec(), "invalid_request", "messages: expected a non-empty list"),
        // A role a chat template would write into the prompt unread.
        (br#"{"model":"chatgpt","messages":[{"role":"Klient 19811218-9876","content":"hej"}]}"#.to_vec(), "invalid_request", "messages[0].role: expected one of system"),
    ];
    for (body, code, says) in cases {
        let response = gateway
            .post("/v1/chat/completions", CHAT_APP, &USER, body.clone())
            .send()
            .await
            .unwrap();
        let (status, _, answer) = read(response).await;
        assert_eq!(status, 400, "{}: {answer}", String::from_utf8_lossy(&body));
        let (kind, got, message) = error_of(&answer);
        assert_eq!((kind, got), ("invalid_request_error", code), "{answer}");
        assert!(message.contains(says), "{message}");
    }
    // Token ids cannot be read either.
    let response = gateway
        .post(
            "/v1/embeddings",
            CHAT_APP,
            &USER,
            r#"{"model":"chatgpt","input":[[101,2023]]}"#,
        )
        .send()
        .await
        .unwrap();
    let (status, _, answer) = read(response).await;
    assert_eq!(
        (status, error_of(&answer).1),
        (400, "unsupported_content"),
        "{answer}"
    );
    // Another content type.
    let response = gateway
        .client
        .post(gateway.url("/v1/chat/completions"))
        .bearer_auth(CHAT_APP)
        .header("x-aipolicy-user", "anna")
        .header("content-type", "text/plain")
        .body(chat("chatgpt", "Hej", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // An action that is not a request to a model: `reportIncident` is allowed whatever the
    // information (U4), so it must not be a way past the policy.
    for action in ["reportIncident", "develop", "offerToResidents"] {
        let response = gateway
            .post(
                "/v1/chat/completions",
                CHAT_APP,
                &[("x-aipolicy-user", "anna"), ("x-aipolicy-action", action)],
                chat("chatgpt", "HEMLIG: klienten 19811218-9876", false),
            )
            .send()
            .await
            .unwrap();
        let (status, _, answer) = read(response).await;
        assert_eq!(status, 400, "{action}: {answer}");
        assert!(
            error_of(&answer).2.contains("X-AIPolicy-Action"),
            "{answer}"
        );
    }
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn embeddings_are_decided_and_forwarded() {
    let gateway = start().await;
    let response = gateway
        .post(
            "/v1/embeddings",
            CHAT_APP,
            &USER,
            r#"{"model":"chatgpt","input":["Öppettider för biblioteket"]}"#,
        )
        .send()
        .await
        .unwrap();
    let (status, headers, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-aipolicy-decision-id"));
    assert_eq!(body["data"][0]["object"], "embedding");
    let response = gateway
        .post(
            "/v1/embeddings",
            CHAT_APP,
            &USER,
            format!(r#"{{"model":"chatgpt","input":["ok","{PERSONNUMMER}"]}}"#),
        )
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        error_of(&body).2.contains("personnummer (input[1])"),
        "{body}"
    );
    assert_eq!(gateway.fake.received().len(), 1);
    assert!(gateway.fake.received()[0]
        .line
        .starts_with("POST /v1/embeddings "));
    gateway.stop().await;
}

#[tokio::test]
async fn an_ai_system_that_is_down_is_502() {
    let gateway = start().await;
    let (status, headers, body) = gateway
        .ask("anna", Some("intern"), &chat("nere", "Hej", false))
        .await;
    assert_eq!(status, 502, "{body}");
    let (kind, code, message) = error_of(&body);
    assert_eq!(
        (kind, code),
        ("upstream_error", "upstream_unreachable"),
        "{body}"
    );
    assert!(message.contains("`nere` could not be reached"), "{message}");
    // Decided (and logged) before it was sent: the answer names the decision.
    assert!(headers.contains_key("x-aipolicy-decision-id"));
    gateway.stop().await;
}

#[tokio::test]
async fn an_ai_system_that_hangs_is_504() {
    let gateway = start_with(Mode::Hang, |_| {}, None).await;
    let (status, _, body) = gateway
        .ask("anna", Some("oppen"), &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(error_of(&body).0, "upstream_error");
    gateway.stop().await;
}

#[tokio::test]
async fn an_ai_system_that_answers_garbage_is_502() {
    let gateway = start_with(Mode::Garbage, |_| {}, None).await;
    let (status, _, body) = gateway
        .ask("anna", Some("oppen"), &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(error_of(&body).1, "upstream_garbled", "{body}");
    gateway.stop().await;
}

#[tokio::test]
async fn an_ai_system_that_refuses_the_credential_is_502_not_401() {
    let gateway = start_with(Mode::Unauthorized, |_| {}, None).await;
    let (status, _, body) = gateway
        .ask("anna", Some("intern"), &chat("copilot-chat", "Hej", false))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(error_of(&body).1, "upstream_refused_credential", "{body}");
    gateway.stop().await;
}

#[tokio::test]
async fn a_credential_that_cannot_be_read_is_502_and_nothing_is_sent() {
    let gateway = start().await;
    std::fs::remove_file(gateway.dir.path().join("copilot.key")).unwrap();
    let (status, _, body) = gateway
        .ask("anna", Some("intern"), &chat("copilot-chat", "Hej", false))
        .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(error_of(&body).1, "upstream_credential", "{body}");
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn an_answer_that_stalls_mid_stream_is_cut_off() {
    let gateway = start_with(Mode::Stall, |_| {}, None).await;
    let response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &USER,
            chat("chatgpt", "Hej", true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The client gets an answer that breaks off, never one that looks complete.
    assert!(response.bytes().await.is_err());
    gateway.stop().await;
}

#[tokio::test]
async fn a_client_that_goes_away_mid_stream_ends_the_ai_systems_answer() {
    let gateway = start_with(Mode::Endless, |_| {}, None).await;
    let mut response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &USER,
            chat("chatgpt", "Hej", true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for _ in 0..3 {
        assert!(response.chunk().await.unwrap().is_some());
    }
    drop(response);
    for _ in 0..200 {
        if gateway.fake.closed_by_peer.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        gateway.fake.closed_by_peer.load(Ordering::SeqCst),
        1,
        "the gateway kept reading the never-ending answer"
    );
    // Its place among --max-concurrent is given back.
    assert_eq!(
        gateway.state.concurrency.available_permits(),
        gateway.state.config.max_concurrent
    );
    gateway.stop().await;
}
