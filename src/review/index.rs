//! The review server's view of the pairs: read from the checkpoint once at start (the
//! gate's verdicts need a replay in document order), kept in memory as compact rows,
//! and updated in place as decisions are made. The page asks for one filtered page of
//! it at a time, so a run of 100,000 pairs never travels to the browser whole.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::checkpoint::{CheckpointStore, ReviewPair, StoreError, Verdict};
use crate::quality::JUDGE_PASS;

/// The most pairs one page holds.
pub const MAX_PAGE: usize = 500;

/// Every pair of the run, with a lookup by (document, position, original question).
pub struct Index {
    pairs: Vec<ReviewPair>,
    by_key: HashMap<(String, u32, String), usize>,
}

/// A filter and a page, as the page's query string gives them. Every field is
/// optional; an empty string is the same as none.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Query {
    pub doc: Option<String>,
    /// `kept` or `dropped`: what the quality gate did.
    pub status: Option<String>,
    /// A drop reason (`ungrounded`, ...).
    pub reason: Option<String>,
    pub gmin: Option<f64>,
    pub gmax: Option<f64>,
    /// `pass`, `fail` or `none` (not judged).
    pub judge: Option<String>,
    pub qtype: Option<String>,
    /// `yes` or `no`.
    pub reviewed: Option<String>,
    /// Words searched for in questions and answers, case-insensitively.
    pub q: Option<String>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
}

/// One page of pairs.
#[derive(Debug, Serialize)]
pub struct Page {
    /// Pairs matching the filter, in all.
    pub total: usize,
    pub offset: usize,
    pub pairs: Vec<PairView>,
}

/// A pair as the page shows it.
#[derive(Debug, Serialize)]
pub struct PairView {
    pub id: usize,
    pub stem: String,
    pub position: u32,
    pub index: u32,
    pub question: String,
    pub answer: String,
    pub question_type: Option<String>,
    /// The reasoning that leads to the answer (`--task reasoning`), shown folded.
    pub reasoning: Option<String>,
    /// A conversation's exchanges after the first, as the gate keeps them.
    pub follow_ups: Vec<crate::task::Turn>,
    /// The exchange the gate cut the conversation before, if it did.
    pub cut_at: Option<u32>,
    pub grounding: Option<f64>,
    pub evidence: Option<(usize, usize)>,
    /// Why the gate drops it (`None`: the gate keeps it).
    pub dropped: Option<&'static str>,
    pub judge: Option<JudgeView>,
    /// `accepted`, `rejected` or `edited`; `None` before any decision.
    pub decision: Option<&'static str>,
    /// The edit's text, with `edited`.
    pub edited: Option<EditedText>,
    /// Whether the Q&A files hold it.
    pub in_files: bool,
}

#[derive(Debug, Serialize)]
pub struct JudgeView {
    pub accuracy: f64,
    pub completeness: f64,
    pub consistency: f64,
    pub overall: f64,
    pub pass: bool,
}

#[derive(Debug, Serialize)]
pub struct EditedText {
    pub question: String,
    pub answer: String,
    /// A conversation's edited follow-ups, when they were edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_ups: Option<Vec<crate::task::Turn>>,
}

/// A document and its counts.
#[derive(Debug, Default, Serialize)]
pub struct DocumentCounts {
    pub stem: String,
    pub pairs: usize,
    /// Pairs the Q&A file holds.
    pub kept: usize,
    /// Pairs the gate drops.
    pub dropped: usize,
    pub reviewed: usize,
}

/// The documents, and the values the filters offer.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub documents: Vec<DocumentCounts>,
    pub reasons: BTreeSet<&'static str>,
    pub question_types: BTreeSet<String>,
    pub pairs: usize,
}

impl Index {
    /// Reads every pair from `store`.
    pub fn load(store: &CheckpointStore) -> Result<Self, StoreError> {
        let pairs = store.review_pairs()?;
        let by_key = pairs
            .iter()
            .enumerate()
            .map(|(i, p)| ((p.stem.clone(), p.position, p.question.clone()), i))
            .collect();
        Ok(Index { pairs, by_key })
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The pair named by its document, chunk position and original question.
    pub fn find(&self, stem: &str, position: u32, question: &str) -> Option<usize> {
        self.by_key
            .get(&(stem.to_string(), position, question.to_string()))
            .copied()
    }

    pub fn get(&self, id: usize) -> Option<&ReviewPair> {
        self.pairs.get(id)
    }

    /// Sets the decision in force on pair `id`.
    pub fn set_verdict(&mut self, id: usize, verdict: Option<Verdict>) {
        if let Some(pair) = self.pairs.get_mut(id) {
            pair.verdict = verdict;
        }
    }

    /// The documents with their counts, and the filters' values.
    pub fn overview(&self) -> Overview {
        let mut documents: BTreeMap<&str, DocumentCounts> = BTreeMap::new();
        let mut reasons = BTreeSet::new();
        let mut question_types = BTreeSet::new();
        for pair in &self.pairs {
            let counts = documents
                .entry(&pair.stem)
                .or_insert_with(|| DocumentCounts {
                    stem: pair.stem.clone(),
                    ..Default::default()
                });
            counts.pairs += 1;
            counts.kept += usize::from(pair.in_files());
            counts.dropped += usize::from(pair.dropped.is_some());
            counts.reviewed += usize::from(pair.verdict.is_some());
            if let Some(reason) = pair.dropped {
                reasons.insert(reason.name());
            }
            if let Some(kind) = &pair.question_type {
                question_types.insert(kind.clone());
            }
        }
        Overview {
            documents: documents.into_values().collect(),
            reasons,
            question_types,
            pairs: self.pairs.len(),
        }
    }

    /// The page of pairs `query` asks for.
    pub fn page(&self, query: &Query) -> Page {
        let matcher = Matcher::new(query);
        let offset = query.offset.unwrap_or(0);
        let limit = query.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let mut total = 0;
        let mut pairs = Vec::new();
        for (id, pair) in self.pairs.iter().enumerate() {
            if !matcher.matches(pair) {
                continue;
            }
            if total >= offset && pairs.len() < limit {
                pairs.push(view(id, pair));
            }
            total += 1;
        }
        Page {
            total,
            offset,
            pairs,
        }
    }

    /// Pair `id` as the page shows it.
    pub fn view(&self, id: usize) -> Option<PairView> {
        self.pairs.get(id).map(|pair| view(id, pair))
    }
}

/// A [`Query`]'s filter, with its text lowered once.
struct Matcher<'a> {
    query: &'a Query,
    words: Vec<String>,
}

/// `Some(text)` unless it is empty.
fn given(field: &Option<String>) -> Option<&str> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

impl<'a> Matcher<'a> {
    fn new(query: &'a Query) -> Self {
        let words = given(&query.q)
            .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
            .unwrap_or_default();
        Matcher { query, words }
    }

    fn matches(&self, pair: &ReviewPair) -> bool {
        let q = self.query;
        if given(&q.doc).is_some_and(|doc| doc != pair.stem) {
            return false;
        }
        match given(&q.status) {
            Some("kept") if pair.dropped.is_some() => return false,
            Some("dropped") if pair.dropped.is_none() => return false,
            _ => {}
        }
        if given(&q.reason).is_some_and(|reason| pair.dropped.map(|r| r.name()) != Some(reason)) {
            return false;
        }
        let grounding = pair.grounding;
        if q.gmin.is_some_and(|min| grounding.is_none_or(|g| g < min))
            || q.gmax.is_some_and(|max| grounding.is_none_or(|g| g > max))
        {
            return false;
        }
        let pass = pair.judge.map(|s| s.overall() >= JUDGE_PASS);
        match given(&q.judge) {
            Some("pass") if pass != Some(true) => return false,
            Some("fail") if pass != Some(false) => return false,
            Some("none") if pass.is_some() => return false,
            _ => {}
        }
        if given(&q.qtype).is_some_and(|kind| pair.question_type.as_deref() != Some(kind)) {
            return false;
        }
        match given(&q.reviewed) {
            Some("yes") if pair.verdict.is_none() => return false,
            Some("no") if pair.verdict.is_some() => return false,
            _ => {}
        }
        if !self.words.is_empty() {
            let mut text = format!("{}\n{}", pair.question, pair.answer);
            if let Some(Verdict::Edited {
                question, answer, ..
            }) = &pair.verdict
            {
                text.push_str(&format!("\n{question}\n{answer}"));
            }
            let text = text.to_lowercase();
            if !self.words.iter().all(|word| text.contains(word.as_str())) {
                return false;
            }
        }
        true
    }
}

fn view(id: usize, pair: &ReviewPair) -> PairView {
    let (decision, edited) = match &pair.verdict {
        None => (None, None),
        Some(Verdict::Accepted) => (Some("accepted"), None),
        Some(Verdict::Rejected) => (Some("rejected"), None),
        Some(Verdict::Edited {
            question,
            answer,
            follow_ups,
        }) => (
            Some("edited"),
            Some(EditedText {
                question: question.clone(),
                answer: answer.clone(),
                follow_ups: follow_ups.clone(),
            }),
        ),
    };
    PairView {
        id,
        stem: pair.stem.clone(),
        position: pair.position,
        index: pair.index,
        question: pair.question.clone(),
        answer: pair.answer.clone(),
        question_type: pair.question_type.clone(),
        reasoning: pair.reasoning.clone(),
        follow_ups: pair.follow_ups.clone(),
        cut_at: pair.cut_at,
        grounding: pair.grounding,
        evidence: pair.evidence,
        dropped: pair.dropped.map(|reason| reason.name()),
        judge: pair.judge.map(|s| JudgeView {
            accuracy: s.accuracy,
            completeness: s.completeness,
            consistency: s.consistency,
            overall: s.overall(),
            pass: s.overall() >= JUDGE_PASS,
        }),
        decision,
        edited,
        in_files: pair.in_files(),
    }
}
