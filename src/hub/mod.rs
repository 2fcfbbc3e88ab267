//! Model files from the Hugging Face Hub: `--model` takes a path to a `.gguf` file
//! or a Hub file spec `ORG/REPO/FILE.gguf[@REVISION]`, and [`resolve_model`] turns
//! either into a local path.
//!
//! A Hub file is downloaded on first use into the standard Hugging Face cache
//! ([`cache`]: the layout `huggingface_hub`, llama.cpp and others share), with a
//! progress bar, resumed if cut off, and checked against the Hub's SHA-256 before
//! it is used ([`download`]). The environment variables other tools honour are
//! honoured here ([`settings`]): `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_CACHE`,
//! `HF_HUB_OFFLINE`, `HF_TOKEN`.
//!
//! The other way, `tdg push` (uploading an exported dataset folder to a dataset
//! repository) is [`crate::export::push`], which uses these settings.
//!
//! This is tdg's own code over reqwest rather than the `hf-hub` crate, which would
//! bring a second TLS stack and the Xet client, and has no resumable checked
//! download of its own.
//!
//! ```no_run
//! # async fn run() -> Result<(), tdg::hub::HubError> {
//! use tdg::hub::{HubSettings, resolve_model};
//! use tdg::progress::ProgressMode;
//!
//! let hub = HubSettings::from_env()?;
//! let path = resolve_model(
//!     "ORG/REPO/model.Q4_K_M.gguf",
//!     &hub,
//!     ProgressMode::Bar,
//! )
//! .await?;
//! println!("{}", path.display());
//! # Ok(()) }
//! ```

pub mod cache;
mod download;
mod error;
mod http;
mod progress;
pub mod settings;
pub mod spec;

use std::path::{Path, PathBuf};

pub use cache::RepoCache;
pub use error::HubError;
pub use http::{FileMetadata, resolve_url};
pub use settings::{HubSettings, HubToken};
pub use spec::ModelSpec;

use crate::progress::ProgressMode;

/// The local path of `model`: the path itself if it exists, else the Hub file it
/// names (`ORG/REPO/FILE.gguf[@REVISION]`), from the cache or downloaded into it.
pub async fn resolve_model(
    model: &str,
    hub: &HubSettings,
    progress: ProgressMode,
) -> Result<PathBuf, HubError> {
    let path = Path::new(model);
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    let spec = ModelSpec::parse(model)?;
    fetch_file(&spec, hub, progress).await
}

/// The local path of a Hub file, downloading it if the cache lacks it.
///
/// The Hub is asked which commit the revision points to now (unless the revision is
/// a commit, or `offline`); if it cannot be reached, a cached copy is used, with a
/// warning.
pub async fn fetch_file(
    spec: &ModelSpec,
    hub: &HubSettings,
    progress: ProgressMode,
) -> Result<PathBuf, HubError> {
    let cache = RepoCache::new(&hub.cache_dir, spec);
    if hub.offline || spec.revision_is_commit() {
        if let Some(path) = cache.cached_file(spec) {
            return Ok(path);
        }
        if hub.offline {
            return Err(HubError::NotCached {
                spec: spec.to_string(),
                path: cache.expected_path(spec),
            });
        }
    }
    let client = http::HubClient::new(hub)?;
    let url = resolve_url(&hub.endpoint, spec)?;
    let meta = match client.metadata(&url, spec).await {
        Ok(meta) => meta,
        Err(error) if error.is_transient() => match cache.cached_file(spec) {
            Some(path) => {
                tracing::warn!("{error}; using the cached copy {}", path.display());
                return Ok(path);
            }
            None => return Err(error),
        },
        Err(error) => return Err(error),
    };
    if !cache.blob_path(&meta.etag).is_file() {
        tracing::info!("downloading {spec} from {url}");
        download::download_blob(&client, &url, spec, &meta, &cache, hub.attempts, progress).await?;
    }
    cache.write_ref(&spec.revision, &meta.commit)?;
    cache.link_snapshot(&meta.commit, &spec.file, &meta.etag)
}
