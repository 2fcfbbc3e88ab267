//! The cost of one call to each built-in plugin role, in microseconds, everything
//! included: a fresh instance in a fresh sandboxed store, copying the arguments in
//! and the results out, and (for the prompt) the host-side template render.
//!
//! Run: `cargo bench --bench plugin_calls` (add `-- ITERATIONS` to change the count).

use std::time::{Duration, Instant};

use tdg::plugin::{ComponentCache, PluginHost, PluginLimits, PluginSource, format, prompt, types};

fn main() {
    let iterations: u32 = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2000);
    let cache = std::env::temp_dir().join("tdg-bench-cache");
    let host = PluginHost::new(PluginLimits::default(), ComponentCache::in_dir(cache))
        .expect("engine starts");

    let started = Instant::now();
    let prompt_plugin = host
        .prompt_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let parser_plugin = host
        .parser_plugin(&PluginSource::parse("default-prompt").unwrap())
        .unwrap();
    let format_plugin = host
        .format_plugin(&PluginSource::parse("alpaca").unwrap())
        .unwrap();
    println!(
        "loading the three roles (warm cache): {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let request = prompt_request();
    let response = model_response();
    let example = training_example();

    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "call", "mean µs", "p50 µs", "p99 µs"
    );
    report("prompt.build-prompt", iterations, || {
        prompt_plugin.build_prompt(&request).unwrap();
    });
    report("parser.parse (3 pairs)", iterations, || {
        assert_eq!(
            parser_plugin
                .parse(&response, &tdg::task::Asked::pairs(3))
                .unwrap()
                .unwrap()
                .len(),
            3
        );
    });
    report("format.format-example", iterations, || {
        format_plugin.format_example(&example, &[]).unwrap();
    });
}

/// Times `call` `iterations` times (after a warm-up) and prints mean, p50 and p99.
fn report(name: &str, iterations: u32, mut call: impl FnMut()) {
    for _ in 0..iterations / 10 {
        call();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    samples.sort();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64;
    let at = |q: f64| micros(samples[((samples.len() - 1) as f64 * q) as usize]);
    println!(
        "{name:<28} {mean:>10.1} {:>10.1} {:>10.1}",
        at(0.5),
        at(0.99)
    );
}

fn prompt_request() -> prompt::PromptRequest {
    prompt::PromptRequest {
        chunk: types::Chunk {
            text: "Subject to the terms and conditions of this License, each Contributor hereby grants to You a \
                   perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license to \
                   reproduce, prepare Derivative Works of, publicly display, publicly perform, sublicense, and \
                   distribute the Work and such Derivative Works in Source or Object form."
                .repeat(3),
            id: "0_3".into(),
            position: 3,
            index: 3,
            start: 2400,
            end: 3380,
            metadata_json: r#"{"source": "/data/incoming/Apache-2.0.txt"}"#.into(),
        },
        document: types::Document {
            file_name: "Apache-2.0.txt".into(),
            source_file: "/data/incoming/Apache-2.0.txt".into(),
            file_type: ".txt".into(),
            metadata_json: r#"{"file_size": 11358}"#.into(),
        },
        settings: types::Settings {
            questions_per_chunk: 3,
            task: types::Task::Qa,
            turns: 1,
            question_types: vec![],
            extra_instructions: None,
            system_message: None,
            user_template: None,
            user_template_name: None,
            vars: vec![],
        },
    }
}

fn model_response() -> String {
    r#"```json
[
  {"question": "What kind of license does each Contributor grant?", "answer": "A perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license."},
  {"question": "What may licensees do with Derivative Works?", "answer": "Reproduce, prepare, publicly display, publicly perform, sublicense and distribute them."},
  {"question": "In which forms may the Work be distributed?", "answer": "In Source or Object form."}
]
```"#
        .to_string()
}

fn training_example() -> format::TrainingExample {
    format::TrainingExample {
        question: "What kind of license does each Contributor grant?".into(),
        answer: "A perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license.".into(),
        reasoning: None,
        reasoning_style: format::ReasoningStyle::Think,
        follow_ups: Vec::new(),
        source_text: "Subject to the terms and conditions of this License...".into(),
        provenance: format::Provenance {
            source_file: "/data/incoming/Apache-2.0.txt".into(),
            file_name: "Apache-2.0.txt".into(),
            file_type: ".txt".into(),
            chunk_id: "0_3".into(),
            chunk_index: 3,
            chunk_start: 2400,
            chunk_end: 3380,
        },
    }
}
