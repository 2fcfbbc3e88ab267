//! A hostile plugin cannot escape its sandbox or outlive its limits, and no failure
//! poisons the calls after it.

use crate::common;

use std::time::{Duration, Instant};

use tdg::plugin::{
    CallFailure, ComponentCache, FormatPlugin, PluginError, PluginHost, PluginLimits, PluginSource,
    Role, format,
};

fn hostile(limits: PluginLimits) -> FormatPlugin {
    let host = PluginHost::new(limits, ComponentCache::in_dir(common::shared_cache_dir())).unwrap();
    host.format_plugin(&PluginSource::File(common::test_plugin("hostile")))
        .unwrap()
}

fn small_limits() -> PluginLimits {
    PluginLimits {
        memory_bytes: 16 << 20,
        time: Duration::from_millis(300),
    }
}

fn example(question: &str, answer: &str) -> format::TrainingExample {
    format::TrainingExample {
        question: question.into(),
        answer: answer.into(),
        reasoning: None,
        reasoning_style: format::ReasoningStyle::Think,
        follow_ups: Vec::new(),
        source_text: String::new(),
        provenance: format::Provenance {
            source_file: String::new(),
            file_name: String::new(),
            file_type: String::new(),
            chunk_id: "0_0".into(),
            chunk_index: 0,
            chunk_start: 0,
            chunk_end: 0,
        },
    }
}

fn call(plugin: &FormatPlugin, question: &str) -> Result<serde_json::Value, PluginError> {
    plugin.format_example(&example(question, ""), &[])
}

fn assert_healthy(plugin: &FormatPlugin) {
    assert_eq!(
        call(plugin, "hello").unwrap(),
        serde_json::json!({"echo": "hello"})
    );
}

#[test]
fn a_trap_fails_that_call_only() {
    let plugin = hostile(small_limits());
    let error = call(&plugin, "trap").unwrap_err();
    match &error {
        PluginError::Call {
            role: Role::Format,
            cause: CallFailure::Trap(_),
            name,
        } => {
            assert!(name.ends_with("tdg_test_plugin_hostile.wasm"), "{name}")
        }
        other => panic!("expected a trap, got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("(format) trapped"), "{message}");
    assert_healthy(&plugin);
}

#[test]
fn an_endless_loop_is_stopped_at_the_time_limit() {
    let plugin = hostile(small_limits());
    let started = Instant::now();
    let error = call(&plugin, "loop").unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            PluginError::Call {
                cause: CallFailure::Timeout { limit_ms: 300 },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("--plugin-timeout-ms"), "{error}");
    // Stopped by the limit, not by anything else: it ran at least that long.
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert_healthy(&plugin);
}

#[test]
fn unbounded_allocation_hits_the_memory_cap() {
    let plugin = hostile(small_limits());
    let error = call(&plugin, "alloc").unwrap_err();
    assert!(
        matches!(
            error,
            PluginError::Call {
                cause: CallFailure::OutOfMemory { limit_mib: 16 },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("--plugin-memory-mb"), "{error}");
    assert_healthy(&plugin);
}

#[test]
fn the_file_system_is_out_of_reach() {
    let plugin = hostile(small_limits());
    let error = call(&plugin, "file").unwrap_err();
    match error {
        PluginError::Reported { message, .. } => {
            assert!(message.starts_with("file denied"), "{message}")
        }
        other => panic!("expected the plugin to be denied, got {other:?}"),
    }
    assert_healthy(&plugin);
}

#[test]
fn the_environment_is_empty() {
    // SAFETY: set before any thread of this test reads the environment; the value
    // must not reach the plugin.
    unsafe { std::env::set_var("TDG_TEST_SECRET", "sk-should-never-leak") };
    let plugin = hostile(small_limits());
    let error = call(&plugin, "env").unwrap_err();
    match error {
        PluginError::Reported { message, .. } => {
            assert!(message.starts_with("env denied: 0 variables"), "{message}");
            assert!(!message.contains("sk-should-never-leak"));
        }
        other => panic!("expected the plugin to be denied, got {other:?}"),
    }
}

#[test]
fn the_clock_is_frozen() {
    let plugin = hostile(small_limits());
    assert_eq!(
        call(&plugin, "clock").unwrap(),
        serde_json::json!({"clock_secs": 0})
    );
}

#[test]
fn the_network_is_out_of_reach() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let plugin = hostile(small_limits());
    let error = plugin
        .format_example(&example("network", &address), &[])
        .unwrap_err();
    match error {
        PluginError::Reported { message, .. } => {
            assert!(message.starts_with("network denied"), "{message}")
        }
        other => panic!("expected the plugin to be denied, got {other:?}"),
    }
}

#[test]
fn printing_is_captured_not_fatal() {
    let plugin = hostile(small_limits());
    assert_eq!(
        call(&plugin, "print").unwrap(),
        serde_json::json!({"printed": true})
    );
}

#[test]
fn many_failures_in_a_row_leave_the_plugin_usable() {
    let plugin = hostile(PluginLimits {
        memory_bytes: 16 << 20,
        time: Duration::from_millis(100),
    });
    for question in ["trap", "alloc", "loop", "trap", "file", "alloc"] {
        assert!(call(&plugin, question).is_err(), "{question} should fail");
        assert_healthy(&plugin);
    }
}

#[test]
fn a_plugin_without_the_role_is_rejected_at_load_time() {
    let host = PluginHost::new(
        small_limits(),
        ComponentCache::in_dir(common::shared_cache_dir()),
    )
    .unwrap();
    let error = host
        .prompt_plugin(&PluginSource::File(common::test_plugin("hostile")))
        .err()
        .expect("the hostile plugin fills only the format and loader roles");
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PluginError::MissingRole {
                role: Role::Prompt,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(message.contains("`tdg:plugin/format@0.3.0`"), "{message}");
    assert!(message.contains("`tdg:plugin/prompt@0.3.0`"), "{message}");
    assert!(message.contains("prompt-plugin"), "{message}");
}

#[test]
fn a_core_module_is_rejected_at_load_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("core.wasm");
    // The smallest valid core module: the magic and version 1.
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let host = PluginHost::new(small_limits(), ComponentCache::disabled()).unwrap();
    let error = host.format_plugin(&PluginSource::File(path)).err().unwrap();
    assert!(matches!(error, PluginError::CoreModule { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("core WebAssembly module, not a component"),
        "{error}"
    );
}

#[test]
fn a_missing_file_names_its_path() {
    let host = PluginHost::new(small_limits(), ComponentCache::disabled()).unwrap();
    let error = host
        .format_plugin(&PluginSource::File("/nonexistent/plugin.wasm".into()))
        .err()
        .unwrap();
    assert!(
        error.to_string().contains("/nonexistent/plugin.wasm"),
        "{error}"
    );
}

/// The smallest component a plugin built against contract `version` could be: it
/// exports an (empty) instance named as that version's format interface.
fn component_of_contract(version: &str) -> Vec<u8> {
    let name = format!("tdg:plugin/format@{version}");
    let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
    // Instance section: one instance made of no exports.
    bytes.extend([5, 3, 1, 1, 0]);
    // Export section: that instance, under the interface's name.
    let mut export = vec![1, 0, name.len() as u8];
    export.extend(name.as_bytes());
    export.extend([5, 0, 0]);
    bytes.extend([11, export.len() as u8]);
    bytes.extend(export);
    bytes
}

#[test]
fn a_plugin_built_against_an_older_contract_is_refused_with_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.wasm");
    std::fs::write(&path, component_of_contract("0.1.0")).unwrap();
    let host = PluginHost::new(small_limits(), ComponentCache::disabled()).unwrap();
    let error = host.format_plugin(&PluginSource::File(path)).err().unwrap();
    let message = error.to_string();
    assert!(
        matches!(&error, PluginError::OtherContract { found, .. } if found == "0.1.0"),
        "{error:?}"
    );
    assert!(
        message.contains("targets version 0.1.0 of the tdg plugin contract"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "this tdg speaks {}",
            tdg::plugin::CONTRACT_VERSION
        )),
        "{message}"
    );
    assert!(message.contains("tdg-plugin-sdk"), "{message}");
    assert!(message.contains(tdg::plugin::CONTRACT_WIT), "{message}");
    // The same component, naming the version this tdg speaks, gets past the check
    // (and is then refused for not filling the role, as it exports nothing in it).
    let current = dir.path().join("current.wasm");
    std::fs::write(
        &current,
        component_of_contract(tdg::plugin::CONTRACT_VERSION),
    )
    .unwrap();
    let error = host
        .format_plugin(&PluginSource::File(current))
        .err()
        .unwrap();
    assert!(
        !matches!(error, PluginError::OtherContract { .. }),
        "{error:?}"
    );
}
