//! Words as the quality gate compares them: runs of letters and digits, lower-cased,
//! each known by a 64-bit hash ([`WordId`]).
//!
//! A [`WordSet`] is a sorted vector of those ids, so a set is built with one
//! allocation, a lookup is a binary search and an overlap is a merge: no string per
//! word and no string comparisons. Two different words with the same hash would count
//! as one; at 64 bits that does not happen in texts of any realistic size.

use std::hash::Hasher;

/// A word's identity: the hash of its lower-case form.
pub type WordId = u64;

/// Words that carry no content.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
    "been", "being", "but", "by", "can", "could", "did", "do", "does", "each", "for", "from",
    "had", "has", "have", "how", "if", "in", "into", "is", "it", "its", "may", "might", "more",
    "most", "must", "no", "not", "of", "on", "one", "or", "other", "our", "shall", "should", "so",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "to", "under", "was", "we", "were", "what", "when", "where", "which", "who",
    "whom", "why", "will", "with", "would", "you", "your",
];

/// The stop words' ids, sorted.
static STOP_WORD_IDS: std::sync::LazyLock<Vec<WordId>> = std::sync::LazyLock::new(|| {
    let mut ids: Vec<WordId> = STOP_WORDS.iter().map(|word| word_id(word)).collect();
    ids.sort_unstable();
    ids
});

/// Whether the word with this id is a stop word.
pub fn is_stop_word(id: WordId) -> bool {
    STOP_WORD_IDS.binary_search(&id).is_ok()
}

/// Calls `each` with every word of `text`, lower-cased, in order. A word that is
/// already lower-case ASCII is passed as it stands; others go through one buffer.
pub fn for_each_word(text: &str, mut each: impl FnMut(&str)) {
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !word
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            each(word);
        } else if word.is_ascii() {
            lower.clear();
            lower.push_str(word);
            lower.make_ascii_lowercase();
            each(&lower);
        } else {
            each(&word.to_lowercase());
        }
    }
}

/// The id of a lower-case word.
pub fn word_id(word: &str) -> WordId {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(word.as_bytes());
    hasher.finish()
}

/// Whether a lower-case word (with this id) carries content: not a stop word, and
/// longer than one character unless it is a number ("Section 3" is not "Section 4").
pub fn is_content_word(word: &str, id: WordId) -> bool {
    (word.chars().nth(1).is_some() || word.chars().all(|c| c.is_ascii_digit())) && !is_stop_word(id)
}

/// A word reduced for matching: plural and possessive endings removed.
fn stem(word: &str) -> &str {
    word.strip_suffix("'s")
        .or_else(|| word.strip_suffix("es").filter(|w| w.len() > 3))
        .or_else(|| word.strip_suffix('s').filter(|w| w.len() > 3))
        .unwrap_or(word)
}

/// How the question checks compare words: a word's plural ending removed ([`stem`]),
/// then its first five letters, so that "terminates" finds "terminate", "modifying"
/// finds "modified" and "ports" finds "port". The *unanswered* check compares a
/// question's topic words with a quotation's this way, and the question's grounding
/// compares them with the chunk's.
pub fn match_stem(word: &str) -> &str {
    let reduced = stem(word);
    match reduced.char_indices().nth(5) {
        Some((end, _)) => &reduced[..end],
        None => reduced,
    }
}

/// The id of a lower-case word's [`match_stem`].
pub fn stem_id(word: &str) -> WordId {
    word_id(match_stem(word))
}

/// The id of a lower-case word (whose own id is `id`) reduced by [`stem`].
pub fn reduced_id(word: &str, id: WordId) -> WordId {
    let stemmed = stem(word);
    if stemmed.len() == word.len() {
        id
    } else {
        word_id(stemmed)
    }
}

/// The ids of the content words of `text`, reduced, in order and with repeats.
pub fn content_ids(text: &str) -> Vec<WordId> {
    let mut ids = Vec::new();
    for_each_word(text, |word| {
        let id = word_id(word);
        if is_content_word(word, id) {
            ids.push(reduced_id(word, id));
        }
    });
    ids
}

/// The text reduced to its lower-case words, joined by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_word(text, |word| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    });
    out
}

/// A set of words: their ids, sorted and distinct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WordSet(Vec<WordId>);

impl WordSet {
    /// The set of these ids.
    pub fn from_ids(mut ids: Vec<WordId>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        WordSet(ids)
    }

    /// The distinct words of `text`.
    pub fn of_words(text: &str) -> Self {
        let mut ids = Vec::new();
        for_each_word(text, |word| ids.push(word_id(word)));
        Self::from_ids(ids)
    }

    /// The distinct content words of `text`, reduced.
    pub fn of_content(text: &str) -> Self {
        Self::from_ids(content_ids(text))
    }

    /// The distinct [`match_stem`]s of the content words of `text`.
    pub fn of_content_stems(text: &str) -> Self {
        let mut ids = Vec::new();
        for_each_word(text, |word| {
            if is_content_word(word, word_id(word)) {
                ids.push(stem_id(word));
            }
        });
        Self::from_ids(ids)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, id: WordId) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = WordId> + '_ {
        self.0.iter().copied()
    }

    /// How many words both sets hold.
    pub fn shared(&self, other: &WordSet) -> usize {
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        let mut shared = 0;
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    a.next();
                    b.next();
                }
            }
        }
        shared
    }

    /// Whether the Jaccard similarity with `other` is at least `threshold`, as
    /// `self.jaccard(other) >= threshold` says, but without counting every shared word:
    /// sizes that rule it out are refused at once, and the count stops as soon as
    /// the words left cannot bring it to the share needed. Near misses, the common case
    /// of the duplicate check, end at their first few differing words.
    pub fn jaccard_at_least(&self, other: &WordSet, threshold: f64) -> bool {
        let (a, b) = (self.0.as_slice(), other.0.as_slice());
        let total = a.len() + b.len();
        let small = a.len().min(b.len());
        if total == 0 {
            return 1.0 >= threshold;
        }
        // The fewest shared words that reach the threshold, by the same arithmetic
        // as `jaccard` (shared ≤ small ≤ total / 2, so the divisor is never 0).
        let passes = |shared: usize| shared as f64 / (total - shared) as f64 >= threshold;
        let mut needed = (threshold * total as f64 / (1.0 + threshold))
            .ceil()
            .max(0.0) as usize;
        while needed > 0 && passes(needed - 1) {
            needed -= 1;
        }
        while needed <= small && !passes(needed) {
            needed += 1;
        }
        if needed > small {
            return false;
        }
        let (mut i, mut j, mut shared) = (0, 0, 0);
        while i < a.len() && j < b.len() && shared < needed {
            if shared + (a.len() - i).min(b.len() - j) < needed {
                return false;
            }
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += 1;
                    i += 1;
                    j += 1;
                }
            }
        }
        shared >= needed
    }

    /// Jaccard similarity: shared words over all words (1 for two empty sets).
    pub fn jaccard(&self, other: &WordSet) -> f64 {
        if self.is_empty() && other.is_empty() {
            return 1.0;
        }
        let shared = self.shared(other);
        shared as f64 / (self.len() + other.len() - shared) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaccard_at_least_agrees_with_jaccard() {
        let mut texts: Vec<String> = [
            "a b c d e f g h i j",
            "a b c d e f g h i",
            "a b c",
            "x y z",
            "",
            "a b c d e f g h i j k",
        ]
        .map(String::from)
        .to_vec();
        // Sets of every size up to 12 drawn from 14 words, overlapping by every amount.
        for size in 1..=12 {
            for shift in 0..3 {
                let words: Vec<String> = (shift..shift + size).map(|w| format!("w{w}")).collect();
                texts.push(words.join(" "));
            }
        }
        for a in &texts {
            for b in &texts {
                let (a, b) = (WordSet::of_words(a), WordSet::of_words(b));
                for threshold in [0.0, 0.5, 0.75, 0.8, 0.9, 1.0] {
                    assert_eq!(
                        a.jaccard_at_least(&b, threshold),
                        a.jaccard(&b) >= threshold,
                        "{a:?} {b:?} {threshold}"
                    );
                }
            }
        }
    }

    #[test]
    fn stop_words_are_known_by_their_ids() {
        assert!(STOP_WORDS.iter().all(|w| is_stop_word(word_id(w))));
        assert!(!is_stop_word(word_id("license")) && !is_stop_word(word_id("thee")));
    }

    #[test]
    fn words_are_lower_case_runs_of_letters_and_digits() {
        let mut seen = Vec::new();
        for_each_word("The LICENSE's §3, Ünïcode-ÉTÉ x2", |w| {
            seen.push(w.to_string())
        });
        assert_eq!(seen, ["the", "license", "s", "3", "ünïcode", "été", "x2"]);
        assert_eq!(normalize("  What IS  this? "), "what is this");
    }

    #[test]
    fn content_words_drop_stop_words_and_plural_endings() {
        let words = WordSet::of_content("The Works of the Licensor grant 3 rights");
        let expected = WordSet::from_ids(
            ["work", "licensor", "grant", "3", "right"]
                .map(word_id)
                .to_vec(),
        );
        assert_eq!(words, expected);
        assert_eq!(content_ids("rights rights a").len(), 2);
    }

    #[test]
    fn match_stems_are_the_first_five_letters_after_the_plural_ending() {
        assert_eq!(match_stem("terminates"), "termi");
        assert_eq!(match_stem("terminate"), "termi");
        assert_eq!(match_stem("modifying"), match_stem("modified"));
        assert_eq!(match_stem("ports"), "port");
        assert_eq!(match_stem("été"), "été");
        assert_eq!(match_stem("ünïcodes"), "ünïco");
        let chunk = WordSet::of_content_stems("The licenses shall terminate.");
        assert!(chunk.contains(stem_id("terminates")) && chunk.contains(stem_id("licensing")));
        assert!(
            !chunk.contains(stem_id("shall")),
            "a stop word is not content"
        );
    }

    #[test]
    fn sets_compare_like_sets_of_strings() {
        let a = WordSet::of_words("one two three four");
        let b = WordSet::of_words("three four five");
        assert_eq!(a.shared(&b), 2);
        assert!((a.jaccard(&b) - 2.0 / 5.0).abs() < 1e-12);
        assert_eq!(WordSet::of_words("One one ONE").len(), 1);
        assert!(a.contains(word_id("two")) && !a.contains(word_id("five")));
        assert_eq!(WordSet::default().jaccard(&WordSet::default()), 1.0);
    }
}
