//! Shards: N independent processes (Kubernetes pods, Slurm array tasks, machines)
//! split one corpus with no coordination between them.
//!
//! A chunk belongs to shard `hash(document stem, chunk id) mod N` (its position in the
//! file stands in for a missing chunk id), where the hash is
//! the first 8 bytes of a SHA-256: stable across machines, versions and runs, blind to
//! file order and timing, and adding documents moves no existing chunk. A sharded run
//! keeps its checkpoint and Q&A files in its own directory under the Q&A directory
//! ([`Shard::dir_name`], e.g. `shard-0003-of-0016`), so a rescheduled pod or a
//! requeued array task simply resumes there; `tdg merge` ([`crate::merge`]) joins
//! the shard directories into the files one unsharded run would have written.
//!
//! Where the index and count come from ([`Shard::resolve`]): `--shard K/N`; or
//! `--shards N` with the index the scheduler sets (`JOB_COMPLETION_INDEX` for a
//! Kubernetes Indexed Job, `SLURM_ARRAY_TASK_ID` for a Slurm job array); or, in a
//! Slurm job array, `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT` alone.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// One shard of N: this process asks the model only for the chunks it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 0 to `count - 1`.
    pub index: u32,
    pub count: u32,
}

/// Why the shard cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("{source_name} must be K/N with 0 <= K < N (e.g. 3/16), not `{text}`")]
    Malformed { source_name: String, text: String },
    #[error("{source_name} must be a whole number, not `{text}`")]
    NotANumber { source_name: String, text: String },
    #[error(
        "the shard index {index} (from {index_source}) is not below the shard count {count} (from {count_source}): give --shards N with N the number of tasks, or --shard K/N"
    )]
    IndexOutOfRange {
        index: u32,
        count: u32,
        index_source: String,
        count_source: String,
    },
    #[error(
        "--shards {count} needs this task's index: set by a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array (SLURM_ARRAY_TASK_ID); elsewhere give --shard K/{count}"
    )]
    NoIndex { count: u32 },
    #[error(
        "--shard {given} and --shards {count} disagree on the number of shards: give one of them"
    )]
    CountsDisagree { given: Shard, count: u32 },
}

impl Shard {
    /// Shard `index` of `count`; `None` unless `index < count`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index < count).then_some(Shard { index, count })
    }

    /// The shard (of `count`) that the chunk `chunk_id` of document `stem` belongs to.
    pub fn of_chunk(stem: &str, chunk_id: &str, count: u32) -> u32 {
        let mut hasher = Sha256::new();
        hasher.update(stem.as_bytes());
        hasher.update([0]);
        hasher.update(chunk_id.as_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
    }

    /// Whether this shard holds the chunk `chunk_id` of document `stem`.
    pub fn holds(&self, stem: &str, chunk_id: &str) -> bool {
        Self::of_chunk(stem, chunk_id, self.count) == self.index
    }

    /// Whether this shard holds `chunk` of document `stem`: by its chunk id, or by its
    /// position in the file when it has none.
    pub fn holds_chunk(&self, stem: &str, chunk: &crate::chunks::Chunk) -> bool {
        if chunk.chunk_id.is_empty() {
            self.holds(stem, &format!("#{}", chunk.position))
        } else {
            self.holds(stem, &chunk.chunk_id)
        }
    }

    /// The shard's directory under the Q&A directory: `shard-0003-of-0016`.
    pub fn dir_name(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }

    /// The shard a directory named by [`Shard::dir_name`] holds.
    pub fn from_dir_name(name: &str) -> Option<Shard> {
        let rest = name.strip_prefix("shard-")?;
        let (index, count) = rest.split_once("-of-")?;
        let digits = |text: &str| {
            (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
                .then(|| text.parse().ok())
                .flatten()
        };
        Shard::new(digits(index)?, digits(count)?)
    }

    /// The shard this process runs, from `--shard` (`given`), `--shards` (`count`) and
    /// the schedulers' environment; `None` for an unsharded run (also `--shard 0/1`).
    /// Returns where it came from too, for the log.
    pub fn resolve(
        given: Option<Shard>,
        count: Option<u32>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(Shard, String)>, ShardError> {
        if let Some(shard) = given {
            if let Some(count) = count.filter(|&count| count != shard.count) {
                return Err(ShardError::CountsDisagree {
                    given: shard,
                    count,
                });
            }
            return Ok((shard.count > 1).then(|| (shard, "--shard".to_string())));
        }
        let number = |name: &str| -> Result<Option<u32>, ShardError> {
            match env(name) {
                None => Ok(None),
                Some(text) => text
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| ShardError::NotANumber {
                        source_name: name.to_string(),
                        text,
                    }),
            }
        };
        // The index: Kubernetes counts from 0; a Slurm array from its first task id.
        let index = if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            Some((index, "JOB_COMPLETION_INDEX".to_string()))
        } else if let Some(task) = number("SLURM_ARRAY_TASK_ID")? {
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            Some((
                task.saturating_sub(first),
                "SLURM_ARRAY_TASK_ID".to_string(),
            ))
        } else {
            None
        };
        let count = match count {
            Some(count) => Some((count, "--shards".to_string())),
            // Slurm says how many tasks the array has; Kubernetes does not.
            None if index
                .as_ref()
                .is_some_and(|(_, from)| from.starts_with("SLURM")) =>
            {
                number("SLURM_ARRAY_TASK_COUNT")?
                    .map(|count| (count, "SLURM_ARRAY_TASK_COUNT".to_string()))
            }
            None => None,
        };
        match (index, count) {
            (_, None) => Ok(None),
            (None, Some((count, _))) if count <= 1 => Ok(None),
            (None, Some((count, _))) => Err(ShardError::NoIndex { count }),
            (Some((index, index_source)), Some((count, count_source))) => {
                let shard =
                    Shard::new(index, count).ok_or_else(|| ShardError::IndexOutOfRange {
                        index,
                        count,
                        index_source: index_source.clone(),
                        count_source: count_source.clone(),
                    })?;
                Ok((count > 1).then(|| (shard, format!("{index_source} and {count_source}"))))
            }
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `K/N`, as `--shard` takes it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || ShardError::Malformed {
            source_name: "--shard".into(),
            text: text.to_string(),
        };
        let (index, count) = text.trim().split_once('/').ok_or_else(malformed)?;
        let index = index.trim().parse().map_err(|_| malformed())?;
        let count = count.trim().parse().map_err(|_| malformed())?;
        Shard::new(index, count).ok_or_else(malformed)
    }
}

/// As `K/N`, the way `--shard` and `tdg.toml` write it.
impl serde::Serialize for Shard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Shard {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn a_chunk_s_shard_is_stable_and_the_shards_split_the_chunks_evenly() {
        // Fixed values: a change of hash would move every chunk of a running job.
        assert_eq!(
            Shard::of_chunk("GPL-3", "0_5", 16),
            Shard::of_chunk("GPL-3", "0_5", 16)
        );
        let first: Vec<u32> = (0..8)
            .map(|i| Shard::of_chunk("GPL-3", &format!("0_{i}"), 4))
            .collect();
        // The same as Python's `int.from_bytes(sha256(b"GPL-3\0" + id).digest()[:8], "big") % 4`.
        assert_eq!(first, [2, 2, 2, 2, 2, 0, 3, 0]);
        let mut counts = [0u32; 4];
        for doc in 0..50 {
            for chunk in 0..40 {
                counts[Shard::of_chunk(&format!("doc{doc}"), &format!("0_{chunk}"), 4) as usize] +=
                    1;
            }
        }
        assert!(
            counts.iter().all(|&n| (400..600).contains(&n)),
            "{counts:?}"
        );
        // The stem and the id are kept apart: "ab"+"c" is not "a"+"bc".
        let split = |stem, id| Shard::of_chunk(stem, id, 1 << 30);
        assert_ne!(split("ab", "c"), split("a", "bc"));
    }

    #[test]
    fn shards_parse_from_the_flag_and_from_directory_names() {
        assert_eq!(
            "3/16".parse(),
            Ok(Shard {
                index: 3,
                count: 16
            })
        );
        assert!("16/16".parse::<Shard>().is_err());
        assert!("3".parse::<Shard>().is_err());
        assert!("a/4".parse::<Shard>().is_err());
        let shard = Shard::new(3, 16).unwrap();
        assert_eq!(shard.dir_name(), "shard-0003-of-0016");
        assert_eq!(Shard::from_dir_name("shard-0003-of-0016"), Some(shard));
        assert_eq!(Shard::from_dir_name("shard-0016-of-0016"), None);
        assert_eq!(Shard::from_dir_name("shard-x-of-0016"), None);
        assert_eq!(Shard::from_dir_name("GPL-3_qa.json"), None);
    }

    #[test]
    fn the_schedulers_environment_gives_the_shard() {
        let resolve = |given, count, vars: &[(&str, &str)]| {
            Shard::resolve(given, count, env(vars)).map(|found| found.map(|(shard, _)| shard))
        };
        assert_eq!(resolve(None, None, &[]), Ok(None));
        // Kubernetes: the index from the environment, the count from --shards.
        assert_eq!(
            resolve(None, Some(4), &[("JOB_COMPLETION_INDEX", "2")]),
            Ok(Shard::new(2, 4))
        );
        assert_eq!(
            resolve(None, None, &[("JOB_COMPLETION_INDEX", "2")]),
            Ok(None),
            "an Indexed Job is sharded only when --shards says how many"
        );
        assert_eq!(
            resolve(None, Some(4), &[]),
            Err(ShardError::NoIndex { count: 4 })
        );
        assert!(matches!(
            resolve(None, Some(4), &[("JOB_COMPLETION_INDEX", "4")]),
            Err(ShardError::IndexOutOfRange { .. })
        ));
        // Slurm: both from the environment, counted from the array's first task.
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ];
        assert_eq!(resolve(None, None, &slurm), Ok(Shard::new(4, 8)));
        // --shard wins over the environment; one shard is no sharding.
        assert_eq!(
            resolve(Shard::new(1, 2), None, &slurm),
            Ok(Shard::new(1, 2))
        );
        assert_eq!(resolve(Shard::new(0, 1), None, &[]), Ok(None));
        assert!(matches!(
            resolve(Shard::new(1, 2), Some(3), &[]),
            Err(ShardError::CountsDisagree { .. })
        ));
        assert!(matches!(
            resolve(None, Some(4), &[("JOB_COMPLETION_INDEX", "two")]),
            Err(ShardError::NotANumber { .. })
        ));
    }
}
