//! The staff page over real HTTP: `/`, `/ask`, `/matrix`, `/policy`, their languages, their
//! errors and who is asking. (In a real browser, with axe-core: `tests/browser`.)

use aipolicy::{Engine, Language, Query, Role, User, UserRef, Verdict};

use super::*;

/// The status, the headers and the body of a GET.
async fn page(server: &Running, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    page_with(server, path, &[]).await
}

async fn page_with(
    server: &Running,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = server.client.get(server.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// What a person reads: the text without its tags, entities decoded, spaces collapsed.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The engine the server of `args()` decides with: the bundled one, on the tests' day.
fn engine() -> Engine {
    Engine::bundled()
        .unwrap()
        .with_clock(aipolicy::Clock::fixed(today()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_asks_the_four_questions_in_swedish_and_english() {
    let server = start(args()).await;
    let (status, headers, html) = page(&server, "/").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"sv\">"),
        "{html}"
    );
    assert_eq!(html.matches("<h1>").count(), 1);
    let read = text(&html);
    assert!(read.contains("Får jag använda AI?"));
    let register = engine().register().clone();
    for class in register.data_classes() {
        assert!(read.contains(&class.name), "{}", class.name);
        assert!(html.contains(&format!("name=\"data\" value=\"{}\"", class.id)));
        if let Some(description) = &class.description {
            assert!(read.contains(description.as_str()), "{description}");
        }
    }
    for system in register.ai_systems() {
        assert!(html.contains(&format!("<option value=\"{}\">", system.id)));
    }
    for role in Role::ALL {
        assert!(html.contains(&format!("name=\"role\" value=\"{}\"", role.as_str())));
    }
    // Every input has its label.
    for id in [
        "ai",
        "data-intern",
        "action-use",
        "role-employee",
        "unit",
        "flag-humanReview",
    ] {
        assert!(html.contains(&format!("for=\"{id}\"")), "{id}");
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(html.contains("<a class=\"skip\" href=\"#main\">"));

    let (status, _, html) = page(&server, "/?lang=en").await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    let read = text(&html);
    assert!(read.contains("May I use AI?") && read.contains("What is your role?"));
    assert!(html.contains("<input type=\"hidden\" name=\"lang\" value=\"en\">"));
    // The language link leads back to Swedish.
    assert!(
        html.contains("<a href=\"/\" lang=\"sv\" hreflang=\"sv\">Svenska</a>"),
        "{html}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copilot_chat_with_personal_data_is_a_no_with_the_s3_reason_and_what_is_allowed() {
    let server = start(args()).await;
    let (status, _, html) = page(
        &server,
        "/ask?ai=copilot-chat&data=personuppgifter&action=use&role=employee",
    )
    .await;
    assert_eq!(status, 200);
    let read = text(&html);
    assert!(read.contains("Nej, det får du inte"), "{read}");
    assert!(!read.contains("Ja, det får du"));
    // The engine's reasons, each with its paragraph, and the policy's own words for §3.
    let employee = UserRef::Inline(User::new("staff-page:employee", [Role::Employee]));
    let query = Query::new(employee, "copilot-chat", ["personuppgifter"]);
    let decision = engine().decide_in(&query, Language::Sv).unwrap();
    assert_eq!(decision.decision, Verdict::Deny);
    for reason in &decision.reasons {
        assert!(read.contains(&*reason.message), "{}", reason.message);
        assert!(html.contains(&format!("href=\"/policy#rule-{}\"", reason.policy)));
    }
    assert!(read.contains("§3 Integritet och säkerhet"));
    assert!(read.contains("AI ska skydda användardata och information från obehörig åtkomst"));
    // The systems allowed instead are the engine's, and Copilot Chat is not one of them.
    let engine = engine();
    let allowed = engine.allowed_systems(&query, Language::Sv).unwrap();
    assert!(!allowed.is_empty());
    let instead = read
        .split("Det här får du använda i stället")
        .nth(1)
        .unwrap();
    for (system, _) in &allowed {
        assert!(instead.contains(&system.name), "{}", system.name);
        assert!(html.contains(&format!(
            "href=\"/ask?ai={}&amp;data=personuppgifter&amp;action=use&amp;role=employee\"",
            system.id
        )));
    }
    assert!(!instead.contains("(copilot-chat)"));

    // In English: the rules' @en, the headings in English, the quote marked as Swedish.
    let (status, _, html) = page(
        &server,
        "/ask?ai=copilot-chat&data=personuppgifter&role=employee&lang=en",
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    let read = text(&html);
    assert!(read.contains("No, you may not") && read.contains("Why not"));
    assert!(read.contains("§3 Privacy and security"));
    let english = engine.decide_in(&query, Language::En).unwrap();
    for reason in &english.reasons {
        assert!(read.contains(&*reason.message), "{}", reason.message);
    }
    assert!(html.contains("<blockquote lang=\"sv\""));
    assert!(read.contains("What you may use instead"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reason_from_law_names_its_article_once_in_the_pages_language() {
    let server = start(args()).await;
    let asked = "/ask?ai=lokal-sprakmodell&data=intern&role=employee";
    let (_, _, html) = page(&server, asked).await;
    let read = text(&html);
    // The rule's sentence cites AI-förordningen art. 26.2; the page adds no second citation,
    // and no English name of the act.
    assert_eq!(read.matches("art. 26.2").count(), 1, "{read}");
    assert!(!read.contains("EU AI Act"), "{read}");
    let (_, _, html) = page(&server, &format!("{asked}&lang=en")).await;
    let read = text(&html);
    assert_eq!(read.matches("art. 26(2)").count(), 1, "{read}");
    assert!(!read.contains("AI-förordningen"), "{read}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yes_carries_its_duties() {
    let server = start(args()).await;
    let (status, _, html) = page(&server, "/ask?ai=copilot-chat&data=intern&role=employee").await;
    assert_eq!(status, 200);
    let read = text(&html);
    assert!(
        read.contains("Ja, det får du") && read.contains("Dina skyldigheter"),
        "{read}"
    );
    let employee = UserRef::Inline(User::new("x", [Role::Employee]));
    let decision = engine()
        .decide_in(
            &Query::new(employee, "copilot-chat", ["intern"]),
            Language::Sv,
        )
        .unwrap();
    assert!(decision.is_allowed() && !decision.obligations.is_empty());
    for duty in &decision.obligations {
        assert!(read.contains(&*duty.message), "{}", duty.message);
    }
    assert!(read.contains("U1"));
    assert!(!read.contains("Det här får du använda i stället"));
    // Counted as the page's, and as a decision.
    let (_, _, metrics) = page(&server, "/metrics").await;
    assert!(
        metrics.contains("aipolicy_http_requests_total{endpoint=\"/ask\",status=\"200\"} 1"),
        "{metrics}"
    );
    server.stop().await;
}

/// The page answers exactly as the engine does, for every system, class and role of the
/// register.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_the_engines() {
    let server = start(args()).await;
    let engine = engine();
    let register = engine.register().clone();
    let mut asked = 0;
    for system in register.ai_systems() {
        for class in register.data_classes() {
            for role in Role::ALL {
                let path = format!(
                    "/ask?ai={}&data={}&role={}",
                    system.id,
                    class.id,
                    role.as_str()
                );
                let (status, _, html) = page(&server, &path).await;
                assert_eq!(status, 200, "{path}");
                let user = UserRef::Inline(User::new("staff-page:x", [role]));
                let decision = engine
                    .decide_in(
                        &Query::new(user, system.id.as_str(), [class.id.as_str()]),
                        Language::Sv,
                    )
                    .unwrap();
                let read = text(&html);
                let yes = read.contains("Ja, det får du");
                let no = read.contains("Nej, det får du inte");
                assert!(yes != no, "{path}");
                assert_eq!(yes, decision.is_allowed(), "{path}");
                asked += 1;
            }
        }
    }
    assert_eq!(
        asked,
        register.ai_systems().len() * register.data_classes().len() * 3
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_parameter_is_a_400_naming_it_and_the_closest_value_never_an_answer() {
    let server = start(args()).await;
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("data=intern&role=employee", "ai", None),
        (
            "ai=chatgpt&data=intrn&role=employee",
            "data",
            Some("intern"),
        ),
        ("ai=chatgpt&role=employee", "data", None),
        (
            "ai=chatgpt&data=intern&role=employe",
            "role",
            Some("employee"),
        ),
        ("ai=chatgpt&data=intern", "role", None),
        (
            "ai=chatgpt&data=intern&role=employee&action=usee",
            "action",
            Some("use"),
        ),
        (
            "ai=chatgpt&data=intern&role=employee&humanreview=true",
            "humanreview",
            Some("humanReview"),
        ),
        (
            "ai=chatgpt&data=intern&role=employee&humanReview=yes",
            "humanReview",
            Some("true"),
        ),
        (
            "ai=chatgpt&ai=copilot-chat&data=intern&role=employee",
            "ai",
            None,
        ),
        (
            "ai=chatgpt&data=intern&role=employee&lang=de",
            "lang",
            Some("sv"),
        ),
        (
            "ai=chatgpt&data=intern&role=employee&unit=Socialforvaltningen",
            "unit",
            Some("Socialförvaltningen"),
        ),
    ];
    for (query, parameter, closest) in cases {
        let (status, headers, html) = page(&server, &format!("/ask?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        let read = text(&html);
        assert!(
            read.contains("Frågan kunde inte besvaras"),
            "{query}: {read}"
        );
        assert!(
            read.contains(&format!("Parametern {parameter}")),
            "{query}: {read}"
        );
        assert!(!read.contains("Ja, det får du") && !read.contains("Nej, det får du inte"));
        if let Some(closest) = closest {
            assert!(read.contains(closest), "{query}: {read}");
            assert!(html.contains("Menade du"), "{query}");
        }
        // Names and values are shown as code, never as Markdown's backticks.
        assert!(!read.contains('`'), "{query}: {read}");
    }
    // The link of the closest value asks the question again, mended.
    let (_, _, html) = page(&server, "/ask?ai=chatgpt&data=intrn&role=employee").await;
    assert!(
        html.contains("href=\"/ask?ai=chatgpt&amp;data=intern&amp;role=employee\""),
        "{html}"
    );
    assert!(html.contains("<code>intrn</code>"), "{html}");
    // In English when asked, even for the error.
    let (status, _, html) = page(&server, "/ask?ai=chatgpt&data=intrn&role=employee&lang=en").await;
    assert_eq!(status, 400);
    assert!(text(&html).contains("The parameter data has the value intrn"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_outside_the_register_is_public_ai_answered_as_the_engine_does() {
    let server = start(args()).await;
    let engine = engine();
    for (ai, data, closest) in [
        ("Gemini", "oppen", None),
        ("Gemini", "intern", None),
        ("copilot", "intern", Some("copilot-chat")),
        ("Copilot", "oppen", Some("copilot-chat")),
    ] {
        for lang in ["sv", "en"] {
            let path = format!("/ask?ai={ai}&data={data}&role=employee&lang={lang}");
            let (status, _, html) = page(&server, &path).await;
            assert_eq!(status, 200, "{path}: {html}");
            let read = text(&html);
            let user = UserRef::Inline(User::new("staff-page:x", [Role::Employee]));
            let decision = engine
                .decide_in(&Query::new(user, ai, [data]), Language::Sv)
                .unwrap();
            let (yes, no, public) = if lang == "sv" {
                (
                    "Ja, det får du",
                    "Nej, det får du inte",
                    "räknas som publik AI",
                )
            } else {
                ("Yes, you may", "No, you may not", "counts as public AI")
            };
            assert_eq!(read.contains(yes), decision.is_allowed(), "{path}: {read}");
            assert_eq!(read.contains(no), !decision.is_allowed(), "{path}: {read}");
            assert!(read.contains(public), "{path}: {read}");
            if !decision.is_allowed() {
                assert!(read.contains("U3"), "{path}: {read}");
            }
            assert!(!read.contains('`'), "{path}: {read}");
            match closest {
                Some(id) => assert!(
                    html.contains(&format!(
                        "href=\"/ask?ai={id}&amp;data={data}&amp;role=employee&amp;lang={lang}\""
                    )),
                    "{path}: {html}"
                ),
                None => assert!(
                    !read.contains("Menade du") && !read.contains("Did you mean"),
                    "{path}"
                ),
            }
        }
    }
    // Open information in a public AI is allowed, anything else is not (U3).
    let (_, _, html) = page(&server, "/ask?ai=Gemini&data=oppen&role=employee").await;
    assert!(text(&html).contains("Ja, det får du"));
    let (_, _, html) = page(&server, "/ask?ai=Gemini&data=intern&role=employee").await;
    assert!(text(&html).contains("Nej, det får du inte"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_links_every_paragraph_to_its_rules_and_back() {
    let server = start(args()).await;
    let (status, _, html) = page(&server, "/policy").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<h1>").count(), 1);
    let read = text(&html);
    assert!(read.contains("Publika AI får bara användas för information som är klassad som öppen"));
    let engine = engine();
    for paragraph in aipolicy::Paragraph::ALL {
        let anchor = format!("par-{}", paragraph.code().replace('§', "s").to_lowercase());
        assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        for rule in engine
            .policies()
            .rules()
            .iter()
            .filter(|r| r.paragraph == paragraph)
        {
            let item = html
                .split(&format!("<li id=\"rule-{}\">", rule.id))
                .nth(1)
                .unwrap_or_else(|| panic!("rule {} is not on the page", rule.id));
            let item = &item[..item.find("</li>").unwrap()];
            assert!(item.contains(&format!("href=\"#{anchor}\"")), "{}", rule.id);
        }
    }
    assert!(!html.contains("id=\"unplaced\""));
    let (_, _, english) = page(&server, "/policy?lang=en").await;
    assert!(english.starts_with("<!DOCTYPE html><html lang=\"en\">"));
    assert!(english.contains("<div lang=\"sv\">"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_matrix_shows_every_reason_in_words() {
    let server = start(args()).await;
    let (status, _, html) = page(&server, "/matrix").await;
    assert_eq!(status, 200);
    assert_eq!(html.matches("<h1>").count(), 1);
    assert!(html.contains("<caption>Anställd: AI-system och information</caption>"));
    assert!(html.contains("<th scope=\"col\">AI-system</th>"));
    assert!(text(&html).contains("Nej, därför att"));
    let (status, _, html) = page(&server, "/matrix?action=publish&lang=en").await;
    assert_eq!(status, 200);
    let read = text(&html);
    assert!(
        read.contains("Which AI may I use?")
            && read.contains("Employee: AI systems and information"),
        "{read}"
    );
    assert!(html.contains("<option value=\"publish\" selected>"));
    let (status, _, html) = page(&server, "/matrix?action=publsh").await;
    assert_eq!(status, 400);
    assert!(text(&html).contains("publish"));
    // For whom: untrained by default, and said; trained and of a unit when chosen.
    let (_, _, html) = page(&server, "/matrix?action=decide&humanReview=true").await;
    assert!(text(&html).contains("För en användare utan kommunens AI-utbildning"));
    let (status, _, html) = page(
        &server,
        "/matrix?action=decide&humanReview=true&aiLiteracy=true&unit=Socialf%C3%B6rvaltningen",
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let read = text(&html);
    assert!(
        read.contains("För en användare som har gått kommunens AI-utbildning"),
        "{read}"
    );
    assert!(
        read.contains("Användaren hör till Socialförvaltningen"),
        "{read}"
    );
    assert!(
        html.contains("name=\"aiLiteracy\" value=\"true\" checked"),
        "{html}"
    );
    let (status, _, html) = page(&server, "/matrix?unit=Socialforvaltningen").await;
    assert_eq!(status, 400);
    assert!(text(&html).contains("Socialförvaltningen"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_shows_the_registers_users() {
    let server = start(args()).await;
    let pages = [
        "/",
        "/?lang=en",
        "/ask?ai=copilot-chat&data=personuppgifter&role=employee",
        "/ask?ai=lokal-sprakmodell&data=socialtjanstarende&role=employee&unit=Socialf%C3%B6rvaltningen",
        "/matrix",
        "/policy",
    ];
    let users = engine().register().users().to_vec();
    assert!(!users.is_empty());
    for path in pages {
        let (status, _, html) = page(&server, path).await;
        assert_eq!(status, 200, "{path}");
        let read = text(&html);
        for user in &users {
            assert!(
                !read.contains(&format!(" {} ", user.id)),
                "{path} shows {}",
                user.id
            );
        }
        for unit in [
            "Avslutad anställning",
            "Kommunstyrelseförvaltningen",
            "Kommunfullmäktige",
        ] {
            assert!(!read.contains(unit), "{path} shows {unit}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_the_sign_in_proxy_the_page_answers_for_the_registered_user_only() {
    let server = start(ServeArgs {
        trust_user_header: Some("x-remote-user".parse().unwrap()),
        ..args()
    })
    .await;
    let ask = "/ask?ai=copilot-chat&data=intern";
    // anna is an employee: yes, without naming a role.
    let (status, _, html) = page_with(&server, ask, &[("x-remote-user", "anna")]).await;
    assert_eq!(status, 200);
    let read = text(&html);
    assert!(
        read.contains("Ja, det får du") && read.contains("anna (Anställd"),
        "{read}"
    );
    // A role the visitor names does not count: the register's do. gunilla has left.
    let (status, _, html) = page_with(
        &server,
        &format!("{ask}&role=employee"),
        &[("x-remote-user", "gunilla")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Nej, det får du inte"));
    // Someone the register does not list: a clear refusal, never a yes.
    let (status, _, html) = page_with(&server, ask, &[("x-remote-user", "mallory")]).await;
    assert_eq!(status, 403);
    let read = text(&html);
    assert!(
        read.contains("finns inte bland AI-registrets användare")
            && !read.contains("Ja, det får du")
    );
    // No header: nobody is signed in.
    for path in [ask, "/"] {
        let (status, _, html) = page(&server, path).await;
        assert_eq!(status, 401, "{path}");
        assert!(text(&html).contains("x-remote-user"));
    }
    // The form shows who is signed in, and asks no role.
    let (status, _, html) = page_with(&server, "/", &[("x-remote-user", "anna")]).await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Du är inloggad som anna"));
    assert!(!html.contains("name=\"role\""));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_municipalitys_text_and_rules_it_does_not_mark() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.md");
    std::fs::write(
        &file,
        "# Policy för AI i Exempelby\n\n## Integritet {§3}\n\nVi skyddar informationen.\n\n- Publik AI bara för öppen information. {U3}\n",
    )
    .unwrap();
    let server = start(ServeArgs {
        policy_text: Some(file.clone()),
        lang: aipolicy_server::args::LangArg::En,
        ..args()
    })
    .await;
    // `--lang en` is the APIs' default; the page stays Swedish unless asked.
    let (status, _, html) = page(&server, "/policy").await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"sv\">"));
    let read = text(&html);
    assert!(
        read.contains("Policy för AI i Exempelby") && read.contains("Vi skyddar informationen.")
    );
    assert!(read.contains(&file.display().to_string()));
    // Every rule is on the page: those of paragraphs the text lacks at the end.
    assert!(html.contains("id=\"unplaced\""));
    for rule in engine().policies().rules() {
        assert!(
            html.contains(&format!("<li id=\"rule-{}\">", rule.id)),
            "{}",
            rule.id
        );
    }
    // An answer quotes this text, not Askersund's.
    let (_, _, html) = page(&server, "/ask?ai=chatgpt&data=intern&role=employee").await;
    assert!(text(&html).contains("Publik AI bara för öppen information."));
    server.stop().await;

    // A text that cannot be read stops the start, naming the file and the line.
    std::fs::write(&file, "# T\n\n## A {§9}\n").unwrap();
    let error = Server::bind(ServeArgs {
        policy_text: Some(file.clone()),
        ..args()
    })
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        format!(
            "{}:3: unknown paragraph code `§9`; expected one of §1–§6, U0–U5",
            file.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_and_ai_training_are_the_visitors_to_tick() {
    let server = start(args()).await;
    let engine = engine();
    let ask = "/ask?ai=lokal-sprakmodell&data=personuppgifter&action=decide&role=employee";
    for (extra, literacy, review) in [
        ("", false, false),
        ("&humanReview=true", false, true),
        ("&humanReview=true&aiLiteracy=true", true, true),
    ] {
        let mut user = User::new("staff-page:employee", [Role::Employee]);
        if literacy {
            user.ai_literacy = Some(true);
        }
        let query = Query::new(
            UserRef::Inline(user),
            "lokal-sprakmodell",
            ["personuppgifter"],
        )
        .with_action(aipolicy::Action::Decide)
        .with_context("humanReview", review)
        .unwrap();
        let decision = engine.decide_in(&query, Language::Sv).unwrap();
        let (status, _, html) = page(&server, &format!("{ask}{extra}")).await;
        assert_eq!(status, 200);
        let read = text(&html);
        assert_eq!(
            read.contains("Ja, det får du"),
            decision.is_allowed(),
            "{extra}: {read}"
        );
        for reason in decision.reasons.iter().chain(&decision.obligations) {
            assert!(
                read.contains(&*reason.message),
                "{extra}: {}",
                reason.message
            );
        }
        // Without any condition ticked, the page says the action needs some.
        assert_eq!(
            read.contains("Inga förutsättningar är ikryssade"),
            extra.is_empty(),
            "{extra}"
        );
        if literacy {
            assert!(read.contains("har gått AI-utbildningen"));
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_staff_page_serves_only_the_apis() {
    let server = start(ServeArgs {
        no_staff_page: true,
        ..args()
    })
    .await;
    for path in [
        "/",
        "/ask?ai=chatgpt&data=oppen&role=employee",
        "/matrix",
        "/policy",
        "/text",
        "/staff-page.css",
    ] {
        let (status, _, _) = page(&server, path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, body) = server.post_json("/v1/decide", ANNA_COPILOT).await;
    assert_eq!((status, body["decision"].as_str()), (200, Some("allow")));
    server.stop().await;
}

/// A decision log that cannot be written, whose error names where it is.
struct Unwritable;

impl aipolicy_server::DecisionSink for Unwritable {
    fn submit(&self, _: aipolicy_server::DecisionRecord) -> Option<aipolicy::log::Ticket> {
        Some(aipolicy::log::Ticket(1))
    }

    fn last_ticket(&self) -> aipolicy::log::Ticket {
        aipolicy::log::Ticket(1)
    }

    fn wait_durable(&self, _: aipolicy::log::Ticket) -> Result<(), aipolicy::log::LogError> {
        Err(aipolicy::log::LogError(
            "postgres://aipolicy:***@db.kommun.local/aipolicy: jsonl:/var/lib/aipolicy/audit.jsonl: the record could not be written".into(),
        ))
    }

    fn is_sync(&self) -> bool {
        true
    }

    fn queue_depth(&self) -> u64 {
        0
    }

    fn dropped(&self) -> u64 {
        0
    }
}

impl aipolicy_server::AnswerSink for Unwritable {}

/// Asserts that a response is one of the page's own: HTML with the page's headers.
fn assert_a_page(status: u16, headers: &reqwest::header::HeaderMap, body: &str, what: &str) {
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(
        headers["content-type"], "text/html; charset=utf-8",
        "{what}: {body}"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'"),
        "{what}"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(headers["cache-control"], "no-store", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["retry-after"], "1", "{what}");
    assert!(body.starts_with("<!DOCTYPE html>"), "{what}: {body}");
    for secret in [
        "jsonl:",
        "postgres:",
        "/var/lib",
        "audit",
        "db.kommun.local",
    ] {
        assert!(!body.contains(secret), "{what} names `{secret}`: {body}");
    }
}

/// The page's refusals (beyond `--max-concurrent`, a decision log that cannot be written) are
/// pages with the page's headers, and show a visitor nothing of where the log is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_refusals_are_pages_that_name_no_log() {
    let ask = "/ask?ai=copilot-chat&data=intern&role=employee";
    let server = start(ServeArgs {
        max_concurrent: 1,
        ..args()
    })
    .await;
    let stalled = stalled(&server, "/v1/decide").await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    for path in [ask, "/matrix?lang=en", "/"] {
        let (status, headers, body) = page(&server, path).await;
        assert_a_page(status, &headers, &body, path);
    }
    drop(stalled);
    server.stop().await;

    let server = start_with_sink(args(), Arc::new(Unwritable)).await;
    let (status, headers, body) = page(&server, ask).await;
    assert_a_page(status, &headers, &body, "an unwritable log");
    assert!(text(&body).contains("Försök igen"), "{body}");
    server.stop().await;
}

/// Posts `text` to the text box, as the page's form does.
async fn post_text(server: &Running, path: &str, text: &str) -> (u16, String) {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("text", text)
        .finish();
    let response = server
        .client
        .post(server.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A decision log that counts what it is given.
#[derive(Default)]
struct Counting(std::sync::atomic::AtomicU64);

impl aipolicy_server::DecisionSink for Counting {
    fn submit(&self, _: aipolicy_server::DecisionRecord) -> Option<aipolicy::log::Ticket> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(aipolicy::log::Ticket(1))
    }

    fn last_ticket(&self) -> aipolicy::log::Ticket {
        aipolicy::log::Ticket(1)
    }

    fn wait_durable(&self, _: aipolicy::log::Ticket) -> Result<(), aipolicy::log::LogError> {
        Ok(())
    }

    fn is_sync(&self) -> bool {
        false
    }

    fn queue_depth(&self) -> u64 {
        0
    }

    fn dropped(&self) -> u64 {
        0
    }
}

impl aipolicy_server::AnswerSink for Counting {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_box_names_what_a_text_holds_and_keeps_nothing() {
    let sink = Arc::new(Counting::default());
    let server = start_with_sink(args(), sink.clone()).await;
    // The empty box, in both languages, linked from every page.
    let (status, _, body) = page(&server, "/text").await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"<textarea id="text" name="text""#),
        "{body}"
    );
    assert!(text(&body).contains("Vad innehåller min text?"));
    let (_, _, english) = page(&server, "/text?lang=en").await;
    assert!(text(&english).contains("What does my text hold?"));
    assert!(english.contains(r#"action="/text?lang=en""#));
    let (_, _, form) = page(&server, "/").await;
    assert!(form.contains(r#"href="/text""#));
    // A case note: a personnummer, a phone number and a health word.
    let note = "Klienten 19811218-9876, tel 070-123 45 67, är sjukskriven.";
    let (status, body) = post_text(&server, "/text", note).await;
    assert_eq!(status, 200, "{body}");
    let said = text(&body);
    for expected in [
        "ett personnummer",
        "ett telefonnummer",
        "uppgifter om hälsa",
        "10–22",
        "Personuppgifter (personuppgifter)",
        "Texten innehåller minst: Känsliga personuppgifter (kansliga-personuppgifter)",
        "Texten sparas inte och loggas inte",
    ] {
        assert!(said.contains(expected), "{expected}: {said}");
    }
    // In English too.
    let (_, body) = post_text(&server, "/text?lang=en", note).await;
    assert!(text(&body).contains("a personal identity number"), "{body}");
    // Nothing found is not "open".
    let (_, body) = post_text(&server, "/text", "Välkomna till julmarknaden!").await;
    assert!(text(&body).contains("Det betyder inte att texten är öppen information"));
    // Nothing of it was decided or logged.
    assert_eq!(sink.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Over the limit: a page that names it, not an answer.
    let long = "a".repeat(aipolicy::query::MAX_TEXT_BYTES + 1);
    let (status, body) = post_text(&server, "/text", &long).await;
    assert_eq!(status, 413, "{}", &body[..200.min(body.len())]);
    assert!(text(&body).contains("1048576 bytes (1 MiB)"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_says_truly_what_becomes_of_a_question() {
    // No decision log: nothing is kept, and the page says so.
    let server = start(args()).await;
    for path in [
        "/",
        "/ask?ai=chatgpt&data=oppen&role=employee",
        "/matrix",
        "/policy",
        "/text",
    ] {
        let (_, _, html) = page(&server, path).await;
        let read = text(&html);
        assert!(read.contains("Det du frågar sparas inte"), "{path}: {read}");
        assert!(!read.contains("stannar på den här sidan"), "{path}");
    }
    server.stop().await;
    // A decision log: every question is written to it, with the role but not the person.
    let sink = Arc::new(Counting::default());
    let server = start_with_sink(args(), sink.clone()).await;
    let (_, _, html) = page(&server, "/ask?ai=chatgpt&data=oppen&role=employee").await;
    assert_eq!(
        sink.0.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the question is logged"
    );
    let read = text(&html);
    assert!(
        read.contains("Varje fråga du ställer här skrivs i kommunens beslutslogg"),
        "{read}"
    );
    assert!(read.contains("inte vem du är"), "{read}");
    assert!(read.contains("§6"), "{read}");
    let (_, _, html) = page(&server, "/?lang=en").await;
    assert!(text(&html)
        .contains("Every question you ask here is written to the municipality's decision log"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_links_a_privacy_notice_true_of_this_service_and_the_municipalitys_text() {
    // Without a log and without a text of the municipality's: nothing is kept, and the notice
    // says who is responsible, from the register.
    let server = start(args()).await;
    for path in [
        "/",
        "/matrix",
        "/policy",
        "/text",
        "/ask?ai=chatgpt&data=oppen&role=employee",
    ] {
        let (_, _, html) = page(&server, path).await;
        assert!(html.contains("href=\"/privacy\""), "{path} links no notice");
    }
    let (status, headers, html) = page(&server, "/privacy").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let read = text(&html);
    assert!(read.contains("Så hanteras dina uppgifter"), "{read}");
    assert!(
        read.contains("Ingenting: tjänsten för ingen beslutslogg"),
        "{read}"
    );
    assert!(
        read.contains("Personuppgiftsansvarig är Askersunds kommun"),
        "{read}"
    );
    assert!(
        !read.contains("Dina rättigheter"),
        "no log, nothing to ask for: {read}"
    );
    let (_, _, html) = page(&server, "/privacy?lang=en").await;
    assert!(text(&html).contains("The controller is Askersunds kommun"));
    server.stop().await;

    // A log with a year's retention, and the project's privacy.md: the facts, the rights, and
    // the municipality's own words.
    let dir = tempfile::tempdir().unwrap();
    let notice = dir.path().join("integritet.md");
    std::fs::write(
        &notice,
        "<!-- ett utkast -->\n# Integritet\n\n## Dataskyddsombud\n\nDu når dataskyddsombudet på dso@exempelby.example.\n",
    )
    .unwrap();
    let mut with_log = args();
    with_log.privacy_notice = Some(notice);
    with_log.log.log_retention = "1y".parse().unwrap();
    with_log.log.log = Some(
        format!("jsonl:{}", dir.path().join("log.jsonl").display())
            .parse()
            .unwrap(),
    );
    let server = start_with_sink(with_log, Arc::new(Counting::default())).await;
    let (_, _, html) = page(&server, "/privacy").await;
    let read = text(&html);
    for said in [
        "den roll du valde",
        "sparas i 1 år",
        "Dina rättigheter",
        "art. 15",
        "Integritetsskyddsmyndigheten",
        "Du når dataskyddsombudet på dso@exempelby.example.",
    ] {
        assert!(read.contains(said), "{said:?} not in {read}");
    }
    assert!(!read.contains("ett utkast"), "a comment is not shown");
    assert!(
        !read.contains("inte lagt till någon egen integritetstext"),
        "{read}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_only_the_registers_users_may_use_ai_a_visitor_is_told_why_every_answer_is_no() {
    let notice = "Här får bara de som finns i kommunens AI-register använda AI";
    let server = start(ServeArgs {
        registered_users_only: true,
        ..args()
    })
    .await;
    let (_, _, html) = page(&server, "/").await;
    assert!(text(&html).contains(notice), "{html}");
    let (status, _, html) = page(&server, "/ask?ai=copilot-chat&data=intern&role=employee").await;
    assert_eq!(status, 200);
    let read = text(&html);
    assert!(read.contains("Nej"), "{read}");
    assert!(read.contains(notice), "{read}");
    let (_, _, html) = page(&server, "/?lang=en").await;
    assert!(text(&html).contains("Here only those in the municipality's AI register may use AI"));
    server.stop().await;
    // Where every user may, no such notice.
    let server = start(args()).await;
    let (_, _, html) = page(&server, "/ask?ai=copilot-chat&data=intern&role=employee").await;
    assert!(!text(&html).contains(notice));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_single_sign_on_the_log_holds_a_pseudonym_unless_the_municipality_chose_ids() {
    let dir = tempfile::tempdir().unwrap();
    let log = |name: &str| aipolicy_log::LogArgs {
        log: Some(
            format!("jsonl:{}", dir.path().join(name).display())
                .parse()
                .unwrap(),
        ),
        ..aipolicy_log::LogArgs::default()
    };
    let signed_in = |log_args: aipolicy_log::LogArgs| ServeArgs {
        trust_user_header: Some("x-remote-user".parse().unwrap()),
        log: log_args,
        ..args()
    };
    // Neither a key nor the municipality's choice of ids: the service does not start.
    let refused = aipolicy_server::Server::bind(signed_in(log("a.jsonl"))).await;
    let message = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("--log-pseudonymize"), "{message}");
    assert!(message.contains("--staff-page-user-ids"), "{message}");
    // With a key: a pseudonym, and the page says so.
    let with_key = aipolicy_log::LogArgs {
        log_pseudonymize: Some("a long and random key".into()),
        ..log("b.jsonl")
    };
    let server = start(signed_in(with_key)).await;
    let (_, _, html) = page_with(&server, "/", &[("x-remote-user", "anna")]).await;
    let read = text(&html);
    assert!(
        read.contains("en pseudonym i stället för ditt användar-id"),
        "{read}"
    );
    assert!(read.contains("i 6 månader"), "{read}");
    server.stop().await;
    // The municipality's choice: ids, and the page says so.
    let ids = ServeArgs {
        staff_page_user_ids: true,
        ..signed_in(log("c.jsonl"))
    };
    let server = start(ids).await;
    let (_, _, html) = page_with(&server, "/", &[("x-remote-user", "anna")]).await;
    assert!(text(&html).contains("och ditt användar-id"));
    server.stop().await;
}
