//! The AuthZEN 1.0 endpoints, after the certification scenario (`certification/` of
//! openid/authzen) with aipolicy's entities: `user` subjects of the register, `ai_system`
//! resources, actions of the policy, and `context.data`.

use serde_json::{json, Value};

use super::*;

const EVALUATION: &str = "/access/v1/evaluation";
const EVALUATIONS: &str = "/access/v1/evaluations";
const SEARCH: &str = "/access/v1/search/resource";

/// anna may use Copilot Chat with internal information; not ChatGPT.
fn request(ai: &str) -> Value {
    json!({
        "subject": {"type": "user", "id": "anna"},
        "action": {"name": "use"},
        "resource": {"type": "ai_system", "id": ai},
        "context": {"data": ["intern"]}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_answers_decisions_with_reasons_in_the_context() {
    let server = start(args()).await;
    let (status, allow) = server
        .post_json(EVALUATION, &request("copilot-chat").to_string())
        .await;
    assert_eq!(status, 200);
    assert_eq!(allow["decision"], true);
    assert_eq!(allow["context"]["obligations"][0]["paragraph"], "U1");
    assert!(allow["context"]["decisionId"].is_string());
    assert!(allow["context"]["policyRevision"].is_string());
    let (status, deny) = server
        .post_json(EVALUATION, &request("chatgpt").to_string())
        .await;
    assert_eq!((status, deny["decision"].as_bool()), (200, Some(false)));
    assert!(deny["context"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["paragraph"] == "U3"));

    // Unknown fields, extra properties, a context of other facts: ignored (c-2-2-3, c-2-2-8, c-2-2-9).
    let mut extra = request("copilot-chat");
    extra["foo"] = json!("bar");
    extra["futureField"] = json!({"nested": true});
    extra["subject"]["properties"] = json!({"department": "Sales", "role": "manager"});
    extra["action"]["properties"] = json!({"method": "GET"});
    extra["resource"]["properties"] = json!({"status": "active"});
    extra["context"]["time"] = json!("2025-06-27T18:03-07:00");
    extra["context"]["ip"] = json!("192.168.1.1");
    let (status, body) = server.post_json(EVALUATION, &extra.to_string()).await;
    assert_eq!(
        (status, body["decision"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    // … but a near miss of a key aipolicy reads is noted.
    assert!(
        body["context"]["notes"]
            .to_string()
            .contains("menade du `roles`"),
        "{body}"
    );

    // An inline subject with roles; flags in the context; English.
    let inline = json!({
        "subject": {"type": "user", "id": "s.svensson", "properties": {"roles": ["employee"], "unit": "Socialförvaltningen", "aiLiteracy": true}},
        "action": {"name": "decide"},
        "resource": {"type": "ai_system", "id": "lokal-sprakmodell"},
        "context": {"data": "socialtjanstarende", "humanReview": true}
    });
    let (status, body) = server
        .post_json(&format!("{EVALUATION}?lang=en"), &inline.to_string())
        .await;
    assert_eq!(
        (status, body["decision"].as_bool()),
        (200, Some(true)),
        "{body}"
    );

    // Idempotent (c-2-6), and X-Request-ID echoed (c-2-5).
    for _ in 0..3 {
        let response = server
            .client
            .post(server.url(EVALUATION))
            .header("content-type", "application/json")
            .header("x-request-id", "bfe9eb29-ab87-4ca3-be83-a1d5d8305716")
            .body(request("copilot-chat").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["x-request-id"],
            "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"
        );
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(read(response).await.1["decision"], true);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_code_table_of_the_certification_scenario() {
    let server = start(args()).await;
    let base = request("copilot-chat");
    let without = |key: &str| {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let with = |pointer: &str, value: Value| {
        let mut body = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[key] = value;
        body
    };
    let cases: Vec<(String, &str)> = vec![
        (
            without("subject").to_string(),
            "subject: missing required field",
        ),
        (
            without("action").to_string(),
            "action: missing required field",
        ),
        (
            without("resource").to_string(),
            "resource: missing required field",
        ),
        (
            with("/subject", json!({"id": "anna"})).to_string(),
            "subject.type: missing required field",
        ),
        (
            with("/subject", json!({"type": "user"})).to_string(),
            "subject.id: missing required field",
        ),
        (
            with("/action", json!({})).to_string(),
            "action.name: missing required field",
        ),
        (
            with("/resource", json!({"id": "copilot-chat"})).to_string(),
            "resource.type: missing required field",
        ),
        (
            with("/resource", json!({"type": "ai_system"})).to_string(),
            "resource.id: missing required field",
        ),
        (
            with("/subject", json!("anna")).to_string(),
            "subject: expected an object",
        ),
        (
            with("/action/name", json!(123)).to_string(),
            "action.name: expected a string, got a number",
        ),
        (
            with("/context", json!("x")).to_string(),
            "context: expected an object",
        ),
        (
            with("/subject/properties", json!([])).to_string(),
            "subject.properties: expected an object",
        ),
        // Well-formed AuthZEN that maps to no query of aipolicy's.
        (
            with("/action/name", json!("read")).to_string(),
            "action.name",
        ),
        (
            with("/context/data", json!(["hemligt"])).to_string(),
            "context.data[0]: unknown data class `hemligt`",
        ),
        (with("/context/data", json!(7)).to_string(), "context.data"),
        (
            without("context").to_string(),
            "context.data: missing required field",
        ),
        (
            with("/subject/id", json!("nobody")).to_string(),
            "subject.id: unknown user `nobody`",
        ),
        (
            with("/resource/type", json!("record")).to_string(),
            "resource.type: `record` is not a resource type",
        ),
        (
            with("/subject/type", json!("spaceship")).to_string(),
            "subject.type",
        ),
        (
            with("/subject/properties", json!({"roles": ["admin"]})).to_string(),
            "subject.properties.roles[0]",
        ),
        (
            with("/subject/properties", json!({"unit": "x"})).to_string(),
            "subject.properties.roles: missing",
        ),
        (
            json!({"context": {"humanReview": "yes"}}).to_string(),
            "subject: missing",
        ),
        ("{".to_string(), "invalid JSON"),
        ("".to_string(), "empty"),
        ("[]".to_string(), "must be a JSON object"),
        (
            r#"{"subject":{"type":"user","id":"anna","id":"x"}}"#.to_string(),
            "duplicate key `id`",
        ),
    ];
    for (body, message) in &cases {
        let response = server
            .client
            .post(server.url(&format!("{EVALUATION}?lang=en")))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        let (status, text) = read(response).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(
            text.as_str().unwrap_or_default().contains(message),
            "{body}: {text}"
        );
    }
    // Wrong or missing content type (c-2-4-3): 400.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut post = server
            .client
            .post(server.url(EVALUATION))
            .body(base.to_string());
        if let Some(t) = content_type {
            post = post.header("content-type", t);
        }
        let (status, text) = read(post.send().await.unwrap()).await;
        assert_eq!(status, 400, "{content_type:?}");
        assert!(
            text.as_str()
                .unwrap()
                .contains("Content-Type måste vara application/json"),
            "{text}"
        );
    }
    let charset = server
        .client
        .post(server.url(EVALUATION))
        .header("content-type", "application/json; charset=utf-8")
        .body(base.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(charset.status(), 200);
    // The wrong method, an unknown path.
    let get = server
        .client
        .get(server.url(EVALUATION))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    let (status, _) = server.post_json("/access/v1/nothing", "{}").await;
    assert_eq!(status, 404);
    let big = format!(
        r#"{{"subject":{{"type":"user","id":"{}"}}}}"#,
        "x".repeat(2_200_000)
    );
    let (status, text) = server.post_json(EVALUATION, &big).await;
    assert_eq!(status, 413);
    assert!(
        text.as_str().unwrap().contains("2097152 byte (2 MiB)"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluations_with_defaults_and_the_three_semantics() {
    let server = start(args()).await;
    // Defaults: subject, action and context at the top; resources per item; one item overrides
    // the context, one the action; one breaks (c-3-4-1): its decision is false, with the error.
    let body = json!({
        "subject": {"type": "user", "id": "anna"},
        "action": {"name": "use"},
        "context": {"data": "intern"},
        "evaluations": [
            {"resource": {"type": "ai_system", "id": "copilot-chat"}},
            {"resource": {"type": "ai_system", "id": "chatgpt"}},
            {"resource": {"type": "ai_system", "id": "chatgpt"}, "context": {"data": "oppen"}},
            {},
            {"resource": {"type": "ai_system", "id": "copilot-chat"}, "action": {"name": "fly"}},
            {"resource": {"type": "ai_system", "id": "copilot-chat"}}
        ]
    });
    let (status, answer) = server.post_json(EVALUATIONS, &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("decision").is_none());
    let decisions: Vec<bool> = answer["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["decision"].as_bool().unwrap())
        .collect();
    assert_eq!(decisions, [true, false, true, false, false, true]);
    let missing = &answer["evaluations"][3]["context"]["error"];
    assert_eq!(missing["status"], 400);
    assert_eq!(missing["message"], "evaluations[3].resource: obligatoriskt fält saknas (varken utvärderingen eller begäran anger `resource`)");
    assert!(answer["evaluations"][4]["context"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("action.name"));
    assert_eq!(
        answer["evaluations"][3]["context"]["reasons"][0]["policy"],
        "aipolicy-invalid-query"
    );

    let semantic = |name: &str| {
        let mut body = body.clone();
        body["options"] = json!({"evaluations_semantic": name, "another_option": 1});
        body.to_string()
    };
    let (_, all) = server
        .post_json(EVALUATIONS, &semantic("execute_all"))
        .await;
    assert_eq!(all["evaluations"].as_array().unwrap().len(), 6);
    let (_, deny_first) = server
        .post_json(EVALUATIONS, &semantic("deny_on_first_deny"))
        .await;
    let items = deny_first["evaluations"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{deny_first}");
    assert_eq!(
        (
            items[0]["decision"].as_bool(),
            items[1]["decision"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let mut deny_led = body.clone();
    deny_led["evaluations"].as_array_mut().unwrap().remove(0);
    deny_led["options"] = json!({"evaluations_semantic": "permit_on_first_permit"});
    let (_, permit_first) = server.post_json(EVALUATIONS, &deny_led.to_string()).await;
    let items = permit_first["evaluations"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{permit_first}");
    assert_eq!(
        (
            items[0]["decision"].as_bool(),
            items[1]["decision"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let (status, text) = server.post_json(EVALUATIONS, &semantic("first_one")).await;
    assert_eq!(status, 400);
    assert!(text
        .as_str()
        .unwrap()
        .contains("options.evaluations_semantic: okänd semantik `first_one`"));

    // No `evaluations`, or an empty array: a single evaluation (c-3-4-2, c-3-4-3).
    let (status, single) = server
        .post_json(EVALUATIONS, &request("copilot-chat").to_string())
        .await;
    assert_eq!((status, single["decision"].as_bool()), (200, Some(true)));
    let mut empty = request("copilot-chat");
    empty["evaluations"] = json!([]);
    let (status, single) = server.post_json(EVALUATIONS, &empty.to_string()).await;
    assert_eq!((status, single["decision"].as_bool()), (200, Some(true)));
    let (status, _) = server
        .post_json(EVALUATIONS, r#"{"evaluations": {}}"#)
        .await;
    assert_eq!(status, 400);
    // A default that is itself broken is an error of the whole request.
    let (status, text) = server
        .post_json(EVALUATIONS, r#"{"subject": "anna", "evaluations": [{}]}"#)
        .await;
    assert_eq!(status, 400);
    assert!(text.as_str().unwrap().starts_with("subject:"), "{text}");
    server.stop().await;

    let server = start(ServeArgs {
        max_batch: 2,
        ..args()
    })
    .await;
    let (status, text) = server.post_json(EVALUATIONS, &body.to_string()).await;
    assert_eq!(status, 413);
    assert!(
        text.as_str()
            .unwrap()
            .contains("gränsen är 2 per begäran (--max-batch)"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_search_lists_the_ai_systems_a_user_may_use_in_pages() {
    let server = start(args()).await;
    let search = json!({
        "subject": {"type": "user", "id": "anna"},
        "action": {"name": "use"},
        "resource": {"type": "ai_system", "id": "ignored"},
        "context": {"data": "intern"}
    });
    let (status, all) = server.post_json(SEARCH, &search.to_string()).await;
    assert_eq!(status, 200, "{all}");
    assert!(all.get("page").is_none());
    let ids: Vec<&str> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"copilot-chat") && !ids.contains(&"chatgpt"),
        "{ids:?}"
    );
    assert!(all["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["type"] == "ai_system"));
    // Each result is allowed when asked.
    for id in &ids {
        let (_, d) = server.post_json(EVALUATION, &request(id).to_string()).await;
        assert_eq!(d["decision"], true, "{id}");
    }
    // Pages of one.
    let mut paged = search.clone();
    paged["page"] = json!({"limit": 1});
    let mut seen = Vec::new();
    loop {
        let (status, page) = server.post_json(SEARCH, &paged.to_string()).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["page"]["total"], ids.len());
        seen.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        let next = page["page"]["next_token"].as_str().unwrap().to_string();
        if next.is_empty() {
            break;
        }
        paged["page"] = json!({"limit": 1, "token": next});
        assert!(seen.len() <= ids.len());
    }
    assert_eq!(seen, ids);
    // A token of another search, or made up: 400.
    let (_, first) = server.post_json(SEARCH, &json!({"subject": search["subject"], "action": search["action"], "resource": {"type": "ai_system"}, "context": search["context"], "page": {"limit": 1}}).to_string()).await;
    let token = first["page"]["next_token"].as_str().unwrap();
    let mut other = search.clone();
    other["context"] = json!({"data": "oppen"});
    other["page"] = json!({"limit": 1, "token": token});
    let (status, _) = server.post_json(SEARCH, &other.to_string()).await;
    assert_eq!(status, 400);
    let mut forged = search.clone();
    forged["page"] = json!({"token": "999"});
    assert_eq!(server.post_json(SEARCH, &forged.to_string()).await.0, 400);

    // Nothing matches: an unknown user, an unknown type (c-4-6).
    for (pointer, value) in [
        ("/subject/id", json!("nonexistent-user")),
        ("/resource/type", json!("record")),
        ("/subject/type", json!("spaceship")),
    ] {
        let mut body = search.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        let (status, answer) = server.post_json(SEARCH, &body.to_string()).await;
        assert_eq!((status, answer), (200, json!({"results": []})), "{pointer}");
    }
    // Missing fields (c-4-7): 400.
    for body in [
        json!({"action": {"name": "use"}, "resource": {"type": "ai_system"}}),
        json!({"subject": {"type": "user"}, "action": {"name": "use"}, "resource": {"type": "ai_system"}}),
        json!({"subject": {"type": "user", "id": "anna"}, "resource": {"type": "ai_system"}}),
        json!({"subject": {"type": "user", "id": "anna"}, "action": {"name": "use"}}),
        json!({"subject": {"type": "user", "id": "anna"}, "action": {"name": "use"}, "resource": {"type": "ai_system"}, "page": {"limit": -1}}),
        json!({"subject": {"type": "user", "id": "anna"}, "action": {"name": "use"}, "resource": {"type": "ai_system"}, "context": {"data": "hemligt"}}),
    ] {
        let (status, text) = server.post_json(SEARCH, &body.to_string()).await;
        assert_eq!(status, 400, "{body}: {text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_document_names_the_endpoints() {
    let server = start(args()).await;
    let response = server
        .client
        .get(server.url("/.well-known/authzen-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let (status, meta) = read(response).await;
    assert_eq!(status, 200);
    assert_eq!(meta["policy_decision_point"], server.base.as_str());
    assert_eq!(
        meta["access_evaluation_endpoint"],
        format!("{}/access/v1/evaluation", server.base)
    );
    assert_eq!(
        meta["access_evaluations_endpoint"],
        format!("{}/access/v1/evaluations", server.base)
    );
    assert_eq!(
        meta["search_resource_endpoint"],
        format!("{}/access/v1/search/resource", server.base)
    );
    assert!(meta.get("search_subject_endpoint").is_none());
    server.stop().await;
    let server = start(ServeArgs {
        public_url: Some("https://pdp.example.org/".into()),
        ..args()
    })
    .await;
    let (_, meta) = server.get("/.well-known/authzen-configuration").await;
    assert_eq!(meta["policy_decision_point"], "https://pdp.example.org");
    server.stop().await;
}

/// A page of no results would never advance: `page.limit: 0` is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_limit_of_zero_is_refused() {
    let server = start(args()).await;
    let search = json!({
        "subject": {"type": "user", "id": "anna"},
        "action": {"name": "use"},
        "resource": {"type": "ai_system"},
        "context": {"data": "intern"},
        "page": {"limit": 0}
    });
    let (status, text) = server.post_json(SEARCH, &search.to_string()).await;
    assert_eq!(status, 400, "{text}");
    let text = text.as_str().unwrap();
    assert!(
        text.contains("page.limit") && text.contains("ett heltal från 1"),
        "{text}"
    );
    // A limit of one pages through to the end.
    let mut paged = search.clone();
    paged["page"] = json!({"limit": 1});
    let (status, page) = server.post_json(SEARCH, &paged.to_string()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["page"]["count"], 1);
    server.stop().await;
}
