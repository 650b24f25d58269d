//! The staff page in a real browser: Debian's `chromium`, headless, driven through
//! `chromedriver` (WebDriver) by fantoccini. Each test starts the service on an ephemeral
//! loopback port, fills the form as a person would, reads the answer, and runs axe-core on
//! every page it sees (WCAG 2.0 and 2.1, levels A and AA): zero violations. Also: the
//! keyboard reaches the skip link and shows where it is, and no page is wider than a 400 px
//! phone.
//!
//! Needs `chromium` and `chromium-driver` (Debian) and axe-core (`npm ci` in this folder);
//! `.ci/run` installs all three. Without them the tests fail and say what to install.
//! `CHROMIUM`, `CHROMEDRIVER` and `AXE_CORE` name other places.
//!
//! `AIPOLICY_SCREENSHOTS=DIR` also saves the README's screenshots there (desktop 1280 px and
//! phone 400 px, of `/` and of an answer): `AIPOLICY_SCREENSHOTS=docs/staff-page cargo test -p
//! aipolicy-server --test browser` from the repository's root.

#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aipolicy_server::{ServeArgs, Server, State};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// The WCAG rules axe-core checks.
const WCAG_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// A program the tests need: `$variable`, else `default`; fails naming the Debian package.
fn program(variable: &str, default: &str, name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "the browser tests need {name} at {}: install Debian's `{package}` (apt-get install {package}), or set {variable}",
        path.display()
    );
    path
}

fn chromium() -> PathBuf {
    program("CHROMIUM", "/usr/bin/chromium", "Chromium", "chromium")
}

fn chromedriver() -> PathBuf {
    program(
        "CHROMEDRIVER",
        "/usr/bin/chromedriver",
        "ChromeDriver",
        "chromium-driver",
    )
}

fn axe_source() -> String {
    let path = std::env::var_os("AXE_CORE").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/browser/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the browser tests need axe-core at {} ({e}): run `npm ci` in crates/aipolicy-server/tests/browser, or set AXE_CORE",
            path.display()
        )
    })
}

/// A free loopback port for chromedriver (it cannot be told to pick one and say which).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver, ended when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The service in this process, on an ephemeral port.
struct Service {
    base: String,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn service(args: ServeArgs) -> Service {
    let server = Server::bind(ServeArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        watch: Duration::ZERO,
        quiet: true,
        // The tests' day: every assessment of the bundled register holds on it.
        clock: aipolicy::Clock::fixed(
            aipolicy::clock::parse_date(aipolicy_test_support::TODAY).unwrap(),
        ),
        ..args
    })
    .await
    .unwrap();
    let addr = server.local_addr().unwrap();
    let state = server.state();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    for _ in 0..500 {
        if state.current().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        state.current().is_some(),
        "the service did not load its policy"
    );
    Service {
        base: format!("http://{addr}"),
        state,
        stop: Some(tx),
    }
}

/// Starts chromedriver and a headless Chromium session with a fresh profile.
async fn browser() -> (Driver, Client) {
    let (chromium, chromedriver) = (chromium(), chromedriver());
    let port = free_port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _profile: profile,
    };
    let capabilities = json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,900",
                format!("--user-data-dir={}", driver._profile.path().display()),
            ]
        }
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    let mut last = None;
    for _ in 0..100 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&driver.url)
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "chromedriver at {} did not start a session: {last:?}",
        driver.url
    );
}

/// Runs `test` with a browser and the service, then closes the browser whatever happened.
async fn with_browser<F, Fut>(args: ServeArgs, test: F)
where
    F: FnOnce(Client, String, Arc<State>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let service = service(args).await;
    let (driver, client) = browser().await;
    let outcome = tokio::spawn(test(
        client.clone(),
        service.base.clone(),
        Arc::clone(&service.state),
    ))
    .await;
    let _ = client.close().await;
    drop(driver);
    drop(service);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Runs axe-core on the page shown and fails with every violation, named.
async fn assert_accessible(client: &Client, what: &str) {
    let violations = violations(client).await;
    assert_eq!(
        violations.as_array().map(Vec::len),
        Some(0),
        "axe-core finds WCAG 2.1 A/AA violations on {what}: {}",
        serde_json::to_string_pretty(&violations).unwrap()
    );
}

/// axe-core's violations of the WCAG rules on the page shown: `[{id, impact, help, nodes}]`.
async fn violations(client: &Client) -> Value {
    let present = client
        .execute("return typeof window.axe !== 'undefined';", vec![])
        .await
        .unwrap();
    if present != Value::Bool(true) {
        client
            .execute(&format!("{}\nreturn true;", axe_source()), vec![])
            .await
            .unwrap();
    }
    let script = r#"
        const [tags, done] = arguments;
        axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
          .then(r => done(JSON.stringify(r.violations.map(v => ({
              id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) })))))
          .catch(e => done(JSON.stringify([{ id: 'axe-error', help: String(e), nodes: [] }])));
    "#;
    let result = client
        .execute_async(script, vec![json!(WCAG_TAGS)])
        .await
        .unwrap();
    serde_json::from_str(result.as_str().unwrap()).unwrap()
}

/// Whether the page fits its window's width (nothing to scroll sideways but its tables' own
/// scroll regions).
async fn fits_width(client: &Client) -> bool {
    client
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await
        .unwrap()
        == Value::Bool(true)
}

async fn h1(client: &Client) -> String {
    client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn main_text(client: &Client) -> String {
    client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Clicks what `locator` finds.
async fn click(client: &Client, locator: Locator<'_>) {
    client.find(locator).await.unwrap().click().await.unwrap();
}

/// Fills the form as a person does: types the system's name, ticks the information, picks
/// the action and the role (by their labels), and sends it.
async fn ask(client: &Client, ai: &str, data: &[&str], action: &str, role: &str) {
    let field = client.find(Locator::Id("ai")).await.unwrap();
    field.send_keys(ai).await.unwrap();
    // Escape closes the browser's suggestion list, which would cover what is clicked next.
    field.send_keys("\u{E00C}").await.unwrap();
    for id in data {
        click(client, Locator::Css(&format!("label[for='data-{id}']"))).await;
    }
    click(
        client,
        Locator::Css(&format!("label[for='action-{action}']")),
    )
    .await;
    click(client, Locator::Css(&format!("label[for='role-{role}']"))).await;
    follow(client, Locator::Css("button[type=submit]")).await;
}

/// Clicks what `locator` finds and waits for the page it leads to (its `main h1`).
async fn follow(client: &Client, locator: Locator<'_>) {
    click(client, locator).await;
    client
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .unwrap();
}

/// Saves a screenshot of the whole page at `width` when `AIPOLICY_SCREENSHOTS` names a folder.
async fn screenshot(client: &Client, width: u32, name: &str) {
    let Some(dir) = std::env::var_os("AIPOLICY_SCREENSHOTS") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Grow the window until the viewport holds the whole page (the window's own frame, and
    // text that wraps differently at another height, make one step not always enough).
    let mut window = 900u64;
    client.set_window_size(width, 900).await.unwrap();
    for _ in 0..4 {
        let sizes = client
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight];",
                vec![],
            )
            .await
            .unwrap();
        let (page, viewport) = (
            sizes[0].as_u64().unwrap_or(900),
            sizes[1].as_u64().unwrap_or(900),
        );
        if page <= viewport {
            break;
        }
        window = (window + page - viewport).min(8000);
        client
            .set_window_size(width, u32::try_from(window).unwrap())
            .await
            .unwrap();
    }
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    client.set_window_size(1280, 900).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn may_i_use_copilot_chat_with_personal_data_no_because_of_s3_and_what_is_allowed() {
    with_browser(ServeArgs::default(), |client, base, _| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        assert_eq!(h1(&client).await, "Får jag använda AI?");
        assert_accessible(&client, "/").await;
        screenshot(&client, 1280, "form-desktop").await;
        screenshot(&client, 400, "form-phone").await;
        // The name a person knows is enough: the server takes it as the system's.
        ask(
            &client,
            "Microsoft 365 Copilot Chat",
            &["personuppgifter"],
            "use",
            "employee",
        )
        .await;
        let url = client.current_url().await.unwrap();
        assert_eq!(url.path(), "/ask");
        assert_eq!(h1(&client).await, "Nej, det får du inte");
        let text = main_text(&client).await;
        assert!(text.contains("§3 Integritet och säkerhet"), "{text}");
        assert!(
            text.contains("Informationen har en högre skyddsnivå än AI-systemet är godkänt för."),
            "{text}"
        );
        assert!(
            text.contains("AI ska skydda användardata och information från obehörig åtkomst"),
            "{text}"
        );
        let instead: Vec<String> = {
            let mut names = Vec::new();
            for link in client
                .find_all(Locator::Css(
                    "main section:last-of-type li a, main section li a[href^='/ask']",
                ))
                .await
                .unwrap()
            {
                names.push(link.text().await.unwrap());
            }
            names
        };
        assert!(
            instead
                .iter()
                .any(|n| n == "Tal till text för socialtjänsten"),
            "{instead:?}"
        );
        // The high-risk language model only for someone with the AI training (AI Act art.
        // 26(2)), which this visitor did not tick.
        assert!(
            !instead
                .iter()
                .any(|n| n == "Kommunens lokala språkmodell (on-premises)"),
            "{instead:?}"
        );
        assert!(
            !instead.iter().any(|n| n == "Microsoft 365 Copilot Chat"),
            "{instead:?}"
        );
        assert_accessible(&client, "/ask (no)").await;
        screenshot(&client, 1280, "answer-desktop").await;
        screenshot(&client, 400, "answer-phone").await;
        // An alternative is one click away, and it is a yes with its duties.
        follow(
            &client,
            Locator::LinkText("Tal till text för socialtjänsten"),
        )
        .await;
        assert_eq!(h1(&client).await, "Ja, det får du");
        assert!(main_text(&client).await.contains("Dina skyldigheter"));
        assert_accessible(&client, "/ask (yes)").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_english_a_yes_with_its_duties() {
    with_browser(ServeArgs::default(), |client, base, state| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        click(&client, Locator::LinkText("English")).await;
        client
            .wait()
            .for_element(Locator::Css("html[lang=en]"))
            .await
            .unwrap();
        assert_eq!(h1(&client).await, "May I use AI?");
        assert_accessible(&client, "/?lang=en").await;
        ask(&client, "copilot-chat", &["intern"], "use", "employee").await;
        assert_eq!(h1(&client).await, "Yes, you may");
        let text = main_text(&client).await;
        assert!(text.contains("Your duties"), "{text}");
        let policy = state.current().unwrap();
        let user = aipolicy::UserRef::inline("x", [aipolicy::Role::Employee]);
        let decision = policy
            .engine
            .decide_in(
                &aipolicy::Query::new(user, "copilot-chat", ["intern"]),
                aipolicy::Language::En,
            )
            .unwrap();
        for duty in &decision.obligations {
            assert!(text.contains(&*duty.message), "{}: {text}", duty.message);
        }
        assert_accessible(&client, "/ask?lang=en (yes)").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core_at_desktop_and_phone_width_and_the_keyboard_finds_its_way() {
    with_browser(ServeArgs::default(), |client, base, _| async move {
        let pages = [
            "/",
            "/?lang=en",
            "/ask?ai=chatgpt&data=intern&role=contractor",
            "/ask?ai=lokal-sprakmodell&data=socialtjanstarende&action=decide&role=employee&unit=Socialf%C3%B6rvaltningen&humanReview=true&lang=en",
            "/ask?ai=copilot&data=intern&role=employee",
            "/matrix",
            "/matrix?action=publish&lang=en",
            "/policy",
            "/policy?lang=en",
            "/text",
            "/text?lang=en",
            "/privacy",
            "/privacy?lang=en",
        ];
        for width in [1280, 400] {
            client.set_window_size(width, 900).await.unwrap();
            for path in pages {
                client.goto(&format!("{base}{path}")).await.unwrap();
                let what = format!("{path} at {width} px");
                assert_accessible(&client, &what).await;
                assert!(fits_width(&client).await, "{what} is wider than the window");
            }
        }
        // The first Tab reaches the skip link, which then shows, with a visible focus ring;
        // Enter moves to the content.
        client.set_window_size(1280, 900).await.unwrap();
        client.goto(&format!("{base}/")).await.unwrap();
        client.find(Locator::Css("body")).await.unwrap().send_keys("\u{E004}").await.unwrap();
        let focused = client
            .execute(
                "const a = document.activeElement; const r = a.getBoundingClientRect(); \
                 const s = getComputedStyle(a); \
                 return [a.className, r.left >= 0 && r.top >= 0 && r.width > 0, s.outlineStyle, s.outlineWidth];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(focused[0], "skip", "{focused}");
        assert_eq!(focused[1], true, "the focused skip link is off screen: {focused}");
        assert_eq!(focused[2], "solid", "{focused}");
        assert_eq!(focused[3], "3px", "{focused}");
        client.find(Locator::Css("a.skip")).await.unwrap().send_keys("\u{E007}").await.unwrap();
        let at = client.execute("return document.activeElement.id;", vec![]).await.unwrap();
        assert_eq!(at, "main");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_privacy_notice_every_page_links_says_what_the_log_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let args = ServeArgs {
        log: aipolicy_log::LogArgs {
            log: Some(
                format!("jsonl:{}", dir.path().join("log.jsonl").display())
                    .parse()
                    .unwrap(),
            ),
            ..aipolicy_log::LogArgs::default()
        },
        ..ServeArgs::default()
    };
    with_browser(args, |client, base, _| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        // From the foot of any page to the notice.
        client
            .find(Locator::Css("footer p.privacy a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(h1(&client).await, "Så hanteras dina uppgifter");
        let text = client
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for said in [
            "den roll du valde",
            "i 6 månader",
            "Dina rättigheter",
            "Askersunds kommun",
        ] {
            assert!(text.contains(said), "{said:?} not in {text}");
        }
        for width in [1280, 400] {
            client.set_window_size(width, 900).await.unwrap();
            assert_accessible(&client, &format!("/privacy at {width} px")).await;
            assert!(
                fits_width(&client).await,
                "/privacy is wider than {width} px"
            );
        }
        screenshot(&client, 1280, "privacy-desktop").await;
        screenshot(&client, 400, "privacy-phone").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_outside_the_register_is_answered_as_public_ai_with_the_closest_offered() {
    with_browser(ServeArgs::default(), |client, base, _| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        // `copilot` is no system of the register: public AI, which may take open information
        // only (U3), as the engine and the API answer; the register's closest is offered.
        ask(&client, "copilot", &["intern"], "use", "employee").await;
        assert_eq!(h1(&client).await, "Nej, det får du inte");
        let text = main_text(&client).await;
        assert!(text.contains("räknas som publik AI"), "{text}");
        assert!(text.contains("U3"), "{text}");
        assert!(
            text.contains("Menade du Microsoft 365 Copilot Chat"),
            "{text}"
        );
        assert!(!text.contains('`'), "{text}");
        assert_accessible(&client, "the answer for a system outside the register").await;
        follow(
            &client,
            Locator::LinkText("Ställ frågan om Microsoft 365 Copilot Chat"),
        )
        .await;
        assert_eq!(h1(&client).await, "Ja, det får du");
    })
    .await;
}

/// The page the service gives when it cannot answer (here: beyond `--max-concurrent`) is a
/// page like the others: accessible, and leading back to the question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_of_a_busy_service_is_accessible() {
    let args = ServeArgs {
        max_concurrent: 1,
        ..ServeArgs::default()
    };
    with_browser(args, |client, base, _| async move {
        use tokio::io::AsyncWriteExt;
        // A request whose body never comes holds the one place.
        let addr = base.trim_start_matches("http://").to_string();
        let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
        stalled
            .write_all(b"POST /v1/decide HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        client
            .goto(&format!("{base}/ask?ai=chatgpt&data=intern&role=employee"))
            .await
            .unwrap();
        assert_eq!(h1(&client).await, "Tjänsten kan inte svara just nu");
        assert!(main_text(&client).await.contains("Försök igen om en stund."));
        assert_accessible(&client, "the 503 page").await;
        drop(stalled);
    })
    .await;
}

/// The check itself can fail: on a page without `lang` and with an input without a label,
/// axe-core (as injected here) finds both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_core_finds_violations_where_there_are_some() {
    with_browser(ServeArgs::default(), |client, _, _| async move {
        client
            .goto("data:text/html,<!DOCTYPE html><html><head><title>x</title></head><body><main><input type=text></main></body></html>")
            .await
            .unwrap();
        let found = violations(&client).await;
        let ids: Vec<&str> = found.as_array().unwrap().iter().filter_map(|v| v["id"].as_str()).collect();
        assert!(ids.contains(&"html-has-lang"), "{found}");
        assert!(ids.contains(&"label"), "{found}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_case_note_is_named_as_sensitive_personal_data_and_the_answer_passes_axe_core() {
    with_browser(ServeArgs::default(), |client, base, _| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        follow(&client, Locator::LinkText("Min text")).await;
        assert_eq!(h1(&client).await, "Vad innehåller min text?");
        let field = client.find(Locator::Id("text")).await.unwrap();
        field
            .send_keys("Klienten 19811218-9876 är sjukskriven; ring 070-123 45 67.")
            .await
            .unwrap();
        follow(&client, Locator::Css("button[type=submit]")).await;
        let text = main_text(&client).await;
        for expected in [
            "Texten innehåller minst: Känsliga personuppgifter",
            "ett personnummer",
            "uppgifter om hälsa",
            "ett telefonnummer",
            "Texten sparas inte och loggas inte",
        ] {
            assert!(text.contains(expected), "{expected}: {text}");
        }
        // The answer is at an address that holds no text of it.
        let url = client.current_url().await.unwrap();
        assert!(!url.as_str().contains("9876"), "{url}");
        assert_accessible(&client, "POST /text (found)").await;
    })
    .await;
}
