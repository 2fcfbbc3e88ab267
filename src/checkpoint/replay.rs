//! Replaying the quality gate over stored pairs, in chunk and document order, as the
//! Q&A files apply it: the run's filter, per-document or corpus-wide dedupe, and the
//! cached prefix of completed documents that keeps corpus-wide views from reading
//! every earlier document again.

use rusqlite::params;

use super::{CheckpointStore, QualitySummary, StoreError, StoredPair, Verdict};
use crate::quality::{DedupeScope, DropReason, Gate, QualityFilter};
use crate::task::ConversationCut;

/// A gate that has seen the longest name-ordered run of completed documents (under one
/// filter), so that a corpus-wide view reads only the documents after them instead of
/// every earlier one. Dropped whenever what it saw may have changed.
pub(super) struct CorpusPrefix {
    pub(super) filter: QualityFilter,
    pub(super) stems: Vec<String>,
    pub(super) gate: std::sync::Arc<Gate>,
}

/// Runs one stored pair through `gate` (with the judge's `score`, if judged): its
/// reasoning, then its follow-ups, then the pair itself. A conversation with a bad
/// follow-up is cut before it (`pair.follow_ups` truncated, `pair.cut_at` set) or
/// dropped, as the filter's `conversation_cut` says. A pair its trace or a follow-up
/// drops is never remembered for the duplicate check.
pub(super) fn gate_pair(
    gate: &mut Gate,
    pair: &mut StoredPair,
    score: Option<f64>,
) -> Option<DropReason> {
    if let Some(reason) = gate.check_reasoning(
        pair.reasoning.as_deref(),
        &pair.answer,
        pair.reasoning_quality.as_ref(),
    ) {
        return Some(reason);
    }
    let bad_turn = gate.first_bad_follow_up(
        (&pair.question, &pair.answer),
        pair.follow_ups.iter().map(|turn| {
            let exchange = (turn.question.as_str(), turn.answer.as_str());
            (exchange, turn.quality.as_ref())
        }),
    );
    match (bad_turn, gate.filter().conversation_cut) {
        (Some((_, reason)), ConversationCut::Drop) => return Some(reason),
        (Some((at, _)), ConversationCut::Cut) => {
            pair.follow_ups.truncate(at);
            pair.cut_at = Some(at as u32 + 2);
        }
        (None, _) => {}
    }
    gate.check(&pair.question, pair.quality.as_ref(), score)
}

impl CheckpointStore {
    /// Stores the quality filter of the run, which views, `stats` and `reparse` apply.
    pub fn set_quality_filter(&self, filter: &QualityFilter) -> Result<(), StoreError> {
        let json = serde_json::to_string(filter).expect("the filter serializes");
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('quality_filter', ?1)",
                params![json],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The quality filter of the run (the defaults if none was stored).
    pub fn quality_filter(&self) -> QualityFilter {
        self.conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'quality_filter'",
                [],
                |row| row.get::<_, String>(0),
            )
            .ok()
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    /// Every completed chunk's pairs of `stem`, in position order.
    pub(super) fn completed_pairs(
        &self,
        stem: &str,
    ) -> Result<Vec<(u32, Vec<StoredPair>)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT position, pairs FROM chunks WHERE stem = ?1 AND status = 'completed' ORDER BY position")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok((
                    row.get(0)?,
                    serde_json::from_str(&row.get::<_, String>(1)?).unwrap_or_default(),
                ))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// A gate for `stem` under `filter`: for corpus-wide duplicates it has already
    /// seen every earlier document (in name order), as their own views did. The
    /// completed ones at the front come from the cached [`CorpusPrefix`], extended
    /// as more complete; only the documents after them are read.
    pub(super) fn gate_for(&self, stem: &str, filter: &QualityFilter) -> Result<Gate, StoreError> {
        if filter.dedupe != DedupeScope::Corpus {
            return Ok(Gate::new(*filter, []));
        }
        let documents = self.documents_completed()?;
        let earlier = &documents[..documents.partition_point(|(other, _)| other.as_str() < stem)];
        let mut cache = self.corpus_prefix.borrow_mut();
        let consistent = cache.as_ref().is_some_and(|prefix| {
            prefix.filter == *filter
                && prefix.stems.len() <= documents.len()
                && prefix
                    .stems
                    .iter()
                    .zip(&documents)
                    .all(|(a, (b, _))| a == b)
        });
        if !consistent {
            *cache = None;
        }
        let prefix = cache.get_or_insert_with(|| CorpusPrefix {
            filter: *filter,
            stems: Vec::new(),
            gate: std::sync::Arc::new(Gate::new(*filter, [])),
        });
        if prefix.stems.len() > earlier.len() {
            // The prefix has seen this document or later ones: read the earlier ones.
            let mut gate = Gate::new(*filter, []);
            for (other, _) in earlier {
                self.replay(other, &mut gate, |_, _, _| {})?;
            }
            return Ok(gate);
        }
        for (next, completed) in &earlier[prefix.stems.len()..] {
            if !completed {
                break;
            }
            self.replay(
                next,
                std::sync::Arc::make_mut(&mut prefix.gate),
                |_, _, _| {},
            )?;
            prefix.stems.push(next.clone());
        }
        let mut gate = Gate::on_top_of(prefix.gate.clone());
        for (other, _) in &earlier[prefix.stems.len()..] {
            self.replay(other, &mut gate, |_, _, _| {})?;
        }
        Ok(gate)
    }

    /// Drops the cached [`CorpusPrefix`] when `touches(last stem it saw)` says a change
    /// reaches the documents it saw.
    pub(super) fn forget_corpus_prefix_if(&self, touches: impl FnOnce(&str) -> bool) {
        let mut cache = self.corpus_prefix.borrow_mut();
        if let Some(last) = cache.as_ref().and_then(|prefix| prefix.stems.last())
            && touches(last)
        {
            *cache = None;
        }
    }

    /// Every document's stem, sorted, and whether it is completed.
    pub(super) fn documents_completed(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT stem, completed_at IS NOT NULL FROM documents ORDER BY stem")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// Walks the documents in name order, handing each a gate: its own, or, for
    /// corpus-wide duplicates, one gate carried from document to document (so the
    /// walk reads each document once, not once per later document).
    pub(super) fn for_each_document_gate(
        &self,
        filter: &QualityFilter,
        mut each: impl FnMut(&str, &mut Gate) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut corpus = (filter.dedupe == DedupeScope::Corpus).then(|| Gate::new(*filter, []));
        for stem in self.document_stems()? {
            let mut own = Gate::new(*filter, []);
            each(&stem, corpus.as_mut().unwrap_or(&mut own))?;
        }
        Ok(())
    }

    /// Runs a document's completed pairs through `gate` in chunk order, with the
    /// judge's scores, and tells `each` what became of every pair.
    pub(super) fn replay(
        &self,
        stem: &str,
        gate: &mut Gate,
        mut each: impl FnMut(u32, &StoredPair, Option<DropReason>),
    ) -> Result<(), StoreError> {
        let judged = self.judged_scores(stem)?;
        for (position, pairs) in self.completed_pairs(stem)? {
            for mut pair in pairs {
                let score = judged.get(&(position, pair.question.clone())).copied();
                let verdict = gate_pair(gate, &mut pair, score);
                each(position, &pair, verdict);
            }
        }
        Ok(())
    }

    /// What the run's quality filter and the reviewer did: pairs dropped by each reason (in all, and
    /// per document), how many kept pairs fall in each fifth of the grounding scale
    /// (0–0.2, …, 0.8–1), and the kept pairs' question types per document.
    pub fn quality_summary(&self) -> Result<QualitySummary, StoreError> {
        let filter = self.quality_filter();
        let mut summary = QualitySummary::default();
        self.for_each_document_gate(&filter, |stem, gate| {
            let decided = self.decisions_of(stem)?;
            self.replay(stem, gate, |position, pair, verdict| {
                // The reviewer's decision wins over the gate's, as in the views.
                let decision = decided.get(&(position, pair.question.clone()));
                if let Some(decision) = decision {
                    summary.review.add(decision);
                }
                let verdict = match decision {
                    Some(Verdict::Rejected) => {
                        *summary
                            .rejected_per_document
                            .entry(stem.to_string())
                            .or_insert(0) += 1;
                        return;
                    }
                    Some(_) => None,
                    None => verdict,
                };
                match verdict {
                    Some(reason) => {
                        *summary.dropped.entry(reason).or_insert(0) += 1;
                        *summary
                            .dropped_per_document
                            .entry(stem.to_string())
                            .or_insert(0) += 1;
                    }
                    None => {
                        summary.conversations_cut += u64::from(pair.cut_at.is_some());
                        if let Some(quality) = &pair.quality {
                            summary.grounding[((quality.grounding * 5.0) as usize).min(4)] += 1;
                        }
                        let kind = pair.question_type.as_deref().unwrap_or(super::UNLABELLED);
                        *summary
                            .question_types_per_document
                            .entry(stem.to_string())
                            .or_default()
                            .entry(kind.to_string())
                            .or_insert(0) += 1;
                    }
                }
            })
        })?;
        Ok(summary)
    }
}
