//! Model files from the Hugging Face Hub, against a fake hub on 127.0.0.1: the
//! cache layout other tools share, resuming a cut-off download with `Range`, the
//! SHA-256 check, offline mode, tokens, and the errors that say what to do.

use std::path::{Path, PathBuf};

use crate::common::fake_hub::{FakeHub, Served, sha256_hex};
use tdg::hub::{HubError, HubSettings, HubToken, resolve_model};
use tdg::progress::ProgressMode;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const SPEC: &str = "org/repo/model.Q4.gguf";

/// A file's worth of bytes that are not all alike.
/// Bytes that pass for a GGUF file: its magic, then a pattern.
fn weights(len: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    bytes[..4].copy_from_slice(b"GGUF");
    bytes
}

fn settings(hub: &FakeHub, cache: &Path) -> HubSettings {
    HubSettings {
        endpoint: hub.url.clone(),
        cache_dir: cache.to_path_buf(),
        offline: false,
        token: None,
        attempts: 1,
    }
}

fn hub_with_model(bytes: &[u8]) -> FakeHub {
    let hub = FakeHub::start();
    hub.add(SPEC, Served::new(bytes.to_vec(), COMMIT));
    hub
}

async fn resolve(spec: &str, settings: &HubSettings) -> Result<PathBuf, HubError> {
    resolve_model(spec, settings, ProgressMode::Off).await
}

fn repo_dir(cache: &Path) -> PathBuf {
    cache.join("models--org--repo")
}

fn leftovers(cache: &Path) -> Vec<String> {
    let blobs = repo_dir(cache).join("blobs");
    std::fs::read_dir(blobs)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".incomplete"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn downloads_into_the_hub_cache_layout_once() {
    let bytes = weights(200_000);
    let sha = sha256_hex(&bytes);
    let hub = hub_with_model(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let settings = settings(&hub, cache.path());

    let path = resolve(SPEC, &settings).await.unwrap();

    let repo = repo_dir(cache.path());
    assert_eq!(
        path,
        repo.join("snapshots").join(COMMIT).join("model.Q4.gguf")
    );
    assert_eq!(
        std::fs::read_link(&path).unwrap(),
        PathBuf::from(format!("../../blobs/{sha}"))
    );
    assert_eq!(std::fs::read(repo.join("blobs").join(&sha)).unwrap(), bytes);
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
    assert!(leftovers(cache.path()).is_empty());
    let heads: Vec<_> = hub
        .requests()
        .into_iter()
        .filter(|r| r.method == "HEAD")
        .collect();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].path, "/org/repo/resolve/main/model.Q4.gguf");
    assert_eq!(hub.downloads().len(), 1);
    assert!(!hub.downloads()[0].headers.contains_key("range"));
    assert!(!heads[0].headers.contains_key("authorization"));

    // A second run checks with the Hub but downloads nothing.
    let again = resolve(SPEC, &settings).await.unwrap();
    assert_eq!(again, path);
    assert_eq!(hub.downloads().len(), 1);
}

#[tokio::test]
async fn a_cut_off_download_is_kept_and_resumed_with_range() {
    let bytes = weights(300_000);
    let sha = sha256_hex(&bytes);
    let hub = hub_with_model(&bytes);
    hub.cut_off_next(1);
    let cache = tempfile::tempdir().unwrap();
    let settings = settings(&hub, cache.path());

    let error = resolve(SPEC, &settings).await.unwrap_err();
    assert!(matches!(error, HubError::CutOff { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{}/org/repo/resolve/main/model.Q4.gguf", hub.url)),
        "{message}"
    );
    assert!(message.contains("run again to resume"), "{message}");
    let partial = repo_dir(cache.path())
        .join("blobs")
        .join(format!("{sha}.incomplete"));
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert_eq!(kept, 150_000);
    assert!(!repo_dir(cache.path()).join("blobs").join(&sha).exists());

    let path = resolve(SPEC, &settings).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let downloads = hub.downloads();
    assert_eq!(downloads.len(), 2);
    assert_eq!(
        downloads[1].headers.get("range").map(String::as_str),
        Some("bytes=150000-")
    );
    assert!(leftovers(cache.path()).is_empty());
}

#[tokio::test]
async fn retries_resume_within_one_call() {
    let bytes = weights(100_000);
    let hub = hub_with_model(&bytes);
    hub.cut_off_next(2);
    let cache = tempfile::tempdir().unwrap();
    let settings = HubSettings {
        attempts: 3,
        ..settings(&hub, cache.path())
    };

    let path = resolve(SPEC, &settings).await.unwrap();

    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let ranges: Vec<_> = hub
        .downloads()
        .iter()
        .map(|r| r.headers.get("range").cloned())
        .collect();
    // Half of all, then half of the rest, then the rest.
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=50000-".to_string()),
            Some("bytes=75000-".to_string())
        ]
    );
}

#[tokio::test]
async fn a_wrong_sha256_is_refused_and_the_download_deleted() {
    let bytes = weights(50_000);
    let claimed = sha256_hex(b"something else");
    let hub = FakeHub::start();
    hub.add(
        SPEC,
        Served {
            etag: claimed.clone(),
            ..Served::new(bytes.clone(), COMMIT)
        },
    );
    let cache = tempfile::tempdir().unwrap();

    let error = resolve(SPEC, &settings(&hub, cache.path()))
        .await
        .unwrap_err();

    let HubError::ChecksumMismatch {
        expected, actual, ..
    } = &error
    else {
        panic!("expected a checksum mismatch, got {error:?}");
    };
    assert_eq!(expected, &claimed);
    assert_eq!(actual, &sha256_hex(&bytes));
    assert!(error.to_string().contains("deleted"), "{error}");
    let repo = repo_dir(cache.path());
    assert!(!repo.join("blobs").join(&claimed).exists());
    assert!(leftovers(cache.path()).is_empty());
    assert!(
        !repo
            .join("snapshots")
            .join(COMMIT)
            .join("model.Q4.gguf")
            .exists()
    );
}

#[tokio::test]
async fn a_corrupt_partial_file_fails_the_check_and_the_next_run_starts_afresh() {
    let bytes = weights(80_000);
    let sha = sha256_hex(&bytes);
    let hub = hub_with_model(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let settings = settings(&hub, cache.path());
    let blobs = repo_dir(cache.path()).join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    std::fs::write(blobs.join(format!("{sha}.incomplete")), vec![0u8; 40_000]).unwrap();

    let error = resolve(SPEC, &settings).await.unwrap_err();
    assert!(
        matches!(error, HubError::ChecksumMismatch { .. }),
        "{error:?}"
    );
    assert_eq!(
        hub.downloads()[0].headers.get("range").map(String::as_str),
        Some("bytes=40000-")
    );
    assert!(leftovers(cache.path()).is_empty());

    let path = resolve(SPEC, &settings).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), bytes);
    assert!(!hub.downloads()[1].headers.contains_key("range"));
}

#[tokio::test]
async fn offline_mode_uses_the_cache_only() {
    let bytes = weights(10_000);
    let hub = hub_with_model(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let online = settings(&hub, cache.path());
    let path = resolve(SPEC, &online).await.unwrap();
    let offline = HubSettings {
        offline: true,
        ..online.clone()
    };
    let asked = hub.requests().len();

    assert_eq!(resolve(SPEC, &offline).await.unwrap(), path);
    assert_eq!(hub.requests().len(), asked, "offline mode asked the hub");

    let error = resolve("org/repo/other.gguf", &offline).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, HubError::NotCached { .. }), "{error:?}");
    assert!(message.contains("org/repo/other.gguf"), "{message}");
    assert!(message.contains("HF_HUB_OFFLINE"), "{message}");
    assert!(resolve(&format!("{SPEC}@v2"), &offline).await.is_err());
    assert_eq!(hub.requests().len(), asked, "offline mode asked the hub");
}

#[tokio::test]
async fn the_cache_serves_when_the_hub_is_unreachable_or_the_revision_is_a_commit() {
    let bytes = weights(10_000);
    let hub = hub_with_model(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let path = resolve(SPEC, &settings(&hub, cache.path())).await.unwrap();
    let asked = hub.requests().len();

    let pinned = resolve(&format!("{SPEC}@{COMMIT}"), &settings(&hub, cache.path())).await;
    assert_eq!(pinned.unwrap(), path);
    assert_eq!(
        hub.requests().len(),
        asked,
        "a cached commit needs no request"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = HubSettings {
        endpoint: format!("http://{}", closed.local_addr().unwrap()),
        ..settings(&hub, cache.path())
    };
    drop(closed);
    assert_eq!(resolve(SPEC, &down).await.unwrap(), path);
    let error = resolve("org/repo/missing.gguf", &down).await.unwrap_err();
    assert!(matches!(error, HubError::Unreachable { .. }), "{error:?}");
    assert!(error.to_string().contains("HF_HUB_OFFLINE"), "{error}");
}

#[tokio::test]
async fn gated_repositories_ask_for_hf_token_and_never_show_it() {
    let bytes = weights(10_000);
    let hub = hub_with_model(&bytes);
    hub.require_token("hf_right");
    let cache = tempfile::tempdir().unwrap();
    let anonymous = settings(&hub, cache.path());

    let error = resolve(SPEC, &anonymous).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, HubError::Unauthorized { status: 401, .. }),
        "{error:?}"
    );
    assert!(
        message.contains("/org/repo/resolve/main/model.Q4.gguf"),
        "{message}"
    );
    assert!(message.contains("set HF_TOKEN"), "{message}");

    let wrong = HubSettings {
        token: HubToken::new("hf_wrong"),
        ..anonymous.clone()
    };
    let error = resolve(SPEC, &wrong).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, HubError::Unauthorized { status: 403, .. }),
        "{error:?}"
    );
    assert!(message.contains("HF_TOKEN was refused"), "{message}");
    assert!(!message.contains("hf_wrong") && !format!("{error:?}").contains("hf_wrong"));

    let right = HubSettings {
        token: HubToken::new("hf_right"),
        ..anonymous
    };
    let path = resolve(SPEC, &right).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), bytes);
    let sent = hub.downloads()[0].headers.get("authorization").cloned();
    assert_eq!(sent.as_deref(), Some("Bearer hf_right"));
}

#[tokio::test]
async fn missing_files_name_the_url_and_what_to_check() {
    let hub = hub_with_model(&weights(10));
    let cache = tempfile::tempdir().unwrap();

    let error = resolve("org/repo/typo.gguf", &settings(&hub, cache.path()))
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(matches!(error, HubError::NotFound { .. }), "{error:?}");
    assert!(
        message.contains(&format!("{}/org/repo/resolve/main/typo.gguf", hub.url)),
        "{message}"
    );
    assert!(message.contains("check ORG/REPO/FILE"), "{message}");
    assert!(message.contains("EntryNotFound"), "{message}");
    assert!(!repo_dir(cache.path()).join("refs").exists());
}

#[tokio::test]
async fn revisions_are_asked_for_and_recorded_as_refs() {
    let bytes = weights(10_000);
    let hub = FakeHub::start();
    let mut served = Served::new(bytes.clone(), COMMIT);
    served.revisions.push("refs/pr/1".to_string());
    hub.add(SPEC, served);
    let cache = tempfile::tempdir().unwrap();

    let path = resolve(&format!("{SPEC}@refs/pr/1"), &settings(&hub, cache.path()))
        .await
        .unwrap();

    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        hub.requests()[0].path,
        "/org/repo/resolve/refs%2Fpr%2F1/model.Q4.gguf"
    );
    let recorded = repo_dir(cache.path()).join("refs/refs/pr/1");
    assert_eq!(std::fs::read_to_string(recorded).unwrap(), COMMIT);
}

#[tokio::test]
async fn existing_paths_are_used_as_they_are() {
    let hub = FakeHub::start();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("org/repo/model.gguf");
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::write(&local, b"gguf").unwrap();

    let path = resolve(local.to_str().unwrap(), &settings(&hub, dir.path()))
        .await
        .unwrap();

    assert_eq!(path, local);
    assert!(hub.requests().is_empty());
    let error = resolve("missing.gguf", &settings(&hub, dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(error, HubError::InvalidSpec { .. }), "{error:?}");
    assert!(
        error.to_string().contains("neither an existing file"),
        "{error}"
    );
}

#[tokio::test]
async fn concurrent_runs_download_once() {
    let bytes = weights(400_000);
    let hub = hub_with_model(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let settings = settings(&hub, cache.path());

    let (first, second) = tokio::join!(resolve(SPEC, &settings), resolve(SPEC, &settings));

    assert_eq!(first.unwrap(), second.unwrap());
    assert_eq!(hub.downloads().len(), 1);
}

#[tokio::test]
async fn an_error_page_served_as_the_model_never_enters_the_cache() {
    // A hub (or proxy) that answers 200 with an HTML page and announces the page's
    // own size and no SHA-256, as a non-LFS file would be.
    let page = b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>".to_vec();
    let hub = FakeHub::start();
    let mut served = Served::new(page.clone(), COMMIT);
    served.etag = "0123abcd".into();
    hub.add(SPEC, served);
    let cache = tempfile::tempdir().unwrap();

    let error = resolve(SPEC, &settings(&hub, cache.path()))
        .await
        .unwrap_err();
    assert!(matches!(error, HubError::NotAModel { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("not a GGUF model file"), "{message}");
    assert!(message.contains("<!DOCTYPE html>"), "{message}");
    assert!(message.contains("run again"), "{message}");
    assert!(error.is_transient());
    // Nothing of it is left: not as a blob, not as a partial download, not linked.
    let blobs = repo_dir(cache.path()).join("blobs");
    let left: Vec<_> = std::fs::read_dir(&blobs)
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
    assert!(
        !repo_dir(cache.path())
            .join("snapshots")
            .join(COMMIT)
            .exists()
    );

    // Once the hub serves the real file, the next run gets it.
    let bytes = weights(10_000);
    hub.add(SPEC, Served::new(bytes.clone(), COMMIT));
    let path = resolve(SPEC, &settings(&hub, cache.path())).await.unwrap();
    assert_eq!(std::fs::read(path).unwrap(), bytes);
}
