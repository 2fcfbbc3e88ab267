//! A pair's question type, as the model labelled it: read leniently (any case, spaces
//! around it), kept only when it names a type that was asked for (or, when no mix was
//! asked, a type tdg knows), and otherwise dropped. A pair is never refused over its
//! type: a wrong label only leaves the pair unlabelled.

use tdg_plugin_sdk::QUESTION_TYPES;

/// The type `label` names, lower-case, if it is one of `asked` (or, with none asked,
/// one of [`QUESTION_TYPES`]); else `None`.
pub fn checked(label: Option<&str>, asked: &[String]) -> Option<String> {
    let label = label?.trim().to_lowercase();
    let allowed = if asked.is_empty() {
        QUESTION_TYPES.iter().any(|known| *known == label)
    } else {
        asked
            .iter()
            .any(|name| name.trim().eq_ignore_ascii_case(&label))
    };
    allowed.then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DefaultPrompt;
    use tdg_plugin_sdk::Parser;

    fn asked(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    /// The types the parser gives the pairs of `response`, in order.
    fn types_of(response: &str, names: &[&str]) -> Vec<Option<String>> {
        DefaultPrompt::parse(
            response.to_string(),
            tdg_plugin_sdk::ParseRequest {
                expected: 3,
                question_types: asked(names),
                task: tdg_plugin_sdk::Task::Qa,
                turns: 1,
            },
        )
        .unwrap_or_else(|e| panic!("{response:?} failed: {e:?}"))
        .into_iter()
        .map(|pair| pair.question_type)
        .collect()
    }

    #[test]
    fn labels_are_trimmed_and_lower_cased() {
        assert_eq!(checked(Some(" Factual "), &[]), Some("factual".into()));
        assert_eq!(
            checked(Some("INFERENTIAL"), &asked(&["inferential"])),
            Some("inferential".into())
        );
    }

    #[test]
    fn only_asked_types_are_kept_when_a_mix_was_asked() {
        let mix = asked(&["factual", "inferential"]);
        assert_eq!(checked(Some("factual"), &mix), Some("factual".into()));
        assert_eq!(checked(Some("analytical"), &mix), None);
        assert_eq!(checked(Some("opinion"), &mix), None);
        assert_eq!(checked(None, &mix), None);
    }

    #[test]
    fn without_a_mix_any_known_type_is_kept() {
        for known in QUESTION_TYPES {
            assert_eq!(checked(Some(known), &[]), Some(known.to_string()));
        }
        assert_eq!(checked(Some("opinion"), &[]), None);
        assert_eq!(checked(Some(""), &[]), None);
    }

    #[test]
    fn the_parser_reads_type_and_question_type_fields() {
        let response = r#"[
            {"question": "Q1", "answer": "A1", "type": "Factual"},
            {"question": "Q2", "answer": "A2", "Question_Type": "inferential"},
            {"question": "Q3", "answer": "A3"}
        ]"#;
        assert_eq!(
            types_of(response, &[]),
            [Some("factual".into()), Some("inferential".into()), None]
        );
    }

    #[test]
    fn a_wrong_type_never_costs_the_pair() {
        let response = r#"[
            {"question": "Q1", "answer": "A1", "type": "analytical"},
            {"question": "Q2", "answer": "A2", "type": "opinion"},
            {"question": "Q3", "answer": "A3", "type": ["factual"]},
            {"question": "Q4", "answer": "A4", "type": "factual"}
        ]"#;
        assert_eq!(
            types_of(response, &["factual"]),
            [None, None, None, Some("factual".into())]
        );
    }
}
