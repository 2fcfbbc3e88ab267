//! Builds the built-in plugins (`plugins/*`) as WebAssembly components for
//! `wasm32-wasip2` and places them in `OUT_DIR`, where `src/plugin/builtin.rs`
//! embeds them into the binary. `cargo install --path .` thus gives one
//! self-contained executable.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// The built-in plugins: (crate directory under `plugins/`, crate name).
const PLUGINS: &[(&str, &str)] = &[
    ("default-prompt", "tdg-plugin-default-prompt"),
    ("alpaca", "tdg-plugin-alpaca"),
    ("alpaca-json", "tdg-plugin-alpaca-json"),
    ("sharegpt", "tdg-plugin-sharegpt"),
    ("openai-chat", "tdg-plugin-openai-chat"),
    ("markup-loader", "tdg-plugin-markup-loader"),
    ("pdf-loader", "tdg-plugin-pdf-loader"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    for watched in ["plugins", "crates", "wit", "templates", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            manifest_dir.join(watched).display()
        );
    }

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    ensure_wasm_target(&rustc);

    // A target directory of its own, beside the host's, so that the nested cargo
    // never waits on the outer one's lock and rebuilds stay incremental.
    let target_dir = plugin_target_dir(&out_dir);
    let mut command = Command::new(&cargo);
    command
        .current_dir(&manifest_dir)
        .args(["build", "--release", "--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir);
    for (_, package) in PLUGINS {
        command.args(["-p", package]);
    }
    // The outer build's flags, wrappers (clippy) and target settings are for the
    // host, not for the plugins.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("could not run `{cargo}` to build the built-in plugins: {e}"));
    if !status.success() {
        panic!("building the built-in plugins for {TARGET} failed (see the cargo output above)");
    }

    for (dir, package) in PLUGINS {
        let built = target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{}.wasm", package.replace('-', "_")));
        let embedded = out_dir.join(format!("{dir}.wasm"));
        std::fs::copy(&built, &embedded).unwrap_or_else(|e| {
            panic!(
                "could not copy {} to {}: {e}",
                built.display(),
                embedded.display()
            )
        });
    }
}

/// Fails the build with the fix when the wasm target is not installed.
fn ensure_wasm_target(rustc: &str) {
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output();
    let installed = match output {
        Ok(output) if output.status.success() => {
            let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
            Path::new(&dir).is_dir()
        }
        _ => false,
    };
    if !installed {
        panic!(
            "\n\ntdg embeds its built-in plugins as WebAssembly components, which needs the \
             `{TARGET}` Rust target.\nInstall it with:\n\n    rustup target add {TARGET}\n\n"
        );
    }
}

/// `<target>/wasm-plugins`, found from `OUT_DIR` (`<target>/<profile>/build/<pkg>/out`).
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("wasm-plugins"))
        .unwrap_or_else(|| out_dir.join("wasm-plugins"))
}
