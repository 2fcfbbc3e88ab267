//! Host-side bindings generated from `wit/v0.1/tdg.wit`.

wasmtime::component::bindgen!({
    path: "wit/v0.1",
    world: "tdg-host",
});

pub use self::tdg::plugin::{host, types};
pub use exports::tdg::plugin::{format, parser, prompt};

/// The contract's package name and version, as plugins' exports spell them.
pub const CONTRACT_PACKAGE: &str = "tdg:plugin";
/// The version of the contract this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";
