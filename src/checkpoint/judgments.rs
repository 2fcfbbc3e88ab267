//! The judge's verdicts (`tdg validate`): one per kept pair, a score or why there is
//! none, and the pairs still to judge.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{CheckpointStore, StoreError, StoredPair};

/// A judge's scores, each 0 to 10.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JudgeScores {
    pub accuracy: f64,
    pub completeness: f64,
    pub consistency: f64,
}

impl JudgeScores {
    /// 0.5·accuracy + 0.3·completeness + 0.2·consistency.
    pub fn overall(&self) -> f64 {
        0.5 * self.accuracy + 0.3 * self.completeness + 0.2 * self.consistency
    }
}

/// A judge's verdict on one pair: scores, or why there are none.
#[derive(Debug, Clone)]
pub struct Judgment {
    pub stem: String,
    pub position: u32,
    pub question: String,
    pub scores: Option<JudgeScores>,
    pub raw_response: Option<String>,
    pub error: Option<String>,
}

/// A pair for the judge, with the text it was made from.
#[derive(Debug, Clone)]
pub struct PairToJudge {
    pub stem: String,
    pub position: u32,
    pub question: String,
    pub answer: String,
    pub source_text: String,
}

impl CheckpointStore {
    /// Records a judge's verdict on one pair (replacing an earlier one).
    pub fn record_judgment(&self, judgment: &Judgment) -> Result<(), StoreError> {
        self.forget_corpus_prefix_if(|last| judgment.stem.as_str() <= last);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO judgments (stem, position, question, accuracy, completeness, consistency, overall,
                     raw_response, error, judged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    judgment.stem,
                    judgment.position,
                    judgment.question,
                    judgment.scores.map(|s| s.accuracy),
                    judgment.scores.map(|s| s.completeness),
                    judgment.scores.map(|s| s.consistency),
                    judgment.scores.map(|s| s.overall()),
                    judgment.raw_response,
                    judgment.error,
                    crate::timestamp::now(),
                ],
            )
            .map(drop)
            .map_err(|e| self.fail(e))
    }

    /// The overall judge scores of a document's pairs, by (position, question).
    pub(super) fn judged_scores(
        &self,
        stem: &str,
    ) -> Result<std::collections::HashMap<(u32, String), f64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT position, question, overall FROM judgments WHERE stem = ?1 AND overall IS NOT NULL")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok(((row.get(0)?, row.get(1)?), row.get(2)?))
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The pairs judged with a score (not failed), as (stem, position, question).
    pub fn judged_pairs(
        &self,
    ) -> Result<std::collections::HashSet<(String, u32, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT stem, position, question FROM judgments WHERE overall IS NOT NULL")
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(|e| self.fail(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.fail(e))
    }

    /// The judge's figures: pairs judged with a score, of them passing (overall ≥ 8),
    /// and judgments that failed (no score).
    pub fn judge_figures(&self) -> Result<(u64, u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(SUM(overall IS NOT NULL), 0), COALESCE(SUM(overall >= ?1), 0), COALESCE(SUM(overall IS NULL), 0)
                 FROM judgments",
                params![crate::quality::JUDGE_PASS],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .map_err(|e| self.fail(e))
    }

    /// Every kept pair of every document with its chunk text, for the judge: the pairs
    /// the Q&A files hold under the run's filter (judge scores aside) and the
    /// reviewer's decisions. An edited pair is judged on the model's text, which its
    /// judgment is named by.
    pub fn pairs_to_judge(&self) -> Result<Vec<PairToJudge>, StoreError> {
        let mut filter = self.quality_filter();
        filter.min_judge_score = None;
        let mut out = Vec::new();
        self.for_each_document_gate(&filter, |stem, gate| {
            let decided = self.decisions_of(stem)?;
            let mut statement = self
                .conn
                .prepare_cached("SELECT position, source_text, pairs FROM chunks WHERE stem = ?1 AND status = 'completed' ORDER BY position")
                .map_err(|e| self.fail(e))?;
            let rows: Vec<(u32, String, String)> = statement
                .query_map(params![stem], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })
                .map_err(|e| self.fail(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.fail(e))?;
            for (position, source_text, pairs) in rows {
                let pairs: Vec<StoredPair> = serde_json::from_str(&pairs).unwrap_or_default();
                for pair in pairs {
                    let dropped = gate
                        .check(&pair.question, pair.quality.as_ref(), None)
                        .is_some();
                    // As the views decide: a reviewer's rejection leaves the pair out
                    // (nothing to judge), an acceptance or edit keeps it.
                    let kept = match decided.get(&(position, pair.question.clone())) {
                        Some(super::Verdict::Rejected) => false,
                        Some(_) => true,
                        None => !dropped,
                    };
                    if kept {
                        out.push(PairToJudge {
                            stem: stem.to_string(),
                            position,
                            question: pair.question,
                            answer: pair.answer,
                            source_text: source_text.clone(),
                        });
                    }
                }
            }
            Ok(())
        })?;
        Ok(out)
    }
}
