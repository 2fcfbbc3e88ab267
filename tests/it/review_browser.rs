//! `tdg review` in a real browser: headless Chromium driven by `chromedriver`
//! (WebDriver). The page is opened, filtered with its own controls, and decided on
//! with the keyboard; the checkpoint and the Q&A file then hold the decisions, and an
//! answer holding HTML shows as text.
//!
//! Without Chromium and chromedriver (`apt-get install chromium chromium-driver`) the
//! test says so and passes, except under CI=true, where it fails.

use crate::common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::mock_server::MockServer;
use common::{questions, read_json};
use serde_json::{Value, json};

use super::review::{ReviewServer, decision_rows, generate};

/// The first of `names` on the PATH.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver process and one headless Chromium session, ended when dropped.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Browser {
    fn start(driver: PathBuf, chromium: PathBuf) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            client: {
                // tdg's reqwest carries no TLS provider of its own (plain HTTP here).
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::new()
            },
            runtime,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while browser.call("GET", "/status", None).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1400,900"],
            },
        }}});
        let session = browser
            .call("POST", "/session", Some(capabilities))
            .expect("a Chromium session");
        browser.session = session["sessionId"].as_str().unwrap().to_string();
        browser
    }

    /// A WebDriver command; its `value`, or its error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url).json(&body.unwrap_or(json!({}))),
        };
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| e.to_string())?;
            let ok = response.status().is_success();
            let body: Value = response.json().await.map_err(|e| e.to_string())?;
            if ok {
                Ok(body["value"].clone())
            } else {
                Err(body.to_string())
            }
        })
    }

    /// A command of the session.
    fn session(&self, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call("POST", &path, Some(body))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn run(&self, script: &str) -> Value {
        self.session("/execute/sync", json!({"script": script, "args": []}))
    }

    /// Waits until `script` returns true.
    fn wait_for(&self, script: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.run(script) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for `{script}`; status: {}",
                self.run("return document.getElementById('status').textContent")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn click(&self, css: &str) {
        let found = self.session("/element", json!({"using": "css selector", "value": css}));
        let id = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string();
        self.session(&format!("/element/{id}/click"), json!({}));
    }

    /// Presses `keys` (WebDriver key codes: `\u{E009}` is Control) one chord at a time.
    fn press(&self, chord: &[&str]) {
        let mut actions: Vec<Value> = chord
            .iter()
            .map(|key| json!({"type": "keyDown", "value": key}))
            .collect();
        actions.extend(
            chord
                .iter()
                .rev()
                .map(|key| json!({"type": "keyUp", "value": key})),
        );
        self.session(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
    }

    fn status_starts_with(&self, text: &str) {
        self.wait_for(&format!(
            "return document.getElementById('status').textContent.startsWith({})",
            json!(text)
        ));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// chromedriver and Chromium, or `None` (outside CI) to skip.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let tools = (
        on_path(&["chromedriver"]),
        on_path(&["chromium", "chromium-browser", "google-chrome"]),
    );
    let (Some(driver), Some(chromium)) = tools else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the browser test needs chromium and chromedriver: apt-get install -y chromium chromium-driver"
        );
        eprintln!("skipped: chromium or chromedriver is not installed");
        return None;
    };
    Some((driver, chromium))
}

#[test]
fn a_trace_is_folded_under_its_answer_and_follow_ups_shown_as_turns_in_chromium() {
    let Some((driver, chromium)) = browser_tools() else {
        return;
    };
    let server = MockServer::start();
    server.set_thinking(crate::common::mock_server::Thinking::Apart);
    let dir = tempfile::tempdir().unwrap();
    let qa = crate::tasks::generate(&server, "local", dir.path(), &["--task", "reasoning"]);
    let pair = &qa["training_pairs"][0];
    let review = ReviewServer::start(&dir.path().join("qa"));
    let browser = Browser::start(driver, chromium);
    browser.session("/url", json!({"url": review.url}));
    browser.status_starts_with("Ready.");
    browser.wait_for("return document.querySelector('#pair-detail details.reasoning') !== null");
    let folded = browser.run(
        "const d = document.querySelector('#pair-detail details.reasoning'); return [d.open, d.querySelector('pre').textContent, document.querySelector('#pair-detail dd').textContent]",
    );
    assert_eq!(folded[0], false, "the trace starts folded: {folded}");
    assert_eq!(folded[1], pair["reasoning"], "{folded}");
    assert_eq!(folded[2], pair["question"], "{folded}");
}

#[test]
fn a_conversation_s_follow_ups_are_shown_and_edited_as_turns_in_chromium() {
    let Some((driver, chromium)) = browser_tools() else {
        return;
    };
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let extra = ["--task", "conversation", "--turns", "3"];
    let qa = crate::tasks::generate(&server, "openai", dir.path(), &extra);
    let pair = qa["training_pairs"][0].clone();
    let review = ReviewServer::start(&dir.path().join("qa"));
    let browser = Browser::start(driver, chromium);
    browser.session("/url", json!({"url": review.url}));
    browser.status_starts_with("Ready.");
    browser.wait_for(
        "return document.getElementById('pair-detail').textContent.includes('Exchange 3: assistant')",
    );
    let detail = browser.run("return document.getElementById('pair-detail').textContent");
    let last = pair["conversation"][2]["answer"].as_str().unwrap();
    assert!(detail.as_str().unwrap().contains(last), "{detail}");
    browser.click("header h1");
    browser.press(&["e"]);
    browser.wait_for("return document.querySelectorAll('#edit-turns textarea').length === 4");
    browser.run(
        "document.querySelector('#edit-turns textarea[data-turn=\"1\"][data-side=\"answer\"]').value = 'The reviewer\\'s own reply.';",
    );
    browser.press(&["\u{E009}", "\u{E007}"]);
    browser.status_starts_with("Edited: the Q&A file is rewritten.");
    let file = crate::common::read_json(dir.path().join("qa/licence_qa.json"));
    let edited = &file["training_pairs"][0];
    assert_eq!(
        edited["conversation"][2]["answer"],
        "The reviewer's own reply."
    );
    assert_eq!(edited["conversation"][1], pair["conversation"][1]);
}

#[test]
fn a_reviewer_filters_rejects_and_edits_with_the_keyboard_in_chromium() {
    let Some((driver, chromium)) = browser_tools() else {
        return;
    };
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, dir.path(), &[]);
    let file = qa.join("port_qa.json");
    let review = ReviewServer::start(&qa);
    let browser = Browser::start(driver, chromium);

    browser.session("/url", json!({"url": review.url}));
    browser.status_starts_with("Ready.");
    let documents = browser.run("return document.getElementById('document-list').textContent");
    assert!(documents.as_str().unwrap().contains("port"), "{documents}");

    // The answer holding `<img src=x onerror=...>` shows as text, and nothing ran.
    let shown = browser.run("return document.getElementById('pairs').textContent");
    assert!(
        shown.as_str().unwrap().contains("<img src=x onerror="),
        "{shown}"
    );
    browser.click("#pairs li:nth-child(1)");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        browser.run(
            "return [document.querySelectorAll('img').length, document.body.dataset.xss === undefined]"
        ),
        json!([0, true])
    );

    // Filter to the pairs the gate drops, with the page's own control.
    let (_, dropped) = review.get("/api/pairs?status=dropped");
    let dropped_total = dropped["total"].as_u64().unwrap();
    assert!(dropped_total >= 2, "{dropped}");
    browser.click("#filter-status option[value=dropped]");
    browser.wait_for(&format!(
        "return document.getElementById('range').textContent.endsWith('of {dropped_total}')"
    ));
    browser.click("header h1");
    let selected = "return document.querySelector('#pairs .pair.selected .q').textContent";
    let rejected = browser.run(selected);
    browser.press(&["r"]);
    browser.status_starts_with("Rejected");
    browser.press(&["j"]);
    let edited = browser.run(selected);
    assert_ne!(edited, rejected);
    browser.press(&["e"]);
    browser.wait_for("return !document.getElementById('editor').hidden");
    browser.run(
        "document.getElementById('edit-question').value = 'Where are storm warnings raised?';
         document.getElementById('edit-answer').value = 'On the signal mast, in gales.';",
    );
    browser.press(&["\u{E009}", "\u{E007}"]);
    browser.status_starts_with("Edited: the Q&A file is rewritten.");

    // Now reject a pair the file holds, with the keyboard.
    browser.click("#filter-status option[value=kept]");
    browser.wait_for(
        "return document.querySelector('#pairs .pair.selected') !== null && !document.querySelector('#pairs .pair.selected').classList.contains('dropped')",
    );
    browser.click("header h1");
    let kept_rejected = browser.run(selected);
    browser.press(&["r"]);
    browser.status_starts_with("Rejected: the Q&A file is rewritten.");

    // Reload: the decisions come back from the server.
    browser.session("/refresh", json!({}));
    browser.status_starts_with("Ready.");
    browser.click("#filter-reviewed option[value=yes]");
    browser.wait_for("return document.getElementById('range').textContent.endsWith('of 3')");
    let listed = browser.run("return document.getElementById('pairs').textContent");
    let listed = listed.as_str().unwrap();
    assert!(
        listed.contains("Where are storm warnings raised?"),
        "{listed}"
    );
    assert_eq!(listed.matches("rejected").count(), 2, "{listed}");

    // The checkpoint holds the decisions, and the file was rewritten with them.
    assert_eq!(
        decision_rows(&qa),
        [("reject", "ada"), ("edit", "ada"), ("reject", "ada")]
            .map(|(a, r)| (a.to_string(), r.to_string()))
    );
    let qa_file = read_json(&file);
    let now = questions(&qa_file);
    assert!(
        now.iter().any(|q| q == "Where are storm warnings raised?"),
        "{now:?}"
    );
    for gone in [&rejected, &edited, &kept_rejected] {
        assert!(
            !now.iter().any(|q| Some(q.as_str()) == gone.as_str()),
            "{gone} in {now:?}"
        );
    }
    let answer = qa_file["training_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["question"] == "Where are storm warnings raised?")
        .map(|p| p["answer"].clone());
    assert_eq!(answer, Some(json!("On the signal mast, in gales.")));
}
