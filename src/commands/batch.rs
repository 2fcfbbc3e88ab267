//! `tdg batch status|cancel --qa-dir DIR`: the batches a `generate --batch-api` run
//! recorded in its checkpoint, with their state at the provider now; or cancel the
//! ones still running.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tdg::batch::Phase;
use tdg::batch::{BatchApi, Ledger};
use tdg::config::{BatchAction, BatchArgs};
use tdg::provider::ModelClient;

use super::signals::until_signalled;
use super::{env_var, working_dir};

pub fn run(args: BatchArgs) -> Result<ExitCode> {
    let (cancel, target) = match args.action {
        BatchAction::Status(target) => (false, target),
        BatchAction::Cancel(target) => (true, target),
    };
    let (qa_dir, model) = target.resolve(&working_dir()?, env_var)?;
    if !tdg::checkpoint::CheckpointStore::path_in(&qa_dir).is_file() {
        bail!(
            "{} holds no tdg run (no checkpoint): give the --qa-dir of a `generate --batch-api` run",
            qa_dir.display()
        );
    }
    let ledger = Ledger::open(&qa_dir)?;
    let batches = ledger.batches()?;
    if batches.is_empty() {
        outln!("no batches in {}", qa_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let client = ModelClient::new(model, 1).context("cannot reach the provider")?;
    let api = BatchApi::of(client).map_err(anyhow::Error::msg)?;
    until_signalled(async |_stop| {
        let mut unreadable = 0;
        // The first fault, which decides the exit code (75 for a provider that could
        // not be reached: ask again later).
        let mut first_fault = None;
        outln!("batch\tprovider\tcreated\trequests\tstate\tanswered\tfailed\tcollected");
        for batch in &batches {
            if batch.is_pending() {
                outln!(
                    "{}\t{}\t{}\t{}\tsubmitting (the next `generate --resume` finds out whether it was created)\t\t\tno",
                    batch.id,
                    batch.provider,
                    batch.created_at,
                    batch.requests
                );
                continue;
            }
            if batch.collected {
                outln!(
                    "{}\t{}\t{}\t{}\t{}\t\t\tyes",
                    batch.id,
                    batch.provider,
                    batch.created_at,
                    batch.requests,
                    batch.state
                );
                continue;
            }
            let status = match api.status(&batch.id).await {
                Ok(status) => status,
                Err(error) => {
                    unreadable += 1;
                    tracing::error!("batch {}: {error}", batch.id);
                    first_fault.get_or_insert(error);
                    continue;
                }
            };
            let state = match status.results_gone() {
                Some(_) => format!("{} (results gone)", status.state),
                None => status.state.clone(),
            };
            outln!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\tno",
                batch.id,
                batch.provider,
                batch.created_at,
                batch.requests,
                state,
                status.succeeded,
                status.failed
            );
            if let Some(why) = status.results_gone() {
                tracing::warn!(
                    "batch {}: {why}; the next `generate --resume` asks its unanswered chunks again",
                    batch.id
                );
            }
            if cancel && status.phase == Phase::Ended {
                tracing::info!(
                    "batch {}: it has ended ({}), there is nothing to cancel; the next `generate --resume` records its answers, or asks its chunks again if its results are gone",
                    batch.id,
                    status.state
                );
            }
            if cancel && status.phase == Phase::Running {
                match api.cancel(&batch.id).await {
                    Ok(()) => tracing::info!(
                        "batch {}: cancel requested; `generate --resume` records what it answered",
                        batch.id
                    ),
                    Err(error) => {
                        unreadable += 1;
                        tracing::error!("batch {}: cannot cancel it: {error}", batch.id);
                        first_fault.get_or_insert(error);
                    }
                }
            }
        }
        match first_fault {
            Some(fault) => Err(anyhow::Error::new(fault).context(format!(
                "{unreadable} of {} batches could not be {}",
                batches.len(),
                if cancel { "read or cancelled" } else { "read" }
            ))),
            None => Ok(ExitCode::SUCCESS),
        }
    })
}
