//! Hot reload: each request is answered by exactly one revision; a broken file keeps the old
//! policy serving; the file watch and the reload gate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_while_requests_run_answers_each_with_one_revision() {
    let (dir, args) = project();
    let register = dir.path().join("register.yaml");
    let original = std::fs::read_to_string(&register).unwrap();
    let server = Arc::new(start(args).await);
    let old = server.state.current().unwrap().revision.to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let server = Arc::clone(&server);
        let stop = Arc::clone(&stop);
        clients.push(tokio::spawn(async move {
            let mut seen: Vec<(String, String)> = Vec::new();
            while !stop.load(Ordering::Relaxed) || seen.is_empty() {
                let (status, body) = server.post_json("/v1/decide", ANNA_COPILOT).await;
                assert_eq!(status, 200, "{body}");
                seen.push((body["policyRevision"].as_str().unwrap().to_string(), body["decision"].as_str().unwrap().to_string()));
                let (status, body) = server.post_json("/access/v1/evaluation", r#"{"subject":{"type":"user","id":"anna"},"action":{"name":"use"},"resource":{"type":"ai_system","id":"copilot-chat"},"context":{"data":"intern"}}"#).await;
                assert_eq!(status, 200, "{body}");
                let decision = if body["decision"] == true { "allow" } else { "deny" };
                seen.push((body["context"]["policyRevision"].as_str().unwrap().to_string(), decision.to_string()));
            }
            seen
        }));
    }
    // Flip the register back and forth, reloading each time, while the clients run.
    let mut revisions = vec![old.clone()];
    for round in 0..6 {
        tokio::time::sleep(Duration::from_millis(30)).await;
        if round % 2 == 0 {
            suspend_copilot(&register);
        } else {
            std::fs::write(&register, &original).unwrap();
        }
        let (status, body) = server.post_json("/v1/admin/reload", "").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"], "reloaded");
        revisions.push(body["policyRevision"].as_str().unwrap().to_string());
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    stop.store(true, Ordering::Relaxed);
    let new = revisions[1].clone();
    assert_ne!(old, new);
    // The same files give the same revision.
    assert_eq!(revisions[2], old);
    let expected: HashMap<&str, &str> = [(old.as_str(), "allow"), (new.as_str(), "deny")].into();
    let mut answered = 0;
    for client in clients {
        for (revision, decision) in client.await.unwrap() {
            assert_eq!(
                expected.get(revision.as_str()),
                Some(&decision.as_str()),
                "revision {revision} answered {decision}"
            );
            answered += 1;
        }
    }
    assert!(answered > 8);
    let (_, metrics) = server.get("/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap()
        .contains("aipolicy_reloads_total{result=\"success\"} 6"));
    Arc::into_inner(server).unwrap().stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_file_keeps_the_old_policy_serving() {
    let (dir, args) = project();
    let server = start(args).await;
    let old = server.state.current().unwrap().revision.to_string();
    let register = dir.path().join("register.yaml");
    let text = std::fs::read_to_string(&register).unwrap();
    std::fs::write(
        &register,
        text.replacen("    maxDataLevel: 1\n", "    maxDataLevel: 7\n", 1),
    )
    .unwrap();
    let (status, body) = server.post_json("/v1/admin/reload", "").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["result"], "failed");
    assert_eq!(body["policyRevision"], old.as_str());
    let error = &body["error"];
    assert!(
        error["file"].as_str().unwrap().ends_with("register.yaml"),
        "{error}"
    );
    assert!(error["line"].as_u64().unwrap() > 1, "{error}");
    assert!(
        error["problems"].to_string().contains("maxDataLevel"),
        "{error}"
    );
    assert_eq!(error["trigger"], "admin");
    // Still served by the old policy.
    let (status, decision) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!(
        (status, decision["policyRevision"].as_str()),
        (200, Some(old.as_str()))
    );
    assert_eq!(server.get("/health/ready").await.0, 200);
    let (_, info) = server.get("/v1/status").await;
    assert_eq!(info["policyRevision"], old.as_str());
    assert_eq!(info["lastReloadError"]["file"], error["file"]);
    assert_eq!(info["lastReloadError"]["line"], error["line"]);
    assert_eq!(info["reloads"]["failure"], 1);
    // A policy that does not parse, named with its file and line.
    std::fs::write(&register, &text).unwrap();
    std::fs::write(
        dir.path().join("policies/zz-broken.cedar"),
        "\n\npermit (principal, action, resource) when { nope };\n",
    )
    .unwrap();
    let (status, body) = server.post_json("/v1/admin/reload", "").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("zz-broken.cedar"),
        "{body}"
    );
    assert_eq!(body["error"]["line"], 3, "{body}");
    // Fixed: the error is gone.
    std::fs::remove_file(dir.path().join("policies/zz-broken.cedar")).unwrap();
    let (status, body) = server.post_json("/v1/admin/reload", "").await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("unchanged")),
        "{body}"
    );
    assert_eq!(
        server.get("/v1/status").await.1["lastReloadError"],
        Value::Null
    );
    let (_, metrics) = server.get("/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap()
        .contains("aipolicy_reloads_total{result=\"failure\"} 2"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_file_is_loaded_by_the_watch() {
    let (dir, args) = project();
    let server = start(ServeArgs {
        watch: Duration::from_millis(50),
        ..args
    })
    .await;
    let old = server.state.current().unwrap().revision.to_string();
    suspend_copilot(&dir.path().join("register.yaml"));
    let mut revision = old.clone();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        revision = server.state.current().unwrap().revision.to_string();
        if revision != old {
            break;
        }
    }
    assert_ne!(revision, old, "the change was not loaded");
    let (_, decision) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!(decision["decision"], "deny");
    // A broken file is not loaded; the last good policy serves on.
    std::fs::write(dir.path().join("register.yaml"), "aiSystems: [").unwrap();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if server.state.last_error().is_some() {
            break;
        }
    }
    let error = server
        .state
        .last_error()
        .expect("the broken file was not tried");
    assert_eq!(error.trigger, "watch");
    assert_eq!(
        server.state.current().unwrap().revision.to_string(),
        revision
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reload_gate_refuses_a_policy_that_fails_its_scenarios() {
    let (dir, args) = project();
    let gate = dir.path().join("gate");
    std::fs::create_dir(&gate).unwrap();
    std::fs::write(
        gate.join("copilot.yaml"),
        "cases:\n  - name: anna may use Copilot Chat with internal information\n    query: {user: anna, ai: copilot-chat, data: intern}\n    expect: allow\n",
    )
    .unwrap();
    let server = start(ServeArgs {
        reload_gate: Some(gate),
        ..args
    })
    .await;
    let old = server.state.current().unwrap().revision.to_string();
    suspend_copilot(&dir.path().join("register.yaml"));
    let (status, body) = server.post_json("/v1/admin/reload", "").await;
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("reload gate: 1 of 1 scenario case(s) failed"),
        "{message}"
    );
    assert!(
        body["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("copilot.yaml"),
        "{body}"
    );
    assert_eq!(body["error"]["line"], 2, "{body}");
    assert_eq!(server.state.current().unwrap().revision.to_string(), old);
    server.stop().await;
}

/// A token file is a reload of its own: an edit that revokes a caller and breaks a line is
/// said loudly, honours no caller the edit removed (only those both the last good file and
/// the new one's readable lines name), and does not hold up a policy reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_token_file_revokes_what_it_removes_and_blocks_no_policy_reload() {
    use aipolicy_server::tokens::hash_secret;
    let (dir, args) = project();
    let tokens = dir.path().join("tokens");
    let gateway = format!("gateway {}\n", hash_secret("gateway-secret"));
    let ops = format!("ops {} admin\n", hash_secret("ops-secret"));
    std::fs::write(&tokens, format!("{gateway}{ops}")).unwrap();
    let server = start(ServeArgs {
        token_file: Some(tokens.clone()),
        ..args
    })
    .await;
    let call = |method: reqwest::Method, path: &str, secret: &str| {
        let request = server
            .client
            .request(method, server.url(path))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {secret}"));
        let request = if path == "/v1/decide" {
            request.body(ANNA_COPILOT)
        } else {
            request
        };
        async move { read(request.send().await.unwrap()).await }
    };
    let decide = |secret: &'static str| call(reqwest::Method::POST, "/v1/decide", secret);
    assert_eq!(decide("gateway-secret").await.0, 200);
    assert_eq!(decide("ops-secret").await.0, 200);

    // The gateway is revoked, and a line is broken in the same edit.
    std::fs::write(&tokens, format!("{ops}newcomer 12345\n")).unwrap();
    let (status, body) = call(reqwest::Method::POST, "/v1/admin/reload", "ops-secret").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["tokenFile"]["result"], "failed", "{body}");
    assert_eq!(body["tokenFile"]["error"]["line"], 2, "{body}");
    assert_eq!(decide("gateway-secret").await.0, 401);
    let (status, decision) = decide("ops-secret").await;
    assert_eq!(
        (status, decision["decision"].as_str()),
        (200, Some("allow"))
    );

    // Said in /v1/status and /metrics.
    let (_, info) = call(reqwest::Method::GET, "/v1/status", "ops-secret").await;
    let failure = &info["tokenFile"];
    assert_eq!(failure["ok"], false, "{info}");
    assert!(
        failure["error"]["file"]
            .as_str()
            .unwrap()
            .ends_with("tokens"),
        "{info}"
    );
    assert_eq!(failure["error"]["line"], 2, "{info}");
    assert_eq!(failure["callers"], 1, "{info}");
    let (_, metrics) = server.get("/metrics").await;
    let metrics = metrics.as_str().unwrap();
    for line in [
        "aipolicy_token_file_broken 1",
        "aipolicy_token_file_reloads_total{result=\"failure\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}` in\n{metrics}"
        );
    }

    // A policy edit still reloads while the token file is broken.
    let old = server.state.current().unwrap().revision.to_string();
    suspend_copilot(&dir.path().join("register.yaml"));
    let (status, body) = call(reqwest::Method::POST, "/v1/admin/reload", "ops-secret").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["result"], "reloaded", "{body}");
    assert_ne!(body["policyRevision"], old.as_str());
    let (status, decision) = decide("ops-secret").await;
    assert_eq!((status, decision["decision"].as_str()), (200, Some("deny")));

    // Mended: the file's callers, and nothing broken.
    std::fs::write(&tokens, format!("{ops}{gateway}")).unwrap();
    let (status, body) = call(reqwest::Method::POST, "/v1/admin/reload", "ops-secret").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tokenFile"]["result"], "loaded", "{body}");
    assert_eq!(decide("gateway-secret").await.0, 200);
    let (_, info) = call(reqwest::Method::GET, "/v1/status", "ops-secret").await;
    assert_eq!(info["tokenFile"]["ok"], true, "{info}");
    assert_eq!(info["tokenFile"]["callers"], 2, "{info}");
    let (_, metrics) = server.get("/metrics").await;
    assert!(metrics
        .as_str()
        .unwrap()
        .lines()
        .any(|l| l == "aipolicy_token_file_broken 0"));
    server.stop().await;
}
