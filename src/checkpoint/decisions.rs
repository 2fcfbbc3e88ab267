//! A reviewer's decisions on pairs (`tdg review`): accept, reject, edit, and undo,
//! each recorded the moment it is made, with who made it and when.
//!
//! The `decisions` table is a log, never rewritten: a pair's decision is the newest one
//! that no later `undo` took back. A pair is named by its document, its chunk's position
//! and its *original* question (as the judge's verdicts are), so an edit never loses the
//! text the model wrote: the chunk's stored pairs stay as they were, and the views put
//! the edited text in their place. A regenerated chunk has new questions, so decisions
//! on pairs that no longer exist simply apply to nothing.
//!
//! The views apply a decision after the quality gate has seen the pair, so the gate's
//! state (its duplicate index) is the same with or without decisions: a rejected pair
//! leaves the Q&A files, an edited one is kept with its new text, and an accepted one
//! is kept even if the gate drops it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::{CheckpointStore, StoreError};

/// The table, as [`super::schema`] creates it in a new checkpoint; a checkpoint made
/// before decisions existed gets it at its first decision.
pub(super) const CREATE_DECISIONS: &str = "
    CREATE TABLE IF NOT EXISTS decisions (
        stem TEXT NOT NULL,
        position INTEGER NOT NULL,
        question TEXT NOT NULL,
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        new_question TEXT,
        new_answer TEXT,
        new_follow_ups TEXT,
        reviewer TEXT NOT NULL,
        decided_at TEXT NOT NULL,
        PRIMARY KEY (stem, position, question, seq)
    );";

/// What a reviewer did to a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionAction {
    Accept,
    Reject,
    Edit,
    /// Takes back the pair's newest decision still in force.
    Undo,
}

impl DecisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Accept => "accept",
            DecisionAction::Reject => "reject",
            DecisionAction::Edit => "edit",
            DecisionAction::Undo => "undo",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "accept" => DecisionAction::Accept,
            "reject" => DecisionAction::Reject,
            "edit" => DecisionAction::Edit,
            "undo" => DecisionAction::Undo,
            _ => return None,
        })
    }
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct Decision {
    pub stem: String,
    pub position: u32,
    /// The pair's original question, as the chunk's stored pairs hold it.
    pub question: String,
    pub action: DecisionAction,
    /// With [`DecisionAction::Edit`]: the new question and answer.
    pub edit: Option<(String, String)>,
    /// With [`DecisionAction::Edit`] of a conversation: its new follow-up exchanges
    /// (`None` keeps the model's).
    pub edit_follow_ups: Option<Vec<crate::task::Turn>>,
    /// Who decided (the OS user, see [`current_reviewer`]).
    pub reviewer: String,
}

/// The decision in force on a pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "lowercase")]
pub enum Verdict {
    /// Kept, even if the quality gate drops it.
    Accepted,
    /// Left out of the Q&A files.
    Rejected,
    /// Kept, with this text in place of the model's (and, for a conversation, these
    /// follow-ups in place of its own, when given).
    Edited {
        question: String,
        answer: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        follow_ups: Option<Vec<crate::task::Turn>>,
    },
}

/// How many pairs carry each decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReviewCounts {
    pub reviewed: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub edited: u64,
}

impl ReviewCounts {
    /// Counts `verdict` in.
    pub fn add(&mut self, verdict: &Verdict) {
        self.reviewed += 1;
        match verdict {
            Verdict::Accepted => self.accepted += 1,
            Verdict::Rejected => self.rejected += 1,
            Verdict::Edited { .. } => self.edited += 1,
        }
    }
}

/// The pairs' decisions in force, by (position, original question).
pub type DocumentDecisions = HashMap<(u32, String), Verdict>;

/// The OS user, as `USER` (or `USERNAME` on Windows) names it; `unknown` without either.
pub fn current_reviewer() -> String {
    ["USER", "USERNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// One row of the log, as read back.
struct Row {
    action: Option<DecisionAction>,
    new_question: Option<String>,
    new_answer: Option<String>,
    /// An edit's follow-ups, as JSON.
    new_follow_ups: Option<String>,
}

/// The decision in force after `rows` (oldest first): the newest one no undo took back.
fn in_force(rows: impl IntoIterator<Item = Row>) -> Option<Verdict> {
    let mut stack: Vec<Verdict> = Vec::new();
    for row in rows {
        match row.action {
            Some(DecisionAction::Undo) => {
                stack.pop();
            }
            Some(DecisionAction::Accept) => stack.push(Verdict::Accepted),
            Some(DecisionAction::Reject) => stack.push(Verdict::Rejected),
            Some(DecisionAction::Edit) => stack.push(Verdict::Edited {
                question: row.new_question.unwrap_or_default(),
                answer: row.new_answer.unwrap_or_default(),
                follow_ups: row
                    .new_follow_ups
                    .and_then(|json| serde_json::from_str(&json).ok()),
            }),
            // A row from a newer tdg: not understood, so not applied.
            None => {}
        }
    }
    stack.pop()
}

impl CheckpointStore {
    /// Whether the checkpoint has the decisions table (one made before it may not).
    fn has_decisions(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.fail(e))
    }

    /// Records `decision` durably (one transaction, synced) and returns the decision
    /// in force on the pair after it.
    pub fn record_decision(&mut self, decision: &Decision) -> Result<Option<Verdict>, StoreError> {
        let path = self.path.clone();
        let fail = |e| StoreError::sqlite(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute_batch(CREATE_DECISIONS).map_err(fail)?;
        let seq: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM decisions WHERE stem = ?1 AND position = ?2 AND question = ?3",
                params![decision.stem, decision.position, decision.question],
                |row| row.get(0),
            )
            .map_err(fail)?;
        let (new_question, new_answer) = match (&decision.edit, decision.action) {
            (Some((question, answer)), DecisionAction::Edit) => {
                (Some(question.as_str()), Some(answer.as_str()))
            }
            _ => (None, None),
        };
        let new_follow_ups = match (&decision.edit_follow_ups, decision.action) {
            (Some(turns), DecisionAction::Edit) => {
                Some(serde_json::to_string(turns).expect("turns serialize"))
            }
            _ => None,
        };
        tx.execute(
            "INSERT INTO decisions (stem, position, question, seq, action, new_question, new_answer, reviewer, decided_at, new_follow_ups)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                decision.stem,
                decision.position,
                decision.question,
                seq,
                decision.action.as_str(),
                new_question,
                new_answer,
                decision.reviewer,
                crate::timestamp::now(),
                new_follow_ups,
            ],
        )
        .map_err(fail)?;
        let verdict = {
            let mut statement = tx
                .prepare(
                    "SELECT action, new_question, new_answer, new_follow_ups FROM decisions
                     WHERE stem = ?1 AND position = ?2 AND question = ?3 ORDER BY seq",
                )
                .map_err(fail)?;
            let rows: Vec<Row> = statement
                .query_map(
                    params![decision.stem, decision.position, decision.question],
                    read_row,
                )
                .map_err(fail)?
                .collect::<Result<_, _>>()
                .map_err(fail)?;
            in_force(rows)
        };
        tx.commit().map_err(fail)?;
        Ok(verdict)
    }

    /// The decisions in force on the pairs of `stem`.
    pub fn decisions_of(&self, stem: &str) -> Result<DocumentDecisions, StoreError> {
        if !self.has_decisions()? {
            return Ok(HashMap::new());
        }
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT position, question, action, new_question, new_answer, new_follow_ups FROM decisions
                 WHERE stem = ?1 ORDER BY position, question, seq",
            )
            .map_err(|e| self.fail(e))?;
        let rows = statement
            .query_map(params![stem], |row| {
                Ok((
                    (row.get::<_, u32>(0)?, row.get::<_, String>(1)?),
                    Row {
                        action: DecisionAction::parse(&row.get::<_, String>(2)?),
                        new_question: row.get(3)?,
                        new_answer: row.get(4)?,
                        new_follow_ups: row.get(5)?,
                    },
                ))
            })
            .map_err(|e| self.fail(e))?;
        let mut logs: HashMap<(u32, String), Vec<Row>> = HashMap::new();
        for row in rows {
            let (key, row) = row.map_err(|e| self.fail(e))?;
            logs.entry(key).or_default().push(row);
        }
        Ok(logs
            .into_iter()
            .filter_map(|(key, rows)| in_force(rows).map(|verdict| (key, verdict)))
            .collect())
    }

    /// When and by whom the pair's newest decision was made, if any.
    pub fn last_decision_by(
        &self,
        stem: &str,
        position: u32,
        question: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        if !self.has_decisions()? {
            return Ok(None);
        }
        self.conn
            .query_row(
                "SELECT reviewer, decided_at FROM decisions WHERE stem = ?1 AND position = ?2 AND question = ?3
                 ORDER BY seq DESC LIMIT 1",
                params![stem, position, question],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(|e| self.fail(e))
    }
}

/// Copies the decisions of the database attached as `shard` (if it has any) into the
/// main one, within `tx` (`tdg merge`: shards own disjoint chunks, so no two rows meet).
pub(super) fn absorb_attached(tx: &rusqlite::Transaction) -> rusqlite::Result<usize> {
    let has_table: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM shard.sqlite_master WHERE type = 'table' AND name = 'decisions'",
        [],
        |row| row.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    tx.execute_batch(&CREATE_DECISIONS.replace("EXISTS decisions", "EXISTS main.decisions"))?;
    // A shard of schema 3 or before has no edited follow-ups.
    let has_follow_ups: bool = tx.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('decisions', 'shard') WHERE name = 'new_follow_ups'",
        [],
        |row| row.get(0),
    )?;
    let follow_ups = if has_follow_ups {
        "new_follow_ups"
    } else {
        "NULL"
    };
    tx.execute(
        &format!(
            "INSERT OR IGNORE INTO main.decisions
             (stem, position, question, seq, action, new_question, new_answer, reviewer, decided_at, new_follow_ups)
         SELECT stem, position, question, seq, action, new_question, new_answer, reviewer, decided_at, {follow_ups}
         FROM shard.decisions"
        ),
        [],
    )
}

fn read_row(row: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        action: DecisionAction::parse(&row.get::<_, String>(0)?),
        new_question: row.get(1)?,
        new_answer: row.get(2)?,
        new_follow_ups: row.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: DecisionAction) -> Row {
        Row {
            action: Some(action),
            new_question: Some("Q2?".into()),
            new_answer: Some("A2".into()),
            new_follow_ups: None,
        }
    }

    #[test]
    fn a_checkpoint_made_before_decisions_gets_the_table_at_its_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        store.conn.execute_batch("DROP TABLE decisions").unwrap();
        assert!(store.decisions_of("doc").unwrap().is_empty());
        assert_eq!(store.last_decision_by("doc", 0, "Q?").unwrap(), None);
        let decision = Decision {
            stem: "doc".into(),
            position: 2,
            question: "Q?".into(),
            action: DecisionAction::Edit,
            edit: Some(("Q2?".into(), "A2".into())),
            edit_follow_ups: None,
            reviewer: "ada".into(),
        };
        let edited = Verdict::Edited {
            question: "Q2?".into(),
            answer: "A2".into(),
            follow_ups: None,
        };
        assert_eq!(
            store.record_decision(&decision).unwrap(),
            Some(edited.clone())
        );
        let reject = Decision {
            action: DecisionAction::Reject,
            edit: None,
            ..decision.clone()
        };
        assert_eq!(
            store.record_decision(&reject).unwrap(),
            Some(Verdict::Rejected)
        );
        let undo = Decision {
            action: DecisionAction::Undo,
            ..reject
        };
        assert_eq!(store.record_decision(&undo).unwrap(), Some(edited.clone()));
        let decided = store.decisions_of("doc").unwrap();
        assert_eq!(decided.get(&(2, "Q?".to_string())), Some(&edited));
        assert_eq!(decided.len(), 1);
        let (who, _when) = store.last_decision_by("doc", 2, "Q?").unwrap().unwrap();
        assert_eq!(who, "ada");
    }

    #[test]
    fn undo_takes_back_the_newest_decision_in_force() {
        use DecisionAction::*;
        assert_eq!(in_force([row(Accept)]), Some(Verdict::Accepted));
        assert_eq!(
            in_force([row(Accept), row(Reject)]),
            Some(Verdict::Rejected)
        );
        assert_eq!(
            in_force([row(Accept), row(Reject), row(Undo)]),
            Some(Verdict::Accepted)
        );
        assert_eq!(in_force([row(Reject), row(Undo)]), None);
        assert_eq!(in_force([row(Undo), row(Undo)]), None);
        assert_eq!(
            in_force([row(Edit)]),
            Some(Verdict::Edited {
                question: "Q2?".into(),
                answer: "A2".into(),
                follow_ups: None,
            })
        );
    }

    #[test]
    fn decisions_of_a_schema_3_checkpoint_are_migrated_and_take_edited_follow_ups() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = CheckpointStore::open(dir.path()).unwrap();
        let decision = Decision {
            stem: "doc".into(),
            position: 0,
            question: "Q?".into(),
            action: DecisionAction::Reject,
            edit: None,
            edit_follow_ups: None,
            reviewer: "ada".into(),
        };
        store.record_decision(&decision).unwrap();
        // Back to schema 3: no edited follow-ups, no reasoning tokens.
        store
            .conn
            .execute_batch(
                "ALTER TABLE decisions DROP COLUMN new_follow_ups;
                 ALTER TABLE chunks DROP COLUMN tokens_reasoning;
                 UPDATE meta SET value = '3' WHERE key = 'schema_version';",
            )
            .unwrap();
        drop(store);
        let mut store =
            CheckpointStore::open_existing(dir.path(), super::super::Access::ReadWrite).unwrap();
        assert_eq!(
            store
                .decisions_of("doc")
                .unwrap()
                .get(&(0, "Q?".to_string())),
            Some(&Verdict::Rejected)
        );
        let turns = vec![crate::task::Turn {
            question: "Why?".into(),
            answer: "Because.".into(),
        }];
        let edit = Decision {
            action: DecisionAction::Edit,
            edit: Some(("Q2?".into(), "A2".into())),
            edit_follow_ups: Some(turns.clone()),
            ..decision
        };
        assert_eq!(
            store.record_decision(&edit).unwrap(),
            Some(Verdict::Edited {
                question: "Q2?".into(),
                answer: "A2".into(),
                follow_ups: Some(turns),
            })
        );
    }
}
