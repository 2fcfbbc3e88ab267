//! What a resumed `--batch-api` run ([`super::batch_flow`]) takes up from the batch
//! ledger: the batches still live, submissions whose answer never came resolved (the
//! provider is asked for them by their tag), and for each queued chunk the live batch
//! that already holds it, so that it waits for that batch instead of going into
//! another.
//!
//! A chunk is matched to its batch by document and position, and by the hash of its
//! text when it was submitted: a chunk whose text changed since is not given the
//! batch's answer to the old text, but asked again (said once a file).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::chunk_work::{Job, Stop};
use crate::batch::BatchApi;
use crate::batch::ledger::{Ledger, PENDING};
use crate::checkpoint::text_hash;

/// A chunk a live batch holds.
struct Held {
    /// Its batch, by its place in [`Reattached::batches`].
    batch: usize,
    custom_id: String,
    /// Its text's hash when submitted; none in ledgers written before it was kept.
    text_hash: Option<String>,
}

/// The live batches of earlier runs, and the chunks they hold.
#[derive(Default)]
pub(super) struct Reattached {
    /// Each live batch's id and its state when last asked, oldest first.
    pub batches: Vec<(String, String)>,
    /// By document stem and position; a chunk asked again after its text changed
    /// may be in more than one batch.
    held: HashMap<(String, u32), Vec<Held>>,
    /// By chunk file: how many of its chunks changed while their batch ran.
    changed: BTreeMap<PathBuf, usize>,
}

/// Reads the ledger's live batches, resolving each submission that was never
/// answered: the batch it created is renamed to its id, or, if it created none, the
/// submission is forgotten and its chunks are free again.
pub(super) async fn reattach(api: &BatchApi, ledger: &mut Ledger) -> Result<Reattached, Stop> {
    let mut reattached = Reattached::default();
    for (mut batch, chunks) in ledger.live()? {
        if let Some(tag) = batch.id.strip_prefix(PENDING) {
            // Stopped while creating it: created or not, the tag says.
            match api
                .find(tag, batch.recorded_unix())
                .await
                .map_err(Stop::Model)?
            {
                Some(id) => {
                    ledger.rename(&batch.id, &id)?;
                    batch.id = id;
                }
                None => {
                    ledger.forget(&batch.id)?;
                    continue;
                }
            }
        }
        tracing::info!(
            "reattaching to batch {} ({} requests, {} when last asked)",
            batch.id,
            batch.requests,
            batch.state
        );
        let index = reattached.batches.len();
        for chunk in chunks {
            reattached
                .held
                .entry((chunk.stem, chunk.position))
                .or_default()
                .push(Held {
                    batch: index,
                    custom_id: chunk.custom_id,
                    text_hash: chunk.text_hash,
                });
        }
        reattached.batches.push((batch.id, batch.state));
    }
    Ok(reattached)
}

impl Reattached {
    /// The live batch that holds `job`'s chunk as its text is now (its place in
    /// [`Self::batches`] and the chunk's `custom_id` there); none if no batch holds
    /// it, or only batches asked about a text it no longer has.
    pub(super) fn claim(&mut self, job: &Job) -> Option<(usize, String)> {
        let chunk = &job.doc.chunks[job.index];
        let held = self.held.remove(&(job.doc.stem.clone(), chunk.position))?;
        let now = text_hash(&chunk.text);
        let same = held
            .into_iter()
            .find(|held| held.text_hash.as_ref().is_none_or(|then| *then == now));
        if same.is_none() {
            *self.changed.entry(job.doc.path.clone()).or_default() += 1;
        }
        same.map(|held| (held.batch, held.custom_id))
    }

    /// Says, once for each chunk file, how many of its chunks changed while their
    /// batch ran and are asked again.
    pub(super) fn tell_changed(&self) {
        for (file, count) in &self.changed {
            tracing::warn!(
                "{}: {count} chunk{} changed while {} batch ran: the batch's answers to the old text are set aside and {} asked again",
                file.display(),
                if *count == 1 { "" } else { "s" },
                if *count == 1 { "its" } else { "their" },
                if *count == 1 { "it is" } else { "they are" },
            );
        }
    }
}
