//! `tdg review` through its HTTP API: the token guards every request, GET changes
//! nothing, and a reviewer's decisions reach the Q&A file at once, survive a restart
//! of the server, and are never undone by `generate --resume` or `reparse`.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use common::mock_server::MockServer;
use common::{questions, read_json, tdg_isolated};
use serde_json::{Value, json};

const TEMPLATE: &str = "Write {{ num_questions }} question-answer pairs about the text as a JSON array.\n\
Example: [{\"question\": \"What is the main purpose of this policy?\", \"answer\": \"To protect information.\"}]\n\
\"\"\"\n{{ text }}\n\"\"\"\n";

/// Chunks whose pairs the gate keeps and drops, and one whose answer holds HTML that
/// would run if the page inserted it as HTML.
pub const TEXTS: [&str; 4] = [
    "MOCK-ECHO The harbour master keeps a log of every vessel entering the port.",
    "MOCK-REPEAT Fishing boats return at dawn with their catch for the market.",
    "<img src=x onerror=document.body.dataset.xss=1> Storm warnings are raised on the signal mast in gales.",
    "The lighthouse beam reaches twenty nautical miles on clear nights over the bay.",
];

/// Generates the Q&A directory `root/qa` against `server`; `extra` flags appended.
pub fn generate(server: &MockServer, root: &Path, extra: &[&str]) -> PathBuf {
    let chunks = common::write_document(root, "port", TEXTS);
    let template = root.join("template.jinja");
    std::fs::write(&template, TEMPLATE).unwrap();
    let mut args = vec!["--qa-prompt-template-file", template.to_str().unwrap()];
    args.extend_from_slice(extra);
    let qa = root.join("qa");
    let output = common::generate_command("openai", &[&server.url], &chunks, &qa, &args)
        .output()
        .unwrap();
    common::assert_success(&output);
    qa
}

/// A running `tdg review`, stopped when dropped.
pub struct ReviewServer {
    child: Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    pub token: String,
    pub url: String,
}

impl ReviewServer {
    /// Starts `tdg review qa_dir` on a free port, as the OS user `ada`.
    pub fn start(qa_dir: &Path) -> Self {
        let mut child = tdg_isolated(qa_dir.parent().unwrap())
            .env("USER", "ada")
            .arg("review")
            .arg(qa_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.is_empty() {
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .ok();
            panic!("tdg review printed no URL: {stderr}");
        }
        let url = line.trim().to_string();
        let rest = url.strip_prefix("http://").expect("an http URL");
        let (address, query) = rest.split_once("/?token=").expect("a URL with a token");
        ReviewServer {
            address: address.to_string(),
            token: query.to_string(),
            url,
            child,
        }
    }

    /// One HTTP/1.0 request; the status, the headers (lowercased) and the body.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.address).unwrap();
        let mut head = format!("{method} {target} HTTP/1.0\r\nHost: {}\r\n", self.address);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        (status, head.to_lowercase(), body.to_string())
    }

    /// GET `path` with the token; the status and the JSON body.
    pub fn get(&self, path: &str) -> (u16, Value) {
        let (status, _, body) = self.request("GET", path, &[("X-Tdg-Token", &self.token)], None);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// POSTs `body` to `/api/decide` with the token; the status and the JSON body.
    pub fn decide(&self, body: &Value) -> (u16, Value) {
        let (status, _, answer) = self.request(
            "POST",
            "/api/decide",
            &[
                ("X-Tdg-Token", &self.token),
                ("Content-Type", "application/json"),
            ],
            Some(&body.to_string()),
        );
        (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
    }
}

impl Drop for ReviewServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tdg stats --json` of `qa`.
pub fn stats(qa: &Path) -> Value {
    let output = tdg_isolated(qa.parent().unwrap())
        .arg("stats")
        .arg("--json")
        .arg(qa)
        .output()
        .unwrap();
    common::assert_success(&output);
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The decisions table's rows, as (action, reviewer).
pub fn decision_rows(qa: &Path) -> Vec<(String, String)> {
    let store = rusqlite::Connection::open(qa.join(".tdg-checkpoint.sqlite3")).unwrap();
    let mut statement = store
        .prepare("SELECT action, reviewer FROM decisions ORDER BY decided_at, seq")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The body naming `pair` (as the API lists it) for `action`.
fn decision(pair: &Value, action: &str) -> Value {
    json!({
        "stem": pair["stem"], "position": pair["position"], "question": pair["question"],
        "action": action,
    })
}

#[test]
fn every_request_needs_the_token_and_get_changes_nothing() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, dir.path(), &[]);
    let before = common::read(qa.join("port_qa.json"));
    let review = ReviewServer::start(&qa);

    for path in ["/", "/page.js", "/api/overview", "/api/pairs", "/nothing"] {
        let (status, _, body) = review.request("GET", path, &[], None);
        assert_eq!(status, 401, "{path}: {body}");
        assert!(body.contains("token"), "{body}");
        let (status, _, _) = review.request("GET", &format!("{path}?token=0123"), &[], None);
        assert_eq!(status, 403, "{path}");
        let (status, _, _) =
            review.request("GET", path, &[("X-Tdg-Token", "0123456789abcdef")], None);
        assert_eq!(status, 403, "{path}");
    }
    // The page, with the token, and no inline script allowed.
    let (status, head, page) =
        review.request("GET", &format!("/?token={}", review.token), &[], None);
    assert_eq!(status, 200);
    assert!(page.contains("tdg review") && page.contains(&review.token));
    assert!(head.contains("content-security-policy: default-src 'none'; script-src 'self'"));
    assert!(head.contains("referrer-policy: no-referrer"));

    let (_, pairs) = review.get("/api/pairs?limit=500");
    let pair = pairs["pairs"][0].clone();
    // GET on the decision endpoint is refused, whatever its query says.
    let (status, _, _) = review.request(
        "GET",
        &format!(
            "/api/decide?token={}&stem=port&position=0&action=reject",
            review.token
        ),
        &[],
        None,
    );
    assert_eq!(status, 405);
    // POST without the token, or with a form body (what a cross-site form sends).
    let body = decision(&pair, "reject").to_string();
    let (status, _, _) = review.request(
        "POST",
        "/api/decide",
        &[("Content-Type", "application/json")],
        Some(&body),
    );
    assert_eq!(status, 401);
    let (status, _, _) = review.request(
        "POST",
        &format!("/api/decide?token={}", review.token),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some("stem=port&position=0&action=reject"),
    );
    assert_eq!(status, 415);
    // A bad request says what is wrong.
    let (status, answer) = review.decide(&json!({
        "stem": "port", "position": 0, "question": pair["question"], "action": "edit",
        "new_question": "Why?", "new_answer": "  ",
    }));
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "an edit needs a non-empty new_answer");
    let (status, answer) = review.decide(&json!({
        "stem": "port", "position": 0, "question": "Not asked?", "action": "reject",
    }));
    assert_eq!(status, 404, "{answer}");

    drop(review);
    assert_eq!(common::read(qa.join("port_qa.json")), before);
    assert_eq!(stats(&qa)["quality"]["review"]["reviewed"], 0);
    assert!(decision_rows(&qa).is_empty());
}

#[test]
fn decisions_reach_the_file_survive_a_restart_and_are_never_undone() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, dir.path(), &[]);
    let file = qa.join("port_qa.json");
    let kept_before = questions(&read_json(&file));
    let review = ReviewServer::start(&qa);

    let (status, overview) = review.get("/api/overview");
    assert_eq!(status, 200);
    assert_eq!(overview["documents"][0]["stem"], "port");
    assert_eq!(overview["documents"][0]["kept"], kept_before.len());
    let (_, kept) = review.get("/api/pairs?status=kept");
    let (_, dropped) = review.get("/api/pairs?status=dropped&reason=echo");
    assert_eq!(kept["total"], kept_before.len());
    assert_eq!(dropped["total"], 1, "{dropped}");
    let (rejected, edited, accepted) = (
        kept["pairs"][0].clone(),
        kept["pairs"][1].clone(),
        dropped["pairs"][0].clone(),
    );
    assert!(accepted["in_files"] == false && accepted["dropped"] == "echo");

    let (status, answer) = review.decide(&decision(&rejected, "reject"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["pair"]["decision"], "rejected");
    assert_eq!(answer["written"], true);
    let mut edit = decision(&edited, "edit");
    edit["new_question"] = json!("Who writes the ledger of arrivals?");
    edit["new_answer"] = json!("The harbour master writes it, for every ship.");
    let (status, _) = review.decide(&edit);
    assert_eq!(status, 200);
    let (status, _) = review.decide(&decision(&accepted, "accept"));
    assert_eq!(status, 200);

    // The file, rewritten at once: the rejected pair gone, the edit in place of the
    // model's text, the accepted pair kept although the gate drops it.
    let expect_file = |with_accepted: bool| {
        let qa_file = read_json(&file);
        let now = questions(&qa_file);
        let rejected_q = rejected["question"].as_str().unwrap();
        let edited_q = edited["question"].as_str().unwrap();
        let accepted_q = accepted["question"].as_str().unwrap();
        assert!(!now.iter().any(|q| q == rejected_q), "{now:?}");
        assert!(!now.iter().any(|q| q == edited_q), "{now:?}");
        assert_eq!(
            now.iter().any(|q| q == accepted_q),
            with_accepted,
            "{now:?}"
        );
        let pair = qa_file["training_pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["question"] == "Who writes the ledger of arrivals?")
            .expect("the edited pair")
            .clone();
        assert_eq!(
            pair["answer"],
            "The harbour master writes it, for every ship."
        );
        assert_eq!(
            now.len(),
            kept_before.len() - 1 + usize::from(with_accepted)
        );
        assert_eq!(qa_file["summary"]["total_qa_pairs"], now.len());
        now.len()
    };
    let in_file = expect_file(true);
    let figures = stats(&qa);
    assert_eq!(
        figures["quality"]["review"],
        json!({"reviewed": 3, "accepted": 1, "rejected": 1, "edited": 1})
    );
    assert_eq!(figures["total"]["pairs"], in_file);

    // A restart of the server: the decisions are read back from the checkpoint.
    drop(review);
    let review = ReviewServer::start(&qa);
    let (_, reviewed) = review.get("/api/pairs?reviewed=yes");
    assert_eq!(reviewed["total"], 3);
    let decisions: Vec<&str> = reviewed["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["decision"].as_str().unwrap())
        .collect();
    assert!(decisions.contains(&"rejected") && decisions.contains(&"edited"));
    let (_, found) = review.get("/api/pairs?q=LEDGER%20arrivals&reviewed=yes");
    assert_eq!(found["total"], 1, "the search finds the edited text");
    assert_eq!(
        found["pairs"][0]["edited"]["question"],
        "Who writes the ledger of arrivals?"
    );

    // Undo takes back the acceptance: the gate's verdict applies again.
    let (status, answer) = review.decide(&decision(&accepted, "undo"));
    assert_eq!(status, 200);
    assert_eq!(answer["pair"]["decision"], Value::Null);
    assert_eq!(answer["pair"]["in_files"], false);
    expect_file(false);
    drop(review);
    assert_eq!(
        decision_rows(&qa),
        [
            ("reject", "ada"),
            ("edit", "ada"),
            ("accept", "ada"),
            ("undo", "ada")
        ]
        .map(|(a, r)| (a.to_string(), r.to_string()))
    );

    // generate --resume, reparse and validate re-render the files: the decisions stay.
    let requests = server.request_count();
    generate(&server, dir.path(), &["--resume"]);
    assert_eq!(server.request_count(), requests);
    expect_file(false);
    let output = tdg_isolated(dir.path())
        .args(["reparse", "--qa-dir", "qa"])
        .output()
        .unwrap();
    common::assert_success(&output);
    expect_file(false);
    let output = tdg_isolated(dir.path())
        .args(["validate", "--qa-dir", "qa", "--retry-base-ms", "1"])
        .output()
        .unwrap();
    common::assert_success(&output);
    let in_file = expect_file(false);
    // The judge judged what the file holds: not the rejected pair.
    let store = rusqlite::Connection::open(qa.join(".tdg-checkpoint.sqlite3")).unwrap();
    let judged: Vec<String> = store
        .prepare("SELECT question FROM judgments")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(judged.len(), in_file, "{judged:?}");
    assert!(
        !judged
            .iter()
            .any(|q| Some(q.as_str()) == rejected["question"].as_str())
    );
    assert_eq!(
        stats(&qa)["quality"]["review"],
        json!({"reviewed": 2, "accepted": 0, "rejected": 1, "edited": 1})
    );
}

#[test]
fn decisions_made_in_a_shard_survive_the_merge() {
    let server = MockServer::start();
    let dir = tempfile::tempdir().unwrap();
    let qa = generate(&server, dir.path(), &["--shard", "0/2"]);
    generate(&server, dir.path(), &["--shard", "1/2"]);
    let shard = qa.join("shard-0000-of-0002");
    let review = ReviewServer::start(&shard);
    let (_, kept) = review.get("/api/pairs?status=kept");
    let rejected = kept["pairs"][0].clone();
    assert!(rejected.is_object(), "{kept}");
    let (status, _) = review.decide(&decision(&rejected, "reject"));
    assert_eq!(status, 200);
    drop(review);

    let output = tdg_isolated(dir.path())
        .arg("merge")
        .arg(&qa)
        .output()
        .unwrap();
    common::assert_success(&output);
    let merged = questions(&read_json(qa.join("port_qa.json")));
    assert!(!merged.is_empty());
    assert!(
        !merged
            .iter()
            .any(|q| Some(q.as_str()) == rejected["question"].as_str()),
        "{merged:?}"
    );
    assert_eq!(
        decision_rows(&qa),
        [("reject".to_string(), "ada".to_string())]
    );
}
