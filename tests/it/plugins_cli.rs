//! `tdg plugins` and `tdg plugins inspect`.

use crate::common;

use common::tdg;

#[test]
fn lists_the_built_in_plugins_with_their_roles() {
    let output = tdg().arg("plugins").output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing: {stdout}"))
            .to_string()
    };
    let default_prompt = line("default-prompt");
    assert!(
        default_prompt.contains("prompt, parser") && default_prompt.contains("0.3.0"),
        "{default_prompt}"
    );
    let alpaca = line("alpaca");
    assert!(
        alpaca.contains("format") && alpaca.contains("0.3.0"),
        "{alpaca}"
    );
}

#[test]
fn inspect_tells_roles_and_contract_version() {
    let output = tdg()
        .args(["plugins", "inspect"])
        .arg(common::test_plugin("hostile"))
        .output()
        .unwrap();
    common::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("roles:    loader, format\n"), "{stdout}");
    assert!(stdout.contains("reads:    hostile (.hostile)"), "{stdout}");
    assert!(stdout.contains("contract: tdg:plugin@0.3.0"), "{stdout}");
    assert!(stdout.contains("files end in _hostile.jsonl"), "{stdout}");
}

#[test]
fn inspect_rejects_a_core_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("core.wasm");
    std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap();
    let output = tdg()
        .args(["plugins", "inspect"])
        .arg(&path)
        .output()
        .unwrap();
    common::assert_fails_with(&output, "core WebAssembly module, not a component");
}

#[test]
fn inspect_rejects_a_file_that_is_not_wasm() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wasm");
    std::fs::write(&path, "hello").unwrap();
    let output = tdg()
        .args(["plugins", "inspect"])
        .arg(&path)
        .output()
        .unwrap();
    common::assert_fails_with(&output, "is not a WebAssembly file");
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    // Like `tdg plugins | head -0`: the reader is gone before tdg writes.
    let mut child = tdg()
        .arg("plugins")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
