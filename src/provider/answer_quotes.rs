//! Answers quoted from the chunk (`--quote-answers`, on by default for the embedded
//! engine). A small model asked to answer in its own words writes fluent answers the
//! text does not support: measured on SmolLM2-135M, every pair the gate kept from free
//! answers was a false statement made of the chunk's words. Decoded under a grammar
//! whose answer is one of the chunk's own sentences, an answer is supported by
//! construction, and the model only has to write the question it answers. The answer
//! comes first in each pair, so the question is written knowing its answer.
//!
//! Each pair draws its answer from its own part of the chunk (the sentences split in
//! order among the pairs), so the pairs cannot all quote the same sentence and cover
//! the chunk between them; a chunk with fewer sentences than the pairs asked gets a pair
//! per sentence.

use serde_json::{Value, json};

/// The sentences each pair's answer may quote, one pool per pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerQuotes {
    pools: Vec<Vec<String>>,
}

/// Words a quotable sentence has at the least: shorter ones are headings or fragments.
const MIN_WORDS: usize = 5;

/// First words that point back at an earlier sentence: a sentence starting so does not
/// make sense as an answer on its own.
const LEANS_ON_CONTEXT: &[&str] = &[
    "this",
    "these",
    "those",
    "it",
    "its",
    "they",
    "them",
    "such",
    "therefore",
    "thus",
    "hence",
    "however",
    "moreover",
    "furthermore",
    "also",
    "otherwise",
    "but",
    "and",
    "or",
];

impl AnswerQuotes {
    /// The quotations of `chunk` for an answer of `pairs` pairs in `max_tokens`: each
    /// within its answer's share ([`crate::provider::pair_char_budget`]) and
    /// [`Self::max_chars`].
    pub fn for_answer(chunk: &str, pairs: u32, max_tokens: u32) -> Option<AnswerQuotes> {
        let pairs = pairs.max(1);
        let (_, answer_chars) = crate::provider::pair_char_budget(max_tokens, pairs);
        let most = Self::max_chars(max_tokens, pairs).min(answer_chars as usize);
        Self::from_chunk(chunk, pairs, most)
    }

    /// These quotations cut to those that fit an answer of `max_tokens` (less room
    /// than they were chosen for); `None` when a pair would be left with none.
    pub fn within(&self, max_tokens: u32) -> Option<AnswerQuotes> {
        let pairs = self.pools.len() as u32;
        let (_, answer_chars) = crate::provider::pair_char_budget(max_tokens, pairs);
        let most = Self::max_chars(max_tokens, pairs).min(answer_chars as usize);
        let pools: Vec<Vec<String>> = self
            .pools
            .iter()
            .map(|pool| {
                pool.iter()
                    .filter(|quote| json_len(quote) <= most)
                    .cloned()
                    .collect()
            })
            .collect();
        pools
            .iter()
            .all(|pool| !pool.is_empty())
            .then_some(AnswerQuotes { pools })
    }

    /// The longest quotation, in JSON characters, when `pairs` pairs share
    /// `max_tokens`: as many characters as the pair has tokens, so that at two
    /// characters a token (quoted text costs fewer) the quotation takes at most half
    /// the pair's tokens, and its question the rest (see [`Self::question_chars`]).
    pub fn max_chars(max_tokens: u32, pairs: u32) -> usize {
        (max_tokens / pairs.max(1)).max(1) as usize
    }

    /// The most characters pair `index`'s question may take so that the pair fits in
    /// its share of `max_tokens` whatever the question is made of: a small model's
    /// question can cost a token a character (a run of digits), so the question gets
    /// what the pair's tokens leave after the JSON around it and its longest quotation
    /// at two characters a token. Between 10 and `most`.
    pub fn question_chars(&self, index: usize, max_tokens: u32, most: u32) -> u32 {
        /// Tokens of JSON around one pair: keys, quotes, braces, the type.
        const PAIR_JSON_TOKENS: usize = 25;
        let share = (max_tokens as usize / self.pools.len()).max(1);
        let longest = self
            .pool(index)
            .iter()
            .map(|q| json_len(q))
            .max()
            .unwrap_or(0);
        let left = share.saturating_sub(PAIR_JSON_TOKENS + longest.div_ceil(2));
        (left as u32).clamp(10, most.max(10))
    }

    /// The sentences of `chunk` worth quoting, at most `max_chars` long each as written
    /// in JSON (a longer
    /// sentence is split at its semicolons, then its commas), shared in order among
    /// `pairs` pools. Left out: headings, sentences leaning on the one before, the
    /// fragment a chunk may begin with (it starts in lower case) and code blocks; when
    /// that leaves nothing, any sentence of a few words will do. `None` when the chunk has
    /// not even that: its answers are then written freely.
    pub fn from_chunk(chunk: &str, pairs: u32, max_chars: usize) -> Option<AnswerQuotes> {
        let mut pieces: Vec<String> = Vec::new();
        let mut standing: Vec<String> = Vec::new();
        for sentence in crate::sentences::sentences(chunk) {
            // A chunk may begin mid-sentence, and code loses its layout in one line.
            let whole = !sentence.starts_with(char::is_lowercase) && !sentence.contains("```");
            for piece in clauses(sentence, max_chars) {
                if whole && stands_alone(&piece, max_chars) {
                    standing.push(piece.clone());
                }
                pieces.push(piece);
            }
        }
        let mut quotable: Vec<String> = Vec::new();
        for piece in &standing {
            if !quotable.contains(piece) {
                quotable.push(piece.clone());
            }
        }
        if quotable.is_empty() {
            for piece in pieces
                .iter()
                .filter(|piece| fits(piece, MIN_WORDS, max_chars))
            {
                if !quotable.contains(piece) {
                    quotable.push(piece.clone());
                }
            }
        }
        if quotable.is_empty() {
            return None;
        }
        // No more pairs than sentences: two pairs quoting one sentence are one pair.
        let pairs = (pairs.max(1) as usize).min(quotable.len());
        let pools = (0..pairs)
            .map(|i| {
                quotable[i * quotable.len() / pairs..(i + 1) * quotable.len() / pairs].to_vec()
            })
            .collect();
        Some(AnswerQuotes { pools })
    }

    /// The sentences pair `index` may quote.
    pub fn pool(&self, index: usize) -> &[String] {
        &self.pools[index.min(self.pools.len() - 1)]
    }

    /// How many pairs the answer holds: those asked, or fewer when the chunk has fewer
    /// sentences to quote.
    pub fn pairs(&self) -> usize {
        self.pools.len()
    }

    /// The pairs' item schemas, in order: the answer one of its pool's sentences, then
    /// the question, then `type` as `item` has it.
    pub fn item_schemas(&self, item: &Value) -> Vec<Value> {
        self.pools
            .iter()
            .map(|pool| {
                let mut properties = serde_json::Map::new();
                properties.insert("answer".into(), json!({ "enum": pool }));
                for (key, schema) in item["properties"].as_object().into_iter().flatten() {
                    if key != "answer" {
                        properties.insert(key.clone(), schema.clone());
                    }
                }
                let mut quoted = item.clone();
                quoted["properties"] = Value::Object(properties);
                quoted
            })
            .collect()
    }
}

/// `sentence` with its white space runs made single spaces; when it is longer than
/// `max_chars`, its `;` clauses, and a clause still too long in runs of its `,` parts
/// as long as fit. A piece cut at `;` or `,` ends with a full stop instead.
fn clauses(sentence: &str, max_chars: usize) -> Vec<String> {
    let tidy = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let whole = tidy(sentence);
    if json_len(&whole) <= max_chars {
        return vec![whole];
    }
    let mut pieces = Vec::new();
    for clause in whole.split_inclusive(';') {
        let clause = clause.trim();
        if json_len(clause) <= max_chars {
            pieces.push(clause.to_string());
            continue;
        }
        let mut run = String::new();
        for part in clause.split_inclusive(", ") {
            if !run.is_empty() && json_len(&run) + json_len(part) > max_chars {
                pieces.push(std::mem::take(&mut run));
            }
            run.push_str(part);
        }
        pieces.push(run);
    }
    pieces
        .iter()
        .map(|piece| {
            let piece = piece.trim().trim_end_matches([';', ',']);
            if piece.ends_with(['.', '!', '?']) {
                piece.to_string()
            } else {
                format!("{piece}.")
            }
        })
        .filter(|piece| piece.len() > 1)
        .collect()
}

/// The characters `text` takes in a JSON string: `"`, `\` and control characters are
/// written escaped.
fn json_len(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => 2,
            c if c.is_control() => 6,
            _ => 1,
        })
        .sum()
}

/// Whether `piece` has at least `min_words` words and at most `max_chars` characters.
fn fits(piece: &str, min_words: usize, max_chars: usize) -> bool {
    piece.split_whitespace().count() >= min_words && json_len(piece) <= max_chars
}

/// Whether `sentence` can stand alone as an answer: long enough, not too long, not a
/// heading, not leaning on the sentence before it.
fn stands_alone(sentence: &str, max_chars: usize) -> bool {
    if !fits(sentence, MIN_WORDS, max_chars) {
        return false;
    }
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let first = words[0]
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if LEANS_ON_CONTEXT.contains(&first.as_str()) {
        return false;
    }
    // A heading ("3. Protecting Users' Legal Rights From Anti-Circumvention Law.")
    // capitalises most of its longer words; a sentence does not.
    let long: Vec<&&str> = words.iter().filter(|w| w.len() >= 4).collect();
    let capitalised = long
        .iter()
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .count();
    !(long.len() >= 2 && capitalised * 3 > long.len() * 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: &str = "or contributory infringement, then any licenses granted shall terminate.\n\n\
        3. Protecting Users' Legal Rights From Anti-Circumvention Law.\n\n\
        The Licensor grants a perpetual, worldwide, royalty-free copyright license. \
        This is fundamentally incompatible with the aim of the license. \
        Patent claims are licensed\n  separately under Section 3. \
        Short one here. \
        You may convey verbatim copies of the Program's source code as you receive it.\n\n\
        ```js\nconst u = new URL('http://example.org');\n```";

    #[test]
    fn sentences_that_stand_alone_are_shared_in_order_among_the_pairs() {
        let quotes = AnswerQuotes::from_chunk(CHUNK, 2, 300).unwrap();
        assert_eq!(
            quotes.pool(0),
            ["The Licensor grants a perpetual, worldwide, royalty-free copyright license."]
        );
        // White space is made single; the fragment the chunk begins with, the heading,
        // the sentence leaning on the one before, the four-word one and the code are
        // left out.
        assert_eq!(
            quotes.pool(1),
            [
                "Patent claims are licensed separately under Section 3.",
                "You may convey verbatim copies of the Program's source code as you receive it."
            ]
        );
    }

    #[test]
    fn fewer_sentences_than_pairs_give_a_pair_each() {
        let quotes = AnswerQuotes::from_chunk(CHUNK, 5, 300).unwrap();
        assert_eq!(quotes.pairs(), 3);
        assert_eq!(quotes.pool(0).len(), 1);
        assert_ne!(quotes.pool(2), quotes.pool(0));
        assert!(AnswerQuotes::from_chunk("Two words. 4. Definitions.", 3, 300).is_none());
        // Only a heading and sentences leaning on another: those of five words or more
        // are quoted all the same.
        let leaning =
            "4. Redistribution Of Copies Made By Anyone.\n\nThis applies to each copy.\n\nIt does.";
        let quotes = AnswerQuotes::from_chunk(leaning, 3, 300).unwrap();
        assert_eq!(quotes.pairs(), 2);
        assert_eq!(quotes.pool(0), ["Redistribution Of Copies Made By Anyone."]);
        assert_eq!(quotes.pool(1), ["This applies to each copy."]);
    }

    #[test]
    fn a_long_sentence_is_quoted_by_its_clauses() {
        let long = "You may charge any price or no price for each copy that you convey; \
            you may offer support or warranty protection for a fee; \
            and you may not impose any further restrictions on the exercise of the rights.";
        let quotes = AnswerQuotes::from_chunk(long, 1, 80).unwrap();
        assert_eq!(
            quotes.pool(0),
            [
                "You may charge any price or no price for each copy that you convey.",
                "you may offer support or warranty protection for a fee.",
            ]
        );
        // A clause still too long is cut at its commas, in runs as long as fit (the
        // run starting on "or" leans on the one before).
        let commas = "No covered work shall be deemed part of an effective technological measure, \
            under any applicable law fulfilling obligations under article 11, \
            or similar laws prohibiting or restricting circumvention of such measures.";
        assert_eq!(
            AnswerQuotes::from_chunk(commas, 1, 150).unwrap().pool(0),
            [
                "No covered work shall be deemed part of an effective technological measure, under any applicable law fulfilling obligations under article 11."
            ]
        );
        assert_eq!(
            AnswerQuotes::from_chunk(long, 1, 300).unwrap().pool(0),
            [long.split_whitespace().collect::<Vec<_>>().join(" ")]
        );
    }

    #[test]
    fn less_room_keeps_only_the_quotations_that_fit_it() {
        let chunk = "The licensee may copy the program in any medium. A short one is here now. \
                     You may charge any price or no price for each copy that you convey, and you may offer support.";
        let quotes = AnswerQuotes::for_answer(chunk, 1, 2000).unwrap();
        assert_eq!(quotes.within(2000), Some(quotes.clone()));
        let small = quotes.within(60).unwrap();
        let most = AnswerQuotes::max_chars(60, 1);
        assert!(
            small.pool(0).iter().all(|q| json_len(q) <= most),
            "{small:?}"
        );
        assert!(small.pool(0).len() < quotes.pool(0).len(), "{small:?}");
        assert_eq!(quotes.within(5), None, "nothing fits in 5 tokens");
    }

    #[test]
    fn a_quotation_is_measured_as_json_writes_it() {
        // 40 characters, 44 in JSON: its four quotes are written escaped.
        let quoted = r#"The "Program" means the "work" licensed."#;
        assert_eq!(quoted.chars().count(), 40);
        assert!(AnswerQuotes::from_chunk(quoted, 1, 44).is_some());
        assert!(AnswerQuotes::from_chunk(quoted, 1, 43).is_none());
        assert_eq!(AnswerQuotes::max_chars(300, 3), 100);
    }

    #[test]
    fn a_question_gets_the_tokens_its_quotation_leaves() {
        let quotes = AnswerQuotes::from_chunk(CHUNK, 2, 300).unwrap();
        // Pair 0 quotes a 75-character sentence: of 150 tokens, 25 go to the JSON
        // around it and 38 to the quotation, leaving 87 characters for the question.
        assert_eq!(json_len(&quotes.pool(0)[0]), 75);
        assert_eq!(quotes.question_chars(0, 300, 300), 87);
        assert_eq!(quotes.question_chars(0, 300, 50), 50);
        assert_eq!(quotes.question_chars(0, 60, 300), 10);
    }

    #[test]
    fn each_pair_schema_puts_its_quotes_first() {
        let quotes = AnswerQuotes::from_chunk(CHUNK, 2, 300).unwrap();
        let item = json!({"type": "object", "properties": {
            "question": {"type": "string"}, "answer": {"type": "string"},
            "type": {"enum": ["factual"]}}});
        let items = quotes.item_schemas(&item);
        assert_eq!(items.len(), 2);
        let keys: Vec<&String> = items[1]["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["answer", "question", "type"]);
        assert_eq!(
            items[1]["properties"]["answer"]["enum"][0],
            quotes.pool(1)[0]
        );
        assert_eq!(items[0]["type"], "object");
    }
}
