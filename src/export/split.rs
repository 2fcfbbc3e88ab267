//! Splits: the `--split train=0.9,validation=0.05,test=0.05` spec, and the plan that
//! puts every document (or chunk) in exactly one split, deterministically for a seed.
//!
//! Units (documents by default, or chunks) are put in an order fixed by the seed
//! (SHA-256 of the seed and the unit's key, so the order depends on no library's random
//! generator), and each in turn goes to the split furthest below its target number of
//! pairs, so the shares come out close to the fractions asked for. A split left empty
//! (a few large documents) then takes the smallest unit of the split with the most, so
//! that every split asked for holds data whenever there are as many units as splits.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

/// What a split keeps together: every pair of a document, or only of a chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitBy {
    /// A document's pairs all go to one split, so that overlapping chunks of one
    /// document never sit in two splits.
    #[default]
    Document,
    /// A chunk's pairs go to one split; a document may span splits.
    Chunk,
}

impl SplitBy {
    /// The name used on the command line and in the card.
    pub fn name(self) -> &'static str {
        match self {
            SplitBy::Document => "document",
            SplitBy::Chunk => "chunk",
        }
    }
}

/// The splits asked for, in the order given, with their fractions (adding up to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSpec {
    pub splits: Vec<(String, f64)>,
}

/// A `--split` value that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SplitSpecError {
    #[error(
        "--split {spec:?}: `{part}` is not NAME=FRACTION (e.g. train=0.9,validation=0.05,test=0.05)"
    )]
    Malformed { spec: String, part: String },
    #[error(
        "--split {spec:?}: the split name `{name}` may hold only letters, digits and `_` (the Hub's split names)"
    )]
    BadName { spec: String, name: String },
    #[error("--split {spec:?}: the split `{name}` is named twice")]
    Duplicate { spec: String, name: String },
    #[error("--split {spec:?}: the fraction of `{name}` must be a number above 0 and at most 1")]
    BadFraction { spec: String, name: String },
    #[error("--split {spec:?}: the fractions add up to {sum}; they must add up to 1")]
    BadSum { spec: String, sum: f64 },
}

impl Default for SplitSpec {
    fn default() -> Self {
        SplitSpec {
            splits: vec![("train".into(), 1.0)],
        }
    }
}

impl SplitSpec {
    /// Reads `train=0.9,validation=0.05,test=0.05`.
    pub fn parse(spec: &str) -> Result<Self, SplitSpecError> {
        let mut splits: Vec<(String, f64)> = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, fraction) =
                part.split_once('=')
                    .ok_or_else(|| SplitSpecError::Malformed {
                        spec: spec.into(),
                        part: part.into(),
                    })?;
            let name = name.trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(SplitSpecError::BadName {
                    spec: spec.into(),
                    name: name.into(),
                });
            }
            if splits.iter().any(|(known, _)| known == name) {
                return Err(SplitSpecError::Duplicate {
                    spec: spec.into(),
                    name: name.into(),
                });
            }
            let fraction: f64 = fraction
                .trim()
                .parse()
                .ok()
                .filter(|f: &f64| f.is_finite() && *f > 0.0 && *f <= 1.0)
                .ok_or_else(|| SplitSpecError::BadFraction {
                    spec: spec.into(),
                    name: name.into(),
                })?;
            splits.push((name.to_string(), fraction));
        }
        if splits.is_empty() {
            return Err(SplitSpecError::Malformed {
                spec: spec.into(),
                part: spec.into(),
            });
        }
        let sum: f64 = splits.iter().map(|(_, f)| f).sum();
        if (sum - 1.0).abs() > 1e-6 {
            return Err(SplitSpecError::BadSum {
                spec: spec.into(),
                sum,
            });
        }
        Ok(SplitSpec { splits })
    }

    /// The split names, in the order given.
    pub fn names(&self) -> Vec<String> {
        self.splits.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// Which split each unit goes to.
#[derive(Debug, Clone, Default)]
pub struct SplitPlan {
    assignment: HashMap<String, usize>,
    /// Pairs per split, as planned.
    pub pairs: Vec<u64>,
    /// Units per split, as planned.
    pub units: Vec<u64>,
}

impl SplitPlan {
    /// Plans `units` (key, pairs) over `spec` for `seed`. Units without pairs are left
    /// out; the plan depends only on the keys, their pair counts, the spec and the seed.
    pub fn new(
        spec: &SplitSpec,
        seed: u64,
        units: impl IntoIterator<Item = (String, u64)>,
    ) -> Self {
        let mut ordered: Vec<([u8; 32], String, u64)> = units
            .into_iter()
            .filter(|(_, pairs)| *pairs > 0)
            .map(|(key, pairs)| (order_key(seed, &key), key, pairs))
            .collect();
        ordered.sort_unstable();
        let total: u64 = ordered.iter().map(|(_, _, pairs)| pairs).sum();
        let targets: Vec<f64> = spec
            .splits
            .iter()
            .map(|(_, fraction)| fraction * total as f64)
            .collect();
        let mut plan = SplitPlan {
            assignment: HashMap::with_capacity(ordered.len()),
            pairs: vec![0; targets.len()],
            units: vec![0; targets.len()],
        };
        // Each unit to the split furthest below its target (the first on a tie).
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); targets.len()];
        for (index, (_, _, pairs)) in ordered.iter().enumerate() {
            let split = (0..targets.len())
                .map(|s| (s, targets[s] - plan.pairs[s] as f64))
                .fold(None::<(usize, f64)>, |best, (s, deficit)| match best {
                    Some((_, best_deficit)) if best_deficit >= deficit => best,
                    _ => Some((s, deficit)),
                })
                .map_or(0, |(s, _)| s);
            plan.pairs[split] += pairs;
            members[split].push(index);
        }
        // A split left empty takes the smallest unit of the split with the most units,
        // as long as that leaves it one.
        for empty in 0..targets.len() {
            if !members[empty].is_empty() {
                continue;
            }
            let Some(donor) = (0..targets.len())
                .filter(|&s| members[s].len() > 1)
                .max_by_key(|&s| (members[s].len(), plan.pairs[s]))
            else {
                break;
            };
            let (position, &unit) = members[donor]
                .iter()
                .enumerate()
                .min_by_key(|&(_, &unit)| (ordered[unit].2, unit))
                .expect("the donor has units");
            members[donor].remove(position);
            plan.pairs[donor] -= ordered[unit].2;
            plan.pairs[empty] += ordered[unit].2;
            members[empty].push(unit);
        }
        for (split, units) in members.iter().enumerate() {
            plan.units[split] = units.len() as u64;
            for &unit in units {
                plan.assignment.insert(ordered[unit].1.clone(), split);
            }
        }
        plan
    }

    /// The split of the unit `key`, if it was planned.
    pub fn split_of(&self, key: &str) -> Option<usize> {
        self.assignment.get(key).copied()
    }
}

/// The key of a chunk unit: its document and its chunk.
pub fn chunk_key(document: &str, chunk: &str) -> String {
    format!("{document}\u{0}{chunk}")
}

/// Where the unit `key` comes in the order for `seed`.
fn order_key(seed: u64, key: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(key.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> SplitSpec {
        SplitSpec::parse(text).unwrap()
    }

    #[test]
    fn a_spec_reads_and_bad_ones_name_what_is_wrong() {
        assert_eq!(
            spec("train=0.9, validation=0.05,test=0.05").names(),
            ["train", "validation", "test"]
        );
        let error = |text: &str| SplitSpec::parse(text).unwrap_err().to_string();
        assert!(error("train").contains("is not NAME=FRACTION"));
        assert!(error("train=0.5,test=0.4").contains("add up to 0.9"));
        assert!(error("train=0.5,train=0.5").contains("named twice"));
        assert!(error("tr-ain=1").contains("letters, digits"));
        assert!(error("train=1.5").contains("above 0 and at most 1"));
        assert!(error("train=0,test=1").contains("above 0"));
    }

    #[test]
    fn every_split_gets_a_unit_and_the_shares_follow_the_fractions() {
        // Three documents for three splits: the largest is train's, whatever the seed.
        for seed in 0..8 {
            let three = SplitPlan::new(
                &spec("train=0.9,validation=0.05,test=0.05"),
                seed,
                [("a".into(), 30), ("b".into(), 60), ("c".into(), 9)],
            );
            assert_eq!(three.units, [1, 1, 1]);
            assert_eq!(three.split_of("b"), Some(0));
        }
        let many: Vec<(String, u64)> = (0..1000).map(|i| (format!("doc{i}"), 3)).collect();
        let plan = SplitPlan::new(&spec("train=0.8,test=0.2"), 1, many.clone());
        assert_eq!(plan.pairs, [2400, 600]);
        // Deterministic for a seed; another seed gives another assignment.
        let again = SplitPlan::new(&spec("train=0.8,test=0.2"), 1, many.clone());
        let other = SplitPlan::new(&spec("train=0.8,test=0.2"), 2, many.clone());
        let assignment = |plan: &SplitPlan| {
            many.iter()
                .map(|(key, _)| plan.split_of(key).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(assignment(&plan), assignment(&again));
        assert_ne!(assignment(&plan), assignment(&other));
    }

    #[test]
    fn units_without_pairs_are_left_out() {
        let plan = SplitPlan::new(&SplitSpec::default(), 0, [("a".into(), 0), ("b".into(), 2)]);
        assert_eq!(plan.split_of("a"), None);
        assert_eq!(plan.split_of("b"), Some(0));
    }
}
