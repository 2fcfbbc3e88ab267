//! Host-side bindings generated from `wit/v0.2/tdg.wit`.

wasmtime::component::bindgen!({
    path: "wit/v0.2",
    world: "tdg-host",
});

pub use self::tdg::plugin::{host, types};
pub use exports::tdg::plugin::{format, loader, parser, prompt};

/// The contract's package name and version, as plugins' exports spell them.
pub const CONTRACT_PACKAGE: &str = "tdg:plugin";
/// The version of the contract this host implements. 0.2.1 added the `loader` role;
/// plugins built against 0.2.0 load unchanged (wasmtime matches `@0.2.0` imports and
/// exports to this host's `@0.2.1` ones, semver-compatibly).
pub const CONTRACT_VERSION: &str = "0.2.1";
/// The contract's WIT file, as plugin authors find it in tdg's repository.
pub const CONTRACT_WIT: &str = "wit/v0.2/tdg.wit";

/// Whether a plugin built against contract `version` loads in this host: the same
/// major version, and while the major is 0, the same minor (the WIT's versioning rule).
pub fn speaks(version: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut numbers = v.split('.').map(|n| n.parse::<u64>().ok());
        Some((numbers.next()??, numbers.next()??))
    };
    match (parts(version), parts(CONTRACT_VERSION)) {
        (Some((0, theirs)), Some((0, ours))) => theirs == ours,
        (Some((theirs, _)), Some((ours, _))) => theirs == ours,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_minor_version_loads_while_the_major_is_0() {
        assert!(speaks(CONTRACT_VERSION));
        assert!(speaks("0.2.7"));
        assert!(speaks("0.2.0"));
        assert!(!speaks("0.1.0"));
        assert!(!speaks("0.3.0"));
        assert!(!speaks("1.2.0"));
        assert!(!speaks("nonsense"));
        assert!(CONTRACT_WIT.contains(&format!(
            "v{}",
            CONTRACT_VERSION.rsplit_once('.').unwrap().0
        )));
    }
}
