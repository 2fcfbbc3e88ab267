//! The plugin contract's version is written in three places: the `package` line of
//! the WIT file (in a folder named after its major and minor version), the host's
//! constant, and the guest SDK's constant. They must never drift apart; nor may the
//! question types the host and the SDK know.

use std::path::{Path, PathBuf};

/// The WIT file of the contract version the host implements: `wit/vMAJOR.MINOR/tdg.wit`.
fn wit_file() -> PathBuf {
    let mut parts = tdg::plugin::CONTRACT_VERSION.split('.');
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("wit/v{major}.{minor}/tdg.wit"))
}

/// The `(package, version)` of the `package NAME@VERSION;` line of a WIT text.
fn package_line(wit: &str) -> (String, String) {
    let line = wit
        .lines()
        .find_map(|line| line.trim().strip_prefix("package "))
        .expect("the WIT file has a `package` line");
    let (package, version) = line
        .trim_end_matches(';')
        .split_once('@')
        .expect("the package line carries a version");
    (package.to_string(), version.to_string())
}

#[test]
fn host_sdk_and_wit_agree_on_the_contract_version() {
    let path = wit_file();
    let wit = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the WIT folder is named after the contract's major and minor version",
            path.display()
        )
    });
    let (package, version) = package_line(&wit);
    assert_eq!(package, tdg::plugin::CONTRACT_PACKAGE);
    assert_eq!(package, tdg_plugin_sdk::CONTRACT_PACKAGE);
    assert_eq!(version, tdg::plugin::CONTRACT_VERSION);
    assert_eq!(version, tdg_plugin_sdk::CONTRACT_VERSION);
    assert_eq!(
        tdg_plugin_sdk::WIT,
        wit,
        "the SDK embeds the same WIT file the host is generated from"
    );
}

#[test]
fn the_package_line_is_read_as_written() {
    let (package, version) = package_line("/// docs\npackage tdg:plugin@2.3.4;\n");
    assert_eq!(
        (package.as_str(), version.as_str()),
        ("tdg:plugin", "2.3.4")
    );
}

#[test]
fn host_and_sdk_know_the_same_question_types() {
    assert_eq!(
        tdg::question_types::QUESTION_TYPES,
        tdg_plugin_sdk::QUESTION_TYPES,
        "the question types a mix may name, and a parser may keep, are one list"
    );
    // The host's path to the contract, as its errors give it, is the file tested above.
    assert!(wit_file().ends_with(tdg::plugin::CONTRACT_WIT));
}
