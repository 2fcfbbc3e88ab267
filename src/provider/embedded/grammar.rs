//! Structured output by construction: answers are decoded under a grammar made
//! from the answer's schema (pairs, or the judge's scores) (llama.cpp's JSON-schema-to-grammar), with the array bounded
//! to the pairs asked, so every answer parses. The strings are bounded too, to what
//! fits in `--max-tokens`: a small model can otherwise run one answer on until the
//! token limit cuts the JSON off.
//!
//! Checking the whole vocabulary against the grammar at every token is slow, so the
//! sampler does what llama.cpp's own does: it samples without the grammar, checks
//! that one token, and only if the grammar rejects it samples again over the
//! grammar-filtered vocabulary.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use serde_json::Value;

use crate::provider::schema::{CHARS_PER_TOKEN, pair_char_budget};
use crate::provider::{AnswerQuotes, AnswerSchema, ExampleShape};

/// The GBNF grammar of `answer`. For pairs, the strings are bounded so that they fit
/// in `max_tokens` together; with `quotes`, each pair's answer is one of its pool's
/// sentences, written before its question.
pub(super) fn answer_grammar(
    answer: AnswerSchema,
    max_tokens: u32,
    quotes: Option<&AnswerQuotes>,
) -> Result<String, String> {
    let answer = match answer {
        AnswerSchema::PairsExactly(pairs, types, shape) => {
            AnswerSchema::PairsExactly(pairs.max(1), types, shape)
        }
        other => other,
    };
    let mut schema = answer.json();
    match answer {
        AnswerSchema::PairsExactly(pairs, _, shape) => {
            // Each exchange (and a reasoning, which takes an answer's share) gets its
            // part of the budget.
            let parts = match shape {
                ExampleShape::Reasoning => 2,
                shape => shape.exchanges(),
            };
            let (question, answer) = pair_char_budget(max_tokens, pairs * parts);
            let array = &mut schema["properties"]["qa_pairs"];
            let item = &mut array["items"]["properties"];
            item["question"]["maxLength"] = question.into();
            item["answer"]["maxLength"] = answer.into();
            if shape == ExampleShape::Reasoning {
                item["reasoning"]["maxLength"] = answer.into();
            }
            if let ExampleShape::FollowUps(_) = shape {
                let turn = &mut item["follow_ups"]["items"]["properties"];
                turn["question"]["maxLength"] = question.into();
                turn["answer"]["maxLength"] = answer.into();
            }
            // Answers are quoted only for pairs.
            if let Some(quotes) = quotes.filter(|_| shape == ExampleShape::Pair) {
                let mut items = quotes.item_schemas(&array["items"]);
                for (index, item) in items.iter_mut().enumerate() {
                    item["properties"]["question"]["maxLength"] =
                        quotes.question_chars(index, max_tokens, question).into();
                }
                array["prefixItems"] = Value::Array(items);
                if let Some(array) = array.as_object_mut() {
                    array.remove("items");
                }
            }
        }
        AnswerSchema::JudgeScores => {
            // Three scores and the keys take about 60 characters; the explanation
            // gets what is left of `max_tokens`.
            let explanation = (max_tokens * CHARS_PER_TOKEN)
                .saturating_sub(80)
                .clamp(1, 600);
            schema["properties"]["explanation"]["maxLength"] = explanation.into();
        }
        AnswerSchema::Pairs => {}
    }
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|e| format!("cannot make a grammar from the answer's schema: {e}"))?;
    Ok(one_space_at_most(&grammar))
}

/// `grammar` with the white space between JSON tokens bounded to one space. llama.cpp's
/// converter allows up to two newlines and twenty spaces or tabs there, and a small
/// model spends its `--max-tokens` on indentation until the JSON is cut off.
fn one_space_at_most(grammar: &str) -> String {
    grammar
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                r#"space ::= " "?"#
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Picks each next token of one sequence.
pub(super) struct AnswerSampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl AnswerSampler {
    /// Top-k, top-p and temperature sampling (greedy at temperature 0), under
    /// `grammar` if given.
    pub fn new(
        model: &LlamaModel,
        grammar: Option<&str>,
        temperature: f32,
    ) -> Result<Self, String> {
        let chain = if temperature <= 0.0 {
            LlamaSampler::greedy()
        } else {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(40),
                LlamaSampler::top_p(0.95, 1),
                LlamaSampler::temp(temperature),
                LlamaSampler::dist(fastrand::u32(..)),
            ])
        };
        let grammar = match grammar {
            Some(gbnf) => Some(
                LlamaSampler::grammar(model, gbnf, "root")
                    .map_err(|e| format!("llama.cpp rejected the answer grammar: {e}"))?,
            ),
            None => None,
        };
        Ok(AnswerSampler { chain, grammar })
    }

    /// Samples the token for the logits at `index` of the last batch, and accepts it.
    pub fn sample(&mut self, context: &LlamaContext<'_>, index: i32) -> Result<LlamaToken, String> {
        let Some(grammar) = &mut self.grammar else {
            return Ok(self.chain.sample(context, index));
        };
        let mut candidates = context.token_data_array_ith(index);
        candidates.apply_sampler(&mut self.chain);
        let mut token = candidates
            .selected_token()
            .ok_or("the sampler chose no token")?;
        let mut check = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
        check.apply_sampler(grammar);
        if !check.data[0].logit().is_finite() {
            let mut candidates = context.token_data_array_ith(index);
            candidates.apply_sampler(grammar);
            candidates.apply_sampler(&mut self.chain);
            token = candidates
                .selected_token()
                .ok_or("the grammar allows no next token")?;
        }
        grammar
            .try_accept(token)
            .map_err(|e| format!("the grammar refused the sampled token: {e}"))?;
        self.chain.accept(token);
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::TypeSet;

    #[test]
    fn the_grammar_bounds_the_pairs_and_their_strings() {
        let array = |grammar: &str| {
            grammar
                .lines()
                .find(|line| line.starts_with("qa-pairs ::="))
                .unwrap_or_else(|| panic!("no array rule: {grammar}"))
                .to_string()
        };
        // Three items: the first, then exactly two more after commas.
        let grammar = answer_grammar(
            AnswerSchema::PairsExactly(3, TypeSet::ALL, ExampleShape::Pair),
            600,
            None,
        )
        .unwrap();
        assert!(array(&grammar).contains("{2,2}"), "{}", array(&grammar));
        let one = answer_grammar(
            AnswerSchema::PairsExactly(1, TypeSet::ALL, ExampleShape::Pair),
            600,
            None,
        )
        .unwrap();
        assert!(!array(&one).contains('{'), "{}", array(&one));
        // 600 tokens for 3 pairs: 535 characters each, a quarter for the question.
        assert!(grammar.contains("{0,133}"), "{grammar}");
        assert!(grammar.contains("{0,402}"), "{grammar}");
        // No pairs asked is one pair, not an empty array.
        let none = answer_grammar(
            AnswerSchema::PairsExactly(0, TypeSet::ALL, ExampleShape::Pair),
            600,
            None,
        )
        .unwrap();
        assert_eq!(array(&none), array(&one));
    }

    #[test]
    fn the_judge_grammar_allows_only_scores_from_0_to_10() {
        let grammar = answer_grammar(AnswerSchema::JudgeScores, 200, None).unwrap();
        for key in ["accuracy", "completeness", "consistency", "explanation"] {
            assert!(grammar.contains(key), "{key}: {grammar}");
        }
        assert!(!grammar.contains("qa-pairs"), "{grammar}");
        // Integers from 0 to 10: a single digit, or 10.
        assert!(grammar.contains("\"10\""), "{grammar}");
        // The explanation fits in what 200 tokens leave after the scores.
        assert!(grammar.contains("{0,520}"), "{grammar}");
    }

    #[test]
    fn quoted_answers_are_the_pools_sentences_before_each_question() {
        let chunk = "The Licensor grants a \"perpetual\" copyright license to you. \
            Patent claims are licensed separately under Section 3 of it.";
        let quotes = AnswerQuotes::from_chunk(chunk, 2, 300).unwrap();
        let grammar = answer_grammar(
            AnswerSchema::PairsExactly(2, TypeSet::ALL, ExampleShape::Pair),
            600,
            Some(&quotes),
        )
        .unwrap();
        // Two items, each with its own sentence as the only answer, quotes escaped
        // for JSON and then for GBNF.
        let first = r#"\"The Licensor grants a \\\"perpetual\\\" copyright license to you.\""#;
        assert!(grammar.contains(first), "{grammar}");
        assert!(grammar.contains("Patent claims are licensed separately under Section 3 of it."));
        let item_rules: Vec<&str> = grammar
            .lines()
            .filter(|line| line.starts_with("qa-pairs-tuple-") && line.contains("answer-kv \",\""))
            .collect();
        assert_eq!(item_rules.len(), 2, "{grammar}");
        for rule in item_rules {
            let (answer, question) = (rule.find("answer").unwrap(), rule.find("question").unwrap());
            assert!(answer < question, "the answer comes first: {rule}");
        }
        // Between JSON tokens, one space at the most.
        assert!(
            grammar.lines().any(|line| line == r#"space ::= " "?"#),
            "{grammar}"
        );
        // Each tuple item's answer has one sentence only.
        let answers = grammar
            .lines()
            .filter(|line| line.contains("-answer ::= (\"\\\""));
        assert_eq!(
            answers.filter(|line| !line.contains(" | ")).count(),
            2,
            "{grammar}"
        );
    }
}
