//! `tdg merge`: joins the shard directories of a sharded run (`QA_DIR/shard-KKKK-of-NNNN/`,
//! see [`crate::shard`]) into one Q&A directory whose files equal those of a single
//! run over the same corpus.
//!
//! The shards' checkpoints are copied into one checkpoint ([`CheckpointStore::absorb`])
//! and the Q&A files are rendered from it by the same views a single run writes with,
//! so the pairs, their order and the quality gate's decisions (`--dedupe corpus`
//! across shards included) are those of one run by construction. A manifest
//! (`merge_manifest.json`) lists the shards, the counts and a SHA-256 of each file.
//!
//! A merge is a pure function of the shards: merging again (after a shard was rerun)
//! replaces the previous merge. A directory holding a run that is not a merge is never
//! overwritten.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};

use crate::checkpoint::{AbsorbError, Access, CheckpointStore, STORE_FILE, StoreError};
use crate::outputs::qa_files::{self, ViewError};
use crate::shard::Shard;
use crate::{atomic_file, pyjson, timestamp};

/// The manifest's file name in the merged directory.
pub const MANIFEST_FILE: &str = "merge_manifest.json";

/// Where a merge builds its checkpoint before it replaces the previous one.
const STAGING_DIR: &str = ".tdg-merge-staging";

/// The `meta` key that marks a checkpoint as made by `tdg merge`.
const MERGED_FROM: &str = "merged_from";

/// What to merge.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// The directory holding the `shard-KKKK-of-NNNN` directories.
    pub qa_dir: PathBuf,
    /// Where the merged files go (default: `qa_dir`).
    pub output: Option<PathBuf>,
    /// Merge shards whose run settings differ.
    pub allow_different_settings: bool,
    /// Merge although shards are missing.
    pub partial: bool,
}

/// One shard as merged.
#[derive(Debug, Clone, Serialize)]
pub struct MergedShard {
    pub dir: String,
    pub index: u32,
    pub chunks: u64,
    pub judgments: u64,
}

/// One merged Q&A file.
#[derive(Debug, Clone, Serialize)]
pub struct MergedFile {
    pub name: String,
    pub pairs: u64,
    pub sha256: String,
}

/// What `merge` did.
#[derive(Debug, Clone)]
pub struct MergeReport {
    pub output: PathBuf,
    pub count: u32,
    pub shards: Vec<MergedShard>,
    /// Shard indexes with no directory (only with `partial`).
    pub missing: Vec<u32>,
    pub files: Vec<MergedFile>,
    /// Documents with chunks that no shard has an outcome for yet.
    pub incomplete: Vec<String>,
}

/// Why the shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} holds no shard directories (shard-KKKK-of-NNNN): run `tdg generate --shard K/N` (or --shards N under a scheduler) with --qa-dir {} first",
        .0.display(), .0.display()
    )]
    NoShards(PathBuf),
    #[error("{} holds shards of different counts ({counts}): merge one count at a time, moving the others away", dir.display())]
    MixedCounts { dir: PathBuf, counts: String },
    #[error(
        "shards {missing} of {count} have no directory in {}: run them, or pass --partial to merge what is there",
        dir.display()
    )]
    Missing {
        dir: PathBuf,
        missing: String,
        count: u32,
    },
    #[error(
        "{} and {} were made with different settings ({keys}): rerun one of them with the other's settings, or pass --allow-different-settings",
        first.display(), other.display()
    )]
    SettingsDiffer {
        first: PathBuf,
        other: PathBuf,
        keys: String,
    },
    #[error(
        "{} holds a run that is not a merge ({STORE_FILE}): give another --output directory",
        .0.display()
    )]
    NotAMerge(PathBuf),
    #[error(transparent)]
    Lock(#[from] crate::dir_lock::DirLockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Absorb(#[from] AbsorbError),
    #[error(transparent)]
    View(#[from] ViewError),
}

impl MergeError {
    /// A shard still running (its directory locked), shards not yet run, or a disk
    /// fault may pass; shards of different counts or settings will not.
    pub fn retry(&self) -> crate::failure::Retry {
        use crate::failure::Retry;
        match self {
            MergeError::Io { .. } | MergeError::Missing { .. } => Retry::Helps,
            MergeError::Lock(error) => error.retry(),
            MergeError::Store(error) => error.retry(),
            MergeError::View(_) => Retry::Helps,
            MergeError::NoShards(_)
            | MergeError::MixedCounts { .. }
            | MergeError::SettingsDiffer { .. }
            | MergeError::NotAMerge(_)
            | MergeError::Absorb(_) => Retry::Futile,
        }
    }
}

/// Merges the shards under `request.qa_dir`.
pub fn merge(request: &MergeRequest) -> Result<MergeReport, MergeError> {
    let (count, shards) = find_shards(&request.qa_dir)?;
    let missing: Vec<u32> = (0..count)
        .filter(|index| !shards.iter().any(|(shard, _)| shard.index == *index))
        .collect();
    if !missing.is_empty() && !request.partial {
        return Err(MergeError::Missing {
            dir: request.qa_dir.clone(),
            missing: join(missing.iter()),
            count,
        });
    }
    // A shard still running would change under the merge.
    let mut locks = Vec::new();
    for (_, dir) in &shards {
        locks.push(crate::dir_lock::lock(dir)?);
    }
    if !request.allow_different_settings {
        check_same_settings(&shards)?;
    }
    let output = request.output.clone().unwrap_or(request.qa_dir.clone());
    std::fs::create_dir_all(&output).map_err(|source| MergeError::Io {
        path: output.clone(),
        source,
    })?;
    let _output_lock = (!shards.iter().any(|(_, dir)| dir == &output))
        .then(|| crate::dir_lock::lock(&output))
        .transpose()?;
    let previous = previous_merge(&output)?;

    // The new merge is built aside and takes the old one's place only when complete, so
    // a merge that fails half way leaves the previous one as it was.
    let staging = output.join(STAGING_DIR);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MergeError::Io { path, source }
    };
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    let mut merged = Vec::new();
    {
        let mut store = CheckpointStore::open(&staging)?;
        store.set_meta(MERGED_FROM, &format!("{count} shards"))?;
        for (shard, dir) in &shards {
            // Opening migrates a checkpoint written by an older tdg before it is copied.
            drop(CheckpointStore::open_existing(dir, Access::ReadOnly)?);
            let absorbed = store.absorb(&CheckpointStore::path_in(dir))?;
            merged.push(MergedShard {
                dir: crate::qa_file::file_name(dir),
                index: shard.index,
                chunks: absorbed.chunks,
                judgments: absorbed.judgments,
            });
        }
        if let Some(previous) = &previous {
            store.absorb_decisions(previous)?;
        }
        store.mark_finished_documents_completed(&timestamp::now())?;
    }
    replace_previous_merge(&staging, &output)?;
    let store = CheckpointStore::open_existing(&output, Access::ReadWrite)?;
    let written = qa_files::rewrite_all(&store, &output)?;
    let mut incomplete = Vec::new();
    for stem in store.document_stems()? {
        if !store.is_document_finished(&stem)? {
            incomplete.push(stem);
        }
    }
    let mut files = Vec::new();
    for view in &written {
        let path = output.join(&view.name);
        let bytes = std::fs::read(&path).map_err(|source| MergeError::Io { path, source })?;
        files.push(MergedFile {
            name: view.name.clone(),
            pairs: view.pairs,
            sha256: crate::digest::sha256_hex(&bytes),
        });
    }
    let report = MergeReport {
        output,
        count,
        shards: merged,
        missing,
        files,
        incomplete,
    };
    write_outputs(&report, store.document_stems()?.len())?;
    drop(locks);
    Ok(report)
}

/// The shard directories under `dir`, by index, and their count.
fn find_shards(dir: &Path) -> Result<(u32, Vec<(Shard, PathBuf)>), MergeError> {
    let entries = std::fs::read_dir(dir).map_err(|source| MergeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut shards = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if let Some(shard) = name.to_str().and_then(Shard::from_dir_name)
            && entry.path().is_dir()
        {
            shards.push((shard, entry.path()));
        }
    }
    shards.sort_by_key(|(shard, _)| (shard.count, shard.index));
    let mut counts: Vec<u32> = shards.iter().map(|(shard, _)| shard.count).collect();
    counts.dedup();
    match counts.as_slice() {
        [] => Err(MergeError::NoShards(dir.to_path_buf())),
        [count] => Ok((*count, shards)),
        many => Err(MergeError::MixedCounts {
            dir: dir.to_path_buf(),
            counts: join(many.iter()),
        }),
    }
}

/// Refuses shards made with different settings, naming the settings that differ.
fn check_same_settings(shards: &[(Shard, PathBuf)]) -> Result<(), MergeError> {
    let mut first: Option<(&PathBuf, Value)> = None;
    for (_, dir) in shards {
        let store = CheckpointStore::open_existing(dir, Access::ReadOnly)?;
        let Some(record) = store.latest_run_record()? else {
            continue;
        };
        let mut settings: Value = serde_json::from_str(&record.to_stored()).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut settings {
            map.insert(
                "quality_filter".into(),
                serde_json::to_value(store.quality_filter()).unwrap_or(Value::Null),
            );
        }
        match &first {
            None => first = Some((dir, settings)),
            Some((first_dir, expected)) => {
                let keys = differing_keys(expected, &settings);
                if !keys.is_empty() {
                    return Err(MergeError::SettingsDiffer {
                        first: (*first_dir).clone(),
                        other: dir.clone(),
                        keys: keys.join(", "),
                    });
                }
            }
        }
    }
    Ok(())
}

/// The top-level keys whose values differ between two settings objects.
fn differing_keys(a: &Value, b: &Value) -> Vec<String> {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        return if a == b {
            vec![]
        } else {
            vec!["settings".into()]
        };
    };
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|key| a.get(*key) != b.get(*key))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The checkpoint of an earlier merge in `output`, if there is one; refuses a
/// directory holding a run that is not a merge.
fn previous_merge(output: &Path) -> Result<Option<PathBuf>, MergeError> {
    let path = CheckpointStore::path_in(output);
    if !path.is_file() {
        return Ok(None);
    }
    let store = CheckpointStore::open_existing(output, Access::ReadOnly)?;
    if store.meta(MERGED_FROM)?.is_none() {
        return Err(MergeError::NotAMerge(output.to_path_buf()));
    }
    Ok(Some(path))
}

/// Puts the checkpoint built in `staging` in the place of the previous merge's, whose
/// Q&A files go too (the new ones are rendered next).
fn replace_previous_merge(staging: &Path, output: &Path) -> Result<(), MergeError> {
    let io = |path: PathBuf| move |source| MergeError::Io { path, source };
    // The old checkpoint's journal must not outlive it: SQLite would replay it onto
    // the new file.
    for suffix in ["-wal", "-shm"] {
        let path = output.join(format!("{STORE_FILE}{suffix}"));
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(path)(error));
            }
            _ => {}
        }
    }
    let files = crate::qa_file::list_qa_files(output).map_err(io(output.to_path_buf()))?;
    for file in files {
        let _ = std::fs::remove_file(file);
    }
    let target = CheckpointStore::path_in(output);
    std::fs::rename(CheckpointStore::path_in(staging), &target).map_err(io(target))?;
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

/// Writes the run summary (as a single run does) and the manifest.
fn write_outputs(report: &MergeReport, documents: usize) -> Result<(), MergeError> {
    crate::generate::write_run_summary(
        &report.output,
        &crate::generate::RunSummary {
            total_files: documents,
            successful_files: documents,
            failed_files: 0,
            qa_files_created: report.files.iter().map(|file| file.name.clone()).collect(),
        },
    );
    let manifest = json!({
        "shard_count": report.count,
        "shards": report.shards,
        "missing_shards": report.missing,
        "incomplete_documents": report.incomplete,
        "pairs": report.files.iter().map(|file| file.pairs).sum::<u64>(),
        "files": report.files,
        "merged_at": timestamp::now(),
    });
    let path = report.output.join(MANIFEST_FILE);
    atomic_file::write_with(&path, |out| pyjson::write_pretty(out, &manifest))
        .map_err(|source| MergeError::Io { path, source })
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
