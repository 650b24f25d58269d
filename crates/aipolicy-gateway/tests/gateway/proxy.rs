//! Allowed requests forwarded and streamed through; refused ones never forwarded; who asks;
//! `/v1/models`; the decision log.

use std::sync::Arc;

use super::upstream::{Mode, STREAM};
use super::*;

#[tokio::test]
async fn an_allowed_completion_is_streamed_through_byte_for_byte() {
    let gateway = start().await;
    let response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &[("x-aipolicy-user", "anna"), ("x-aipolicy-data", "intern")],
            chat("copilot-chat", "Sammanfatta mötesanteckningarna.", true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream");
    let decision_id = headers["x-aipolicy-decision-id"].to_str().unwrap();
    // The AI system's own `X-AIPolicy-*` headers are not passed on: only the gateway says what
    // was decided.
    assert_ne!(decision_id, "forged");
    assert_eq!(decision_id.len(), 36, "{decision_id}");
    let duties = headers["x-aipolicy-duties"].to_str().unwrap();
    assert!(
        duties.contains("u1-duty-responsible-for-result"),
        "{duties}"
    );
    let body = response.bytes().await.unwrap();
    assert_eq!(body, STREAM.concat().as_bytes());

    let received = gateway.fake.received();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(sent.line, "POST /v1/chat/completions HTTP/1.1");
    // The register's credential, never the caller's token, nor the gateway's own headers.
    assert_eq!(
        sent.header("authorization"),
        Some(&*format!("Bearer {UPSTREAM_SECRET}"))
    );
    assert!(sent
        .headers
        .iter()
        .all(|(n, _)| !n.starts_with("x-aipolicy-")));
    assert!(!sent.body.contains(CHAT_APP));
    // The system's id is sent on as the model name it answers to.
    let json = sent.json();
    assert_eq!(json["model"], "gpt-4o");
    assert_eq!(
        json["messages"][1]["content"],
        "Sammanfatta mötesanteckningarna."
    );
    gateway.stop().await;
}

#[tokio::test]
async fn a_completion_not_streamed_and_a_model_name_of_the_register() {
    let gateway = start().await;
    let (status, headers, body) = gateway
        .ask(
            "anna",
            Some("oppen"),
            &chat("gpt-4o-mini", "Vad är klockan?", false),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hej från modellen"
    );
    assert!(headers.contains_key("x-aipolicy-decision-id"));
    // `gpt-4o-mini` is chatgpt's model name: sent on as named; chatgpt has no credential.
    let sent = &gateway.fake.received()[0];
    assert_eq!(sent.json()["model"], "gpt-4o-mini");
    assert_eq!(sent.header("authorization"), None);
    gateway.stop().await;
}

#[tokio::test]
async fn a_personnummer_to_public_ai_is_refused_and_never_reaches_the_model() {
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("decisions.jsonl");
    let log = aipolicy_log::LogArgs {
        log: Some(format!("jsonl:{}", log_path.display()).parse().unwrap()),
        log_sync: true,
        ..aipolicy_log::LogArgs::default()
    }
    .open()
    .unwrap()
    .unwrap()
    .log;
    let gateway = start_with(
        Mode::Answer,
        |_| {},
        Some(Arc::clone(&log) as Arc<dyn aipolicy_server::AnswerSink>),
    )
    .await;
    let prompt = format!("Skriv ett brev till {PERSONNUMMER} om beslutet.");
    // Declared open: the personnummer found in the text raises the class.
    let (status, headers, body) = gateway
        .ask("anna", Some("oppen"), &chat("chatgpt", &prompt, true))
        .await;
    assert_eq!(status, 403, "{body}");
    let (kind, code, message) = error_of(&body);
    assert_eq!(kind, "policy_violation");
    assert!(!code.is_empty());
    assert!(
        message.starts_with("Nekat enligt kommunens AI-policy:"),
        "{message}"
    );
    assert!(
        message.contains("U3 Publik AI får bara användas för information som är klassad som öppen"),
        "{message}"
    );
    assert!(message.contains("personnummer (messages[1])"), "{message}");
    assert!(!message.contains(PERSONNUMMER));
    assert!(headers.contains_key("x-aipolicy-decision-id"));
    assert!(
        gateway.fake.received().is_empty(),
        "the refused prompt reached the model"
    );

    // In English, for a caller that asks for it.
    let response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &[
                ("x-aipolicy-user", "anna"),
                ("accept-language", "en-GB,en;q=0.9"),
            ],
            chat("chatgpt", &prompt, false),
        )
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!(status, 403);
    let (_, _, message) = error_of(&body);
    assert!(
        message.starts_with("Refused under the municipality's AI policy:"),
        "{message}"
    );
    assert!(
        message.contains("U3 Public AI may only be used"),
        "{message}"
    );
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;

    // Both refusals are in the decision log, which never holds the text.
    log.close().unwrap();
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert_eq!(logged.lines().count(), 2, "{logged}");
    assert!(logged.contains("u3-public-ai-open-only"), "{logged}");
    assert!(
        !logged.contains("19121212"),
        "the log holds the text: {logged}"
    );
    assert!(
        !logged.contains("Skriv ett brev"),
        "the log holds the text: {logged}"
    );
}

#[tokio::test]
async fn text_anywhere_in_the_request_counts() {
    let gateway = start().await;
    // A tool call's arguments, a message's name, metadata: all of it goes to the provider.
    let smuggled = [
        serde_json::json!({"model": "chatgpt", "messages": [{"role": "user", "content": "Hej"}],
            "metadata": {"ärende": PERSONNUMMER}}),
        serde_json::json!({"model": "chatgpt", "messages": [{"role": "user", "content": "Hej", "name": PERSONNUMMER.replace('-', "")}]}),
        serde_json::json!({"model": "chatgpt", "messages": [
            {"role": "user", "content": "Hej"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "t", "type": "function",
                "function": {"name": "sok", "arguments": format!("{{\"pnr\":\"{PERSONNUMMER}\"}}")}}]},
            {"role": "tool", "tool_call_id": "t", "content": "ok"}]}),
        serde_json::json!({"model": "chatgpt", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "19121212-"}, {"type": "text", "text": "1212"}]}]}),
    ];
    for body in smuggled {
        let (status, _, answer) = gateway.ask("anna", Some("oppen"), &body.to_string()).await;
        assert_eq!(status, 403, "{body}: {answer}");
        assert_eq!(error_of(&answer).0, "policy_violation");
    }
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;
}

#[tokio::test]
async fn classes_declared_found_or_by_default() {
    let gateway = start().await;
    // Nothing declared, nothing found, no --default-data: refused, never taken as open.
    let (status, _, body) = gateway
        .ask("anna", None, &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).2.contains("--default-data"), "{body}");
    // In the language asked for (Swedish by default), the engine's words and the gateway's.
    let said = error_of(&body).2;
    assert!(said.contains("inget som hittades i `text`"), "{said}");
    assert!(
        said.contains("klasserna kommer från X-AIPolicy-Data"),
        "{said}"
    );
    assert!(
        !said.contains("nothing found") && !said.contains("the classes"),
        "{said}"
    );
    let response = gateway
        .post(
            "/v1/chat/completions",
            CHAT_APP,
            &[("x-aipolicy-user", "anna"), ("x-aipolicy-language", "en")],
            chat("chatgpt", "Hej", false),
        )
        .send()
        .await
        .unwrap();
    let (_, _, body) = read(response).await;
    let said = error_of(&body).2;
    assert!(said.contains("nothing found in `text`"), "{said}");
    assert!(
        said.contains("the classes come from X-AIPolicy-Data"),
        "{said}"
    );
    // Internal information declared to public AI: refused by the policy.
    let (status, _, body) = gateway
        .ask("anna", Some("intern"), &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 403, "{body}");
    // An unknown class names the header.
    let (status, _, body) = gateway
        .ask("anna", Some("hemligt"), &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(error_of(&body).2.contains("hemligt"), "{body}");
    assert!(gateway.fake.received().is_empty());
    gateway.stop().await;

    let gateway = start_with(
        Mode::Answer,
        |a| a.default_data = Some("oppen".into()),
        None,
    )
    .await;
    let (status, _, body) = gateway
        .ask("anna", None, &chat("chatgpt", "Hej", false))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(gateway.fake.received().len(), 1);
    gateway.stop().await;
}

#[tokio::test]
async fn who_asks() {
    let gateway = start().await;
    let body = chat("chatgpt", "Hej", false);
    // No token, a wrong one.
    let response = gateway
        .client
        .post(gateway.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let (status, headers, answer) = read(response).await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(error_of(&answer).0, "authentication_error");
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, _) = read(
        gateway
            .post("/v1/chat/completions", "wrong", &[], body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    // A caller without `names-users` may not name a user.
    let headers = [("x-aipolicy-user", "anna"), ("x-aipolicy-data", "oppen")];
    let (status, _, answer) = read(
        gateway
            .post("/v1/chat/completions", INTEGRATION, &headers, body.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(error_of(&answer).2.contains("names-users"), "{answer}");
    // A caller that asks as itself must be a user of the register.
    let (status, _, answer) = read(
        gateway
            .post(
                "/v1/chat/completions",
                INTEGRATION,
                &[("x-aipolicy-data", "oppen")],
                body.clone(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        error_of(&answer).2.contains("`integration` is not a user"),
        "{answer}"
    );
    let (status, _, answer) = read(
        gateway
            .post(
                "/v1/chat/completions",
                "anna-secret",
                &[("x-aipolicy-data", "oppen")],
                body.clone(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    // A user the register does not list.
    let (status, _, answer) = gateway.ask("okand", Some("oppen"), &body).await;
    assert_eq!(status, 403, "{answer}");
    // A model the gateway does not reach.
    let (status, _, answer) = gateway
        .ask(
            "anna",
            Some("oppen"),
            &chat("lokal-utan-endpoint", "Hej", false),
        )
        .await;
    assert_eq!(
        (status, error_of(&answer).1),
        (404, "model_not_found"),
        "{answer}"
    );
    let (status, _, answer) = gateway
        .ask("anna", Some("oppen"), &chat("gpt-5", "Hej", false))
        .await;
    assert_eq!(
        (status, error_of(&answer).1),
        (404, "model_not_found"),
        "{answer}"
    );
    assert_eq!(gateway.fake.received().len(), 1);
    gateway.stop().await;
}

#[tokio::test]
async fn behind_single_sign_on_the_proxy_names_the_user() {
    let gateway = start_with(
        Mode::Answer,
        |a| a.trust_user_header = Some("x-remote-user".parse().unwrap()),
        None,
    )
    .await;
    let body = chat("chatgpt", "Hej", false);
    let (status, _, answer) = read(
        gateway
            .post(
                "/v1/chat/completions",
                INTEGRATION,
                &[("x-remote-user", "anna"), ("x-aipolicy-data", "oppen")],
                body.clone(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _, answer) = read(
        gateway
            .post(
                "/v1/chat/completions",
                INTEGRATION,
                &[("x-aipolicy-data", "oppen")],
                body.clone(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error_of(&answer).1),
        (401, "not_signed_in"),
        "{answer}"
    );
    // The signed-in user cannot be overridden by the client.
    let (status, _, _) = read(
        gateway
            .post(
                "/v1/chat/completions",
                CHAT_APP,
                &[("x-remote-user", "anna"), ("x-aipolicy-user", "bertil")],
                body,
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    gateway.stop().await;
}

#[tokio::test]
async fn models_lists_what_this_user_may_use_now() {
    let gateway = start().await;
    let models = |user: &'static str| {
        let gateway = &gateway;
        async move {
            let response = gateway
                .client
                .get(gateway.url("/v1/models"))
                .bearer_auth(CHAT_APP)
                .header("x-aipolicy-user", user)
                .send()
                .await
                .unwrap();
            let (status, _, body) = read(response).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["object"], "list");
            let mut ids: Vec<String> = body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids
        }
    };
    // anna, an employee: both systems with an endpoint that work (not `nere`? it is allowed:
    // the list is of what the policy allows, not of what answers).
    assert_eq!(
        models("anna").await,
        ["chatgpt", "copilot-chat", "gpt-4o", "gpt-4o-mini", "nere"]
    );
    // cecilia, a contractor: Copilot Chat is for employees and elected officials.
    assert_eq!(models("cecilia").await, ["chatgpt", "gpt-4o-mini", "nere"]);
    // gunilla has left: nothing.
    assert!(models("gunilla").await.is_empty());
    gateway.stop().await;
}
