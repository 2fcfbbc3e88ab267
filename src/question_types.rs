//! The question types a pair may have and the mix of them a run asks for
//! (`--question-types factual=2,inferential=1`). Ground-floor vocabulary: the
//! settings, the prompt, the answer schema and the plugin host's check of a pair's
//! recorded type all read it, so it imports none of them.

/// The question types a mix may ask for (`--question-types`), and the only names a
/// pair's recorded type may have.
pub const QUESTION_TYPES: [&str; 4] = ["factual", "analytical", "explanatory", "inferential"];

/// How many questions of each type to ask for per chunk (`--question-types
/// factual=2,inferential=1`), in the order given. Empty means no mix: the prompt asks
/// for diverse types, and the pairs asked for are `questions_per_chunk`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuestionMix {
    counts: Vec<(String, u32)>,
}

/// Why a `--question-types` value cannot be read. Each message is the rule the value
/// breaks, worded to follow "`--question-types` must be".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuestionMixError {
    #[error("TYPE=COUNT pairs separated by commas, such as factual=2,inferential=1; `{0}` is not")]
    NotAPair(String),
    #[error("made of the known question types ({known}); `{0}` is not one", known = QUESTION_TYPES.join(", "))]
    UnknownType(String),
    #[error("TYPE=COUNT pairs whose counts are whole numbers of at least 1; `{0}` is not")]
    BadCount(String),
    #[error("a list that names each type once; `{0}` is named twice")]
    Repeated(String),
    #[error("a mix of at most {} questions in all", u32::MAX)]
    TooMany,
}

impl QuestionMix {
    /// Reads `factual=2, inferential=1` (names in any case; spaces around parts are
    /// ignored). Every name must be one of [`QUESTION_TYPES`], named once, with a count
    /// of at least 1.
    pub fn parse(text: &str) -> Result<Self, QuestionMixError> {
        let mut counts: Vec<(String, u32)> = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            let Some((name, count)) = part.split_once('=') else {
                return Err(QuestionMixError::NotAPair(part.to_string()));
            };
            let name = name.trim().to_lowercase();
            if !QUESTION_TYPES.contains(&name.as_str()) {
                return Err(QuestionMixError::UnknownType(name));
            }
            let count = count.trim();
            let count = count
                .parse::<u32>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| QuestionMixError::BadCount(count.to_string()))?;
            if counts.iter().any(|(known, _)| *known == name) {
                return Err(QuestionMixError::Repeated(name));
            }
            counts.push((name, count));
        }
        let mix = QuestionMix { counts };
        mix.checked_total().ok_or(QuestionMixError::TooMany)?;
        Ok(mix)
    }

    /// Whether no mix was asked for.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Each type with its count, in the order given.
    pub fn counts(&self) -> &[(String, u32)] {
        &self.counts
    }

    /// The types' names, in the order given.
    pub fn names(&self) -> Vec<String> {
        self.counts.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The questions asked for in all.
    pub fn total(&self) -> u32 {
        self.checked_total().unwrap_or(u32::MAX)
    }

    fn checked_total(&self) -> Option<u32> {
        self.counts
            .iter()
            .try_fold(0u32, |sum, (_, count)| sum.checked_add(*count))
    }
}

impl std::fmt::Display for QuestionMix {
    /// The mix as `--question-types` takes it: `factual=2,inferential=1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(name, count)| format!("{name}={count}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_is_read_in_the_order_given_and_sums_to_the_questions() {
        let mix = QuestionMix::parse(" Factual = 2, inferential=1 ").unwrap();
        assert_eq!(
            mix.counts(),
            [("factual".to_string(), 2), ("inferential".to_string(), 1)]
        );
        assert_eq!(mix.total(), 3);
        assert_eq!(mix.names(), ["factual", "inferential"]);
        assert_eq!(mix.to_string(), "factual=2,inferential=1");
        assert_eq!(QuestionMix::parse(&mix.to_string()).unwrap(), mix);
    }

    #[test]
    fn a_bad_mix_says_what_is_wrong() {
        let error = |text: &str| QuestionMix::parse(text).unwrap_err();
        assert_eq!(
            error("factual=2,opinion=1"),
            QuestionMixError::UnknownType("opinion".into())
        );
        assert!(
            error("opinion=1")
                .to_string()
                .contains("factual, analytical, explanatory, inferential")
        );
        for bad in ["factual=0", "factual=-1", "factual=two", "factual="] {
            assert!(matches!(error(bad), QuestionMixError::BadCount(_)), "{bad}");
        }
        assert_eq!(
            error("factual"),
            QuestionMixError::NotAPair("factual".into())
        );
        assert_eq!(error(""), QuestionMixError::NotAPair(String::new()));
        assert_eq!(
            error("factual=1,FACTUAL=2"),
            QuestionMixError::Repeated("factual".into())
        );
        assert_eq!(
            error("factual=4294967295,inferential=1"),
            QuestionMixError::TooMany
        );
    }
}
