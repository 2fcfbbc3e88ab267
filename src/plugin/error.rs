//! What can go wrong with a plugin, in words that name the plugin, the role and the
//! cause, and say what to do.

use std::path::PathBuf;

use super::roles::Role;
use super::sandbox::PluginLimits;

/// An error loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot read plugin {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "unknown plugin `{name}`: give the name of a built-in plugin ({known}), of a {name}.wasm in a plugin directory ({searched}), or the path to a .wasm component"
    )]
    UnknownName {
        name: String,
        known: String,
        searched: String,
    },

    #[error("no loader reads the format `{format}`: the formats known are {known}")]
    UnknownFormat { format: String, known: String },

    #[error(
        "plugin {name} is not a WebAssembly file: expected a component built for the tdg plugin contract (for Rust: `cargo build --target wasm32-wasip2`)"
    )]
    NotWasm { name: String },

    #[error(
        "plugin {name} is a core WebAssembly module, not a component: tdg loads components that target a world of {}. \
         Build for `wasm32-wasip2`, or wrap the module with `wasm-tools component new`",
        super::CONTRACT_WIT
    )]
    CoreModule { name: String },

    #[error("plugin {name} could not be compiled: {message}")]
    Compile { name: String, message: String },

    #[error(
        "plugin {name} needs imports tdg does not provide: {message}. Plugins may import only WASI and `tdg:plugin/host`"
    )]
    Link { name: String, message: String },

    #[error(
        "plugin {name} targets version {found} of the tdg plugin contract, but this tdg speaks {}: rebuild it against this version \
         (Rust: the tdg-plugin-sdk of this tdg; other languages: {})",
        super::CONTRACT_VERSION,
        super::CONTRACT_WIT
    )]
    OtherContract { name: String, found: String },

    #[error(
        "plugin {name} does not fill the {role} role: it exports {}, but a {role} plugin exports `{}` (target the `{}` world of {})",
        list_or_nothing(exports), role.interface_name(), role.world_name(), super::CONTRACT_WIT
    )]
    MissingRole {
        name: String,
        role: Role,
        exports: Vec<String>,
    },

    #[error(
        "plugin {name} exports the {role} interface with the wrong shape: {message}. Rebuild it against {} version {}",
        super::CONTRACT_WIT,
        super::CONTRACT_VERSION
    )]
    WrongShape {
        name: String,
        role: Role,
        message: String,
    },

    #[error("plugin {name} ({role}) {cause}")]
    Call {
        name: String,
        role: Role,
        cause: CallFailure,
    },

    #[error("plugin {name} ({role}) reported an error: {message}")]
    Reported {
        name: String,
        role: Role,
        message: String,
    },

    #[error("plugin {name} ({role}) returned {what} that is not valid JSON: {message}")]
    BadOutput {
        name: String,
        role: Role,
        what: &'static str,
        message: String,
    },

    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
}

impl PluginError {
    pub(crate) fn engine(error: wasmtime::Error) -> Self {
        PluginError::Engine(format!("{error:#}"))
    }
}

fn list_or_nothing(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a plugin call failed inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallFailure {
    /// The call ran past the time limit (milliseconds).
    Timeout { limit_ms: u128 },
    /// The plugin asked for more memory than the cap (MiB).
    OutOfMemory { limit_mib: usize },
    /// The plugin trapped: a panic, an `unreachable`, a stack overflow.
    Trap(String),
}

impl CallFailure {
    pub(crate) fn classify(
        error: wasmtime::Error,
        memory_exceeded: bool,
        limits: &PluginLimits,
    ) -> Self {
        if let Some(wasmtime::Trap::Interrupt) = error.downcast_ref::<wasmtime::Trap>() {
            return CallFailure::Timeout {
                limit_ms: limits.time.as_millis(),
            };
        }
        if memory_exceeded {
            return CallFailure::OutOfMemory {
                limit_mib: limits.memory_bytes >> 20,
            };
        }
        CallFailure::Trap(format!("{error:#}"))
    }
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallFailure::Timeout { limit_ms } => write!(
                f,
                "timed out: the call ran longer than the plugin time limit of {limit_ms} ms (raise it with --plugin-timeout-ms)"
            ),
            CallFailure::OutOfMemory { limit_mib } => write!(
                f,
                "ran out of memory: the call needed more than the plugin memory limit of {limit_mib} MiB (raise it with --plugin-memory-mb)"
            ),
            CallFailure::Trap(message) => write!(f, "trapped: {message}"),
        }
    }
}
