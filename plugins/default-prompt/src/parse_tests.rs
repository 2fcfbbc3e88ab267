//! The parser on the answers real models send, case by case.
use super::*;

fn pairs(response: &str) -> Vec<(String, String)> {
    parse_pairs(response)
        .unwrap_or_else(|e| panic!("{response:?} failed: {e:?}"))
        .into_iter()
        .map(|pair| (pair.question, pair.answer))
        .collect()
}

fn qa(q: &str, a: &str) -> (String, String) {
    (q.to_string(), a.to_string())
}

#[test]
fn plain_array() {
    assert_eq!(
        pairs(r#"[{"question": "Q1", "answer": "A1"}, {"question": "Q2", "answer": "A2"}]"#),
        vec![qa("Q1", "A1"), qa("Q2", "A2")]
    );
}

#[test]
fn think_block_fence_and_prose() {
    let response = "<think>I could write [{\"question\": \"no\", \"answer\": \"no\"}]</think>\nSure! Here they are:\n```json\n[{\"question\": \" Q1 \", \"answer\": \"A1\"}]\n```\nHope this helps [1].";
    assert_eq!(pairs(response), vec![qa("Q1", "A1")]);
}

#[test]
fn unclosed_think_block_has_no_json() {
    assert!(matches!(
        parse_pairs("<think>[{\"question\": \"x\", \"answer\": \"y\"}]"),
        Err(ParseError::NoJson(_))
    ));
}

#[test]
fn object_holding_the_list() {
    assert_eq!(
        pairs(r#"{"qa_pairs": [{"question": "Q1", "answer": "A1"}]}"#),
        vec![qa("Q1", "A1")]
    );
}

#[test]
fn objects_not_wrapped_in_an_array() {
    assert_eq!(
        pairs(
            "{\"question\": \"Q1\", \"answer\": \"A1\"},\n{\"question\": \"Q2\", \"answer\": \"A2\"}\n"
        ),
        vec![qa("Q1", "A1"), qa("Q2", "A2")]
    );
}

#[test]
fn trailing_commas_raw_newlines_and_wrong_closer() {
    let response = "[{\"question\": \"Q1\", \"answer\": \"line one\nline two\",}, {\"question\": \"Q2\", \"answer\": \"A2\"},}";
    assert_eq!(
        pairs(response),
        vec![qa("Q1", "line one\nline two"), qa("Q2", "A2")]
    );
}

#[test]
fn truncated_output_keeps_complete_pairs() {
    let response =
        r#"[{"question": "Q1", "answer": "A1"}, {"question": "Q2", "answer": "A2 was cut"#;
    assert_eq!(pairs(response), vec![qa("Q1", "A1")]);
    let wrapped = r#"{"qa_pairs": [{"question": "Q1", "answer": "A1"}, {"question": "Q2""#;
    assert_eq!(pairs(wrapped), vec![qa("Q1", "A1")]);
}

#[test]
fn missing_commas_are_repaired() {
    let response =
        "[{\"question\": \"Q1\", \"answer\": \"A1\"}\n{\"question\": \"Q2\", \"answer\": \"A2\"}]";
    assert_eq!(pairs(response), vec![qa("Q1", "A1"), qa("Q2", "A2")]);
}

#[test]
fn empty_pairs_are_dropped_and_all_empty_is_an_error() {
    assert_eq!(
        pairs(r#"[{"question": "  ", "answer": "A"}, {"question": "Q", "answer": "A"}]"#),
        vec![qa("Q", "A")]
    );
    assert!(matches!(
        parse_pairs(r#"[{"question": "", "answer": ""}]"#),
        Err(ParseError::NoPairs(_))
    ));
}

#[test]
fn wrong_shape_and_no_json() {
    assert!(matches!(
        parse_pairs(r#"{"summary": "no pairs here"}"#),
        Err(ParseError::WrongShape(_))
    ));
    assert!(matches!(
        parse_pairs("I cannot help with that."),
        Err(ParseError::NoJson(_))
    ));
}

fn request(task: Task) -> ParseRequest {
    ParseRequest {
        expected: 1,
        question_types: Vec::new(),
        task,
        turns: 3,
    }
}

#[test]
fn the_reasoning_task_keeps_a_pair_s_reasoning_field_or_else_the_think_block() {
    let own = r#"[{"question": "Q", "reasoning": " Step one. ", "answer": "A"}]"#;
    let parsed = DefaultPrompt::parse(own.into(), request(Task::Reasoning)).unwrap();
    assert_eq!(parsed[0].reasoning.as_deref(), Some("Step one."));
    let think = "<think>\nThe text says A.\n</think>\n[{\"question\": \"Q\", \"answer\": \"A\"}]";
    let parsed = DefaultPrompt::parse(think.into(), request(Task::Reasoning)).unwrap();
    assert_eq!(parsed[0].reasoning.as_deref(), Some("The text says A."));
    assert_eq!(parsed[0].answer, "A");
    // The qa task throws reasoning away, as before there were tasks.
    let parsed = DefaultPrompt::parse(think.into(), request(Task::Qa)).unwrap();
    assert_eq!(parsed[0].reasoning, None);
    let parsed = DefaultPrompt::parse(own.into(), request(Task::Qa)).unwrap();
    assert_eq!(parsed[0].reasoning, None);
}

#[test]
fn the_conversation_task_keeps_the_follow_ups_up_to_the_first_gap() {
    let answer = r#"[{"question": "Q1", "answer": "A1", "follow_ups": [
        {"question": " Q2 ", "answer": "A2"},
        {"user": "Q3", "assistant": "A3"},
        {"question": "Q4", "answer": ""},
        {"question": "Q5", "answer": "A5"}]}]"#;
    let parsed = DefaultPrompt::parse(answer.into(), request(Task::Conversation)).unwrap();
    let exchanges: Vec<_> = parsed[0].exchanges().collect();
    assert_eq!(exchanges, vec![("Q1", "A1"), ("Q2", "A2"), ("Q3", "A3")]);
    let parsed = DefaultPrompt::parse(answer.into(), request(Task::Qa)).unwrap();
    assert!(parsed[0].follow_ups.is_empty());
}
