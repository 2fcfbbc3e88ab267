//! The built-in default-prompt plugin, called through the host as `generate` will.

use crate::common;

use tdg::plugin::{
    ComponentCache, PluginError, PluginHost, PluginLimits, PluginSource, parser, prompt, types,
};

fn host() -> PluginHost {
    PluginHost::new(
        PluginLimits::default(),
        ComponentCache::in_dir(common::shared_cache_dir()),
    )
    .unwrap()
}

fn request(settings: types::Settings) -> prompt::PromptRequest {
    prompt::PromptRequest {
        chunk: types::Chunk {
            text: "The Apache License grants a perpetual copyright license.".into(),
            id: "0_7".into(),
            position: 7,
            index: 7,
            start: 100,
            end: 157,
            metadata_json: r#"{"source": "/data/Apache-2.0.txt", "page": 2}"#.into(),
        },
        document: types::Document {
            file_name: "Apache-2.0.txt".into(),
            source_file: "/data/Apache-2.0.txt".into(),
            file_type: ".txt".into(),
            metadata_json: r#"{"file_size": 11358}"#.into(),
        },
        settings,
    }
}

fn settings() -> types::Settings {
    types::Settings {
        questions_per_chunk: 3,
        task: types::Task::Qa,
        turns: 1,
        question_types: vec![],
        extra_instructions: None,
        system_message: None,
        user_template: None,
        user_template_name: None,
        vars: vec![],
    }
}

#[test]
fn the_default_prompt_carries_the_chunk_and_settings() {
    let plugin = host()
        .prompt_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let mut with_extra = settings();
    with_extra.extra_instructions = Some("Focus on licensing terms.".into());
    let messages = plugin.build_prompt(&request(with_extra)).unwrap();
    assert_eq!(
        messages.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(),
        ["system", "user"]
    );
    assert!(
        messages[0]
            .content
            .starts_with("You are an expert at creating question-answer pairs")
    );
    let user = &messages[1].content;
    assert!(
        user.starts_with("Generate 3 high-quality question-answer pairs"),
        "{user}"
    );
    assert!(
        user.contains("The Apache License grants a perpetual copyright license."),
        "{user}"
    );
    assert!(
        user.contains("Additional instructions:\nFocus on licensing terms."),
        "{user}"
    );
    assert!(
        user.contains("factual, analytical, explanatory and inferential"),
        "{user}"
    );
    assert!(
        user.contains(r#"{"question": "...", "answer": "...", "type": "factual"}"#),
        "{user}"
    );

    let without_extra = plugin.build_prompt(&request(settings())).unwrap();
    assert!(!without_extra[1].content.contains("Additional instructions"));
}

#[test]
fn the_default_prompt_asks_for_the_mix_of_question_types() {
    let plugin = host()
        .prompt_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let mut mix = settings();
    mix.question_types = vec![
        types::QuestionCount {
            name: "inferential".into(),
            count: 2,
        },
        types::QuestionCount {
            name: "factual".into(),
            count: 1,
        },
    ];
    let messages = plugin.build_prompt(&request(mix)).unwrap();
    let user = &messages[1].content;
    assert!(
        user.contains("- Ask exactly these types of questions: 2 inferential, 1 factual.\n"),
        "{user}"
    );
    assert!(!user.contains("Ask diverse types"), "{user}");
    assert!(
        user.contains(r#"{"question": "...", "answer": "...", "type": "inferential"}"#),
        "{user}"
    );
}

#[test]
fn a_user_template_sees_every_variable() {
    let plugin = host()
        .prompt_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let mut custom = settings();
    custom.system_message = Some("Be terse.".into());
    custom.user_template_name = Some("my_template.jinja".into());
    custom.user_template = Some(
        "{{ num_questions }}|{{ chunk.id }}|{{ chunk.position }}|{{ chunk.index }}|{{ chunk.start }}-{{ chunk.end }}|\
         {{ chunk.metadata.page }}|{{ document.file_name }}|{{ document.source_file }}|{{ document.file_type }}|\
         {{ vars.domain }}|{{ text }}"
            .into(),
    );
    custom.vars = vec![types::KeyValue {
        key: "domain".into(),
        value: "law".into(),
    }];
    let messages = plugin.build_prompt(&request(custom)).unwrap();
    assert_eq!(messages[0].content, "Be terse.");
    assert_eq!(
        messages[1].content,
        "3|0_7|7|7|100-157|2|Apache-2.0.txt|/data/Apache-2.0.txt|.txt|law|The Apache License grants a perpetual copyright license."
    );
}

#[test]
fn a_template_error_names_the_file_line_and_problem() {
    let plugin = host()
        .prompt_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let mut custom = settings();
    custom.user_template_name = Some("my_template.jinja".into());
    custom.user_template = Some("Text: {{ text }}\nAsk {{ num_qestions }} questions.".into());
    let error = plugin.build_prompt(&request(custom)).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, PluginError::Reported { .. }), "{error:?}");
    assert!(
        message.contains("template my_template.jinja:2:"),
        "{message}"
    );
    assert!(message.contains("undefined"), "{message}");
}

#[test]
fn the_default_parser_recovers_pairs_from_a_messy_answer() {
    let plugin = host()
        .parser_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let messy = "<think>Let me think.</think>\nHere you go:\n```json\n{\"qa_pairs\": [{\"question\": \"What is granted?\", \"answer\": \"A copyright license.\",},]}\n```";
    let pairs = plugin
        .parse(messy, &tdg::task::Asked::pairs(3))
        .unwrap()
        .unwrap();
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0].question, "What is granted?");
    assert_eq!(pairs[0].answer, "A copyright license.");

    let verdict = plugin
        .parse("I'm sorry, I can't do that.", &tdg::task::Asked::pairs(3))
        .unwrap();
    assert!(
        matches!(verdict, Err(parser::ParseError::NoJson(_))),
        "{verdict:?}"
    );
}
