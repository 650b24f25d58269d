//! Envoy's ext_authz HTTP service, with requests shaped as Envoy's documentation gives them:
//! the original method, the original path under `path_prefix` (`/ext-authz`), the allowed
//! headers (`Authorization` always, `Content-Type` and `X-AIPolicy-*` when
//! `allowed_headers` lets them through) and, with `with_request_body`, the body; a check
//! request carries no body of its own beyond that.

use super::*;

/// A check request as Envoy sends it for the original `POST {path}` with `body`.
fn check(
    gateway: &Running,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> reqwest::RequestBuilder {
    let mut request = gateway
        .client
        .post(gateway.url(&format!("/ext-authz{path}")))
        .bearer_auth(CHAT_APP)
        .header("x-forwarded-proto", "https")
        .header("x-request-id", "3d8a5c7e-envoy")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

#[tokio::test]
async fn an_allowed_request_is_200_with_the_decision() {
    let gateway = start().await;
    // No Content-Type: Envoy sends it only when `allowed_headers` names it.
    let response = check(
        &gateway,
        "/v1/chat/completions",
        &[("x-aipolicy-user", "anna"), ("x-aipolicy-data", "intern")],
        chat("copilot-chat", "Sammanfatta rutinen.", false),
    )
    .send()
    .await
    .unwrap();
    let (status, headers, body) = read(response).await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-aipolicy-decision-id"));
    assert!(headers["x-aipolicy-duties"]
        .to_str()
        .unwrap()
        .contains("u2-permit-use"));
    // Envoy forwards; the gateway sends nothing.
    assert!(gateway.fake.received().is_empty());
    // A model the register does not list is decided as public AI.
    let response = check(
        &gateway,
        "/openai/v1/chat/completions",
        &[("x-aipolicy-user", "anna"), ("x-aipolicy-data", "oppen")],
        chat("gpt-5", "Hej", false),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let response = check(
        &gateway,
        "/openai/v1/chat/completions",
        &[("x-aipolicy-user", "anna"), ("x-aipolicy-data", "intern")],
        chat("gpt-5", "Hej", false),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 403);
    gateway.stop().await;
}

#[tokio::test]
async fn a_refused_request_is_403_with_the_openai_error() {
    let gateway = start().await;
    let response = check(
        &gateway,
        "/v1/chat/completions",
        &[
            ("x-aipolicy-user", "anna"),
            ("content-type", "application/json"),
        ],
        chat("chatgpt", &format!("Brev till {PERSONNUMMER}"), true),
    )
    .send()
    .await
    .unwrap();
    let (status, headers, body) = read(response).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(headers["content-type"], "application/json");
    let (kind, _, message) = error_of(&body);
    assert_eq!(kind, "policy_violation");
    assert!(message.contains("U3"), "{message}");
    gateway.stop().await;
}

#[tokio::test]
async fn what_envoy_cannot_have_decided_is_refused() {
    let gateway = start().await;
    let user = [("x-aipolicy-user", "anna"), ("x-aipolicy-data", "oppen")];
    // A body Envoy cut at max_request_bytes.
    let mut partial = user.to_vec();
    partial.push(("x-envoy-auth-partial-body", "true"));
    let response = check(
        &gateway,
        "/v1/chat/completions",
        &partial,
        chat("chatgpt", "Hej", false),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 413);
    // A path that is not a request the gateway decides on.
    let response = check(&gateway, "/v1/files", &user, String::new())
        .send()
        .await
        .unwrap();
    let (status, _, body) = read(response).await;
    assert_eq!((status, error_of(&body).1), (403, "not_decided"), "{body}");
    // Without a token.
    let response = gateway
        .client
        .post(gateway.url("/ext-authz/v1/chat/completions"))
        .body(chat("chatgpt", "Hej", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    gateway.stop().await;
}
