//! Tests of `generate`'s settings resolution: option > environment > config file > default.

use super::*;
use crate::config::generate_args::DirArgs;
use crate::provider::settings::ProviderKind;

fn args(chunks: &str) -> GenerateArgs {
    GenerateArgs {
        dirs: DirArgs {
            chunks_dir: Some(chunks.into()),
            qa_dir: Some("qa".into()),
        },
        ..Default::default()
    }
}

#[test]
fn defaults_match_the_original() {
    let mut ollama = args("c");
    ollama.model.ollama_top_k = Some(40);
    let settings = ollama.resolve(|_| None).unwrap();
    assert_eq!(settings.model.provider, ProviderKind::Local);
    assert_eq!(settings.prompt.questions_per_chunk, 3);
    assert_eq!(settings.model.temperature, 0.7);
    assert_eq!(settings.model.max_tokens, 2000);
    assert_eq!(settings.model.base_urls, ["http://localhost:11434"]);
}

#[test]
fn the_embedded_engine_is_the_default_when_nothing_names_a_server() {
    let settings = args("c").resolve(|_| None).unwrap();
    assert_eq!(settings.model.provider, ProviderKind::Embedded);
    assert_eq!(
        settings.model.model,
        crate::provider::embedded::DEFAULT_MODEL
    );
    assert!(settings.model.structured, "structured by default");
    assert_eq!(
        settings.concurrency,
        crate::provider::embedded::DEFAULT_CONCURRENCY
    );
    let mut gguf = args("c");
    gguf.model.model = Some("models/small.gguf".into());
    assert_eq!(
        gguf.resolve(|_| None).unwrap().model.provider,
        ProviderKind::Embedded
    );
    // Each of the original's ways of naming a server keeps Ollama.
    let mut named = args("c");
    named.model.model = Some("qwen3:14b".into());
    let mut url = args("c");
    url.model.ollama_base_url = Some("http://gpu:11434".into());
    let mut base = args("c");
    base.model.base_url = vec!["http://gpu:11434".into()];
    let mut chosen = args("c");
    chosen.model.provider = Some("local".into());
    for args in [named, url, base, chosen] {
        let settings = args.resolve(|_| None).unwrap();
        assert_eq!(settings.model.provider, ProviderKind::Local);
        assert!(!settings.model.structured);
        assert_eq!(settings.concurrency, 16);
    }
}

#[test]
fn answers_are_quoted_by_default_only_where_the_engine_decodes_under_its_grammar() {
    assert!(args("c").resolve(|_| None).unwrap().model.quote_answers);
    let mut free = args("c");
    free.model.quote_answers = Some(false);
    assert!(!free.resolve(|_| None).unwrap().model.quote_answers);
    // Without the grammar there is nothing to quote through.
    let mut plain = args("c");
    plain.model.structured = Some(false);
    assert!(!plain.clone().resolve(|_| None).unwrap().model.quote_answers);
    plain.model.quote_answers = Some(true);
    let refused = plain.resolve(|_| None).unwrap_err().to_string();
    assert!(refused.contains("--quote-answers"), "{refused}");
    // A server provider never quotes, and refuses to be asked to.
    let mut server = args("c");
    server.model.provider = Some("local".into());
    assert!(
        !server
            .clone()
            .resolve(|_| None)
            .unwrap()
            .model
            .quote_answers
    );
    server.model.quote_answers = Some(true);
    let refused = server.resolve(|_| None).unwrap_err().to_string();
    assert!(refused.contains("embedded"), "{refused}");
}

#[test]
fn embedded_options_and_limit_are_read() {
    let mut embedded = args("c");
    embedded.model.threads = Some(1);
    embedded.model.gpu_layers = Some(12);
    embedded.run.limit = Some(5);
    embedded.model.structured = Some(false);
    let settings = embedded.resolve(|_| None).unwrap();
    assert_eq!(settings.model.embedded.threads, Some(1));
    assert_eq!(settings.model.embedded.gpu_layers, 12);
    assert_eq!(settings.limit, Some(5));
    assert!(!settings.model.structured, "--structured=false wins");
    let mut zero = args("c");
    zero.run.limit = Some(0);
    assert!(zero.resolve(|_| None).is_err());
}

#[test]
fn flags_win_over_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tdg.toml"),
        "model = \"from-file\"\nquestions_per_chunk = 9\ntemperature = 0.1\n[vars]\ndomain = \"law\"\ntone = \"formal\"\n",
    )
    .unwrap();
    let mut cli = args("c");
    cli.model.model = Some("from-flag".into());
    cli.generation.var = vec![("tone".into(), "casual".into())];
    let settings = cli
        .with_config_file(dir.path())
        .unwrap()
        .resolve(|_| None)
        .unwrap();
    assert_eq!(settings.model.model, "from-flag");
    assert_eq!(settings.prompt.questions_per_chunk, 9);
    assert_eq!(settings.model.temperature, 0.1);
    assert_eq!(
        settings.prompt.vars,
        vec![
            ("domain".into(), "law".into()),
            ("tone".into(), "casual".into())
        ]
    );
}

#[test]
fn a_mix_of_question_types_sets_the_questions_asked() {
    let mut cli = args("c");
    cli.generation.question_types = Some("factual=2,inferential=1".into());
    let settings = cli.clone().resolve(|_| None).unwrap();
    assert_eq!(settings.prompt.questions_per_chunk, 3);
    assert_eq!(
        settings.prompt.question_types.to_string(),
        "factual=2,inferential=1"
    );
    // --questions-per-chunk may be given too, if it agrees.
    cli.generation.questions_per_chunk = Some(3);
    assert!(cli.clone().resolve(|_| None).is_ok());
    cli.generation.questions_per_chunk = Some(5);
    let error = cli.resolve(|_| None).unwrap_err().to_string();
    assert_eq!(
        error,
        "--question-types must be a mix whose counts add up to --questions-per-chunk (5), or given without it: `factual=2,inferential=1` asks for 3 questions"
    );
    // Without a mix, none is asked.
    let plain = args("c").resolve(|_| None).unwrap();
    assert!(plain.prompt.question_types.is_empty());
}

#[test]
fn a_bad_mix_names_the_option_and_the_known_types() {
    let mut cli = args("c");
    cli.generation.question_types = Some("factual=2,opinion=1".into());
    let error = cli.clone().resolve(|_| None).unwrap_err().to_string();
    assert_eq!(
        error,
        "--question-types must be made of the known question types (factual, analytical, explanatory, inferential); `opinion` is not one"
    );
    let env =
        |var: &str| (var == "GENERATOR_QUESTION_TYPES").then(|| "factual=2,opinion=1".to_string());
    let error = cli.resolve(env).unwrap_err().to_string();
    assert!(
        error.starts_with("GENERATOR_QUESTION_TYPES (--question-types) must be"),
        "{error}"
    );
    let mut zero = args("c");
    zero.generation.question_types = Some("factual=0".into());
    let error = zero.resolve(|_| None).unwrap_err().to_string();
    assert!(
        error.starts_with("--question-types must be TYPE=COUNT pairs whose counts"),
        "{error}"
    );
}

#[test]
fn the_config_file_may_ask_for_a_mix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tdg.toml"),
        "question_types = \"explanatory=1, analytical=3\"\n",
    )
    .unwrap();
    let settings = args("c")
        .with_config_file(dir.path())
        .unwrap()
        .resolve(|_| None)
        .unwrap();
    assert_eq!(settings.prompt.questions_per_chunk, 4);
    assert_eq!(
        settings.prompt.question_types.names(),
        ["explanatory", "analytical"]
    );
}

#[test]
fn the_mix_and_the_number_asked_are_one_setting_across_layers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("tdg.toml"),
        "questions_per_chunk = 5\nquestion_types = \"factual=5\"\n",
    )
    .unwrap();
    // A mix on the command line replaces the file's number and mix alike.
    let mut cli = args("c");
    cli.generation.question_types = Some("factual=2,inferential=1".into());
    let settings = cli
        .with_config_file(dir.path())
        .unwrap()
        .resolve(|_| None)
        .unwrap();
    assert_eq!(settings.prompt.questions_per_chunk, 3);
    assert_eq!(
        settings.prompt.question_types.names(),
        ["factual", "inferential"]
    );
    // A number on the command line replaces the file's mix: no mix is asked.
    let mut cli = args("c");
    cli.generation.questions_per_chunk = Some(4);
    let settings = cli
        .with_config_file(dir.path())
        .unwrap()
        .resolve(|_| None)
        .unwrap();
    assert_eq!(settings.prompt.questions_per_chunk, 4);
    assert!(settings.prompt.question_types.is_empty());
}

#[test]
fn a_typo_in_the_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tdg.toml"), "questions_per_chunkk = 9\n").unwrap();
    let error = args("c")
        .with_config_file(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("tdg.toml") && error.contains("questions_per_chunkk"),
        "{error}"
    );
}

#[test]
fn a_missing_key_names_the_variable() {
    let mut cli = args("c");
    cli.model.provider = Some("gemini".into());
    let error = cli.clone().resolve(|_| None).unwrap_err().to_string();
    assert_eq!(
        error,
        "no API key for gemini: set GOOGLE_API_KEY or GEMINI_API_KEY or pass --api-key"
    );
    let settings = cli
        .resolve(|var| (var == "GEMINI_API_KEY").then(|| "g-key".to_string()))
        .unwrap();
    assert_eq!(settings.model.api_key.unwrap().expose(), "g-key");
}

#[test]
fn a_custom_base_url_needs_no_key_and_overrides_ollama_base_url() {
    let mut cli = args("c");
    cli.model.provider = Some("openai".into());
    cli.model.base_url = vec!["http://127.0.0.1:8080".into()];
    assert!(cli.resolve(|_| None).unwrap().model.api_key.is_none());
    let mut local = args("c");
    local.model.ollama_base_url = Some("http://gpu-box:11434".into());
    assert_eq!(
        local.clone().resolve(|_| None).unwrap().model.base_urls[0],
        "http://gpu-box:11434"
    );
    local.model.base_url = vec!["http://127.0.0.1:9".into()];
    assert_eq!(
        local.resolve(|_| None).unwrap().model.base_urls[0],
        "http://127.0.0.1:9"
    );
}

#[test]
fn a_bad_value_names_the_variable_it_came_from() {
    let mut cli = args("c");
    cli.run.concurrency = Some(0);
    let env = |var: &str| (var == "GENERATOR_CONCURRENCY").then(|| "0".to_string());
    let error = cli.clone().resolve(env).unwrap_err().to_string();
    assert_eq!(
        error,
        "GENERATOR_CONCURRENCY (--concurrency) must be at least 1"
    );
    let error = cli.resolve(|_| None).unwrap_err().to_string();
    assert_eq!(error, "--concurrency must be at least 1");
}

#[test]
fn answers_of_no_tokens_and_absurd_backoffs_are_refused() {
    let mut cli = args("c");
    cli.model.max_tokens = Some(0);
    let error = cli.resolve(|_| None).unwrap_err().to_string();
    assert_eq!(error, "--max-tokens must be at least 1");
    for absurd in [0, 3_600_000] {
        let mut cli = args("c");
        cli.requests.retry_base_ms = Some(absurd);
        let error = cli.resolve(|_| None).unwrap_err().to_string();
        assert!(
            error.starts_with("--retry-base-ms must be from 1 to 60000"),
            "{error}"
        );
    }
    let mut cli = args("c");
    cli.requests.retry_base_ms = Some(1);
    let settings = cli.resolve(|_| None).unwrap();
    assert_eq!(settings.model.retry.base, Duration::from_millis(1));
}

#[test]
fn only_pairs_are_quoted_and_the_tasks_set_what_is_asked() {
    let mut reasoning = args("c");
    reasoning.generation.task = Some(crate::task::Task::Reasoning);
    let settings = reasoning.clone().resolve(|_| None).unwrap();
    assert!(!settings.model.quote_answers);
    assert!(
        settings.model.reasoning,
        "a reasoning model is asked for its trace"
    );
    assert_eq!(settings.prompt.turns, 1);
    reasoning.model.quote_answers = Some(true);
    let refused = reasoning.resolve(|_| None).unwrap_err().to_string();
    assert!(refused.contains("--quote-answers"), "{refused}");
    let mut conversation = args("c");
    conversation.generation.task = Some(crate::task::Task::Conversation);
    let settings = conversation.clone().resolve(|_| None).unwrap();
    assert_eq!(settings.prompt.turns, crate::task::DEFAULT_TURNS);
    assert!(!settings.model.reasoning);
    for turns in [0, 21] {
        conversation.generation.turns = Some(turns);
        let refused = conversation
            .clone()
            .resolve(|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("--turns") && refused.contains("between 1 and 20"),
            "{refused}"
        );
    }
    let mut claude = args("c");
    claude.model.provider = Some("claude".into());
    claude.generation.task = Some(crate::task::Task::Reasoning);
    claude.generation.thinking_budget = Some(512);
    let refused = claude
        .resolve(|var| (var == "ANTHROPIC_API_KEY").then(|| "k".to_string()))
        .unwrap_err()
        .to_string();
    assert!(refused.contains("--thinking-budget"), "{refused}");
}
