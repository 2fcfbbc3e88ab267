//! Host-side bindings generated from `wit/v0.3/tdg.wit`.

wasmtime::component::bindgen!({
    path: "wit/v0.3",
    world: "tdg-host",
});

pub use self::tdg::plugin::{host, types};
pub use exports::tdg::plugin::{format, loader, parser, prompt};

impl From<crate::task::Task> for types::Task {
    fn from(task: crate::task::Task) -> Self {
        match task {
            crate::task::Task::Qa => types::Task::Qa,
            crate::task::Task::Reasoning => types::Task::Reasoning,
            crate::task::Task::Conversation => types::Task::Conversation,
        }
    }
}

impl From<crate::task::ReasoningStyle> for format::ReasoningStyle {
    fn from(style: crate::task::ReasoningStyle) -> Self {
        match style {
            crate::task::ReasoningStyle::Think => format::ReasoningStyle::Think,
            crate::task::ReasoningStyle::Field => format::ReasoningStyle::Field,
        }
    }
}

/// The contract's package name and version, as plugins' exports spell them.
pub const CONTRACT_PACKAGE: &str = "tdg:plugin";
/// The version of the contract this host implements. 0.3.0 added the tasks (examples
/// with reasoning and follow-ups); a plugin built for 0.2 is refused with the message
/// to rebuild it.
pub const CONTRACT_VERSION: &str = "0.3.0";
/// The contract's WIT file, as plugin authors find it in tdg's repository.
pub const CONTRACT_WIT: &str = "wit/v0.3/tdg.wit";

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
        assert!(speaks("0.3.7"));
        assert!(speaks("0.3.0"));
        assert!(!speaks("0.2.1"));
        assert!(!speaks("0.1.0"));
        assert!(!speaks("0.4.0"));
        assert!(!speaks("1.2.0"));
        assert!(!speaks("nonsense"));
        assert!(CONTRACT_WIT.contains(&format!(
            "v{}",
            CONTRACT_VERSION.rsplit_once('.').unwrap().0
        )));
    }
}
