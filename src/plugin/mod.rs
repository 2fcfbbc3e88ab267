//! The WebAssembly plugin host.
//!
//! Prompt building, answer parsing and output formats are WebAssembly components
//! that fill the roles of the contract in `wit/v0.3/tdg.wit`. This module loads them
//! (built-ins embedded in the binary, or files), checks the roles they fill, and
//! calls them in a sandbox:
//!
//! - one [`PluginHost`] (one wasmtime `Engine`) per process; compiled components are
//!   cached on disk ([`cache`]);
//! - a component built against another version of the contract is refused when it is
//!   loaded, with the version it targets and the one this host speaks;
//! - each loaded plugin keeps an `InstancePre` and a pool of instances that behaved;
//!   an instance whose call traps, times out, runs out of memory or fails is dropped
//!   with its store, so a failure fails that call alone and never the calls after it;
//! - limits ([`PluginLimits`]) cap memory and time per call ([`sandbox`]), and a
//!   component file is read only up to [`MAX_PLUGIN_BYTES`];
//! - a panic in the host while it serves a call (wasmtime-wasi's blocking streams
//!   panic when called on an async runtime's worker) fails that call, like a trap.

mod bindings;
pub mod builtin;
pub mod cache;
mod error;
mod host_api;
pub mod loader;
mod roles;
mod sandbox;
mod threads;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, InstancePre, Linker, types::ComponentItem};
use wasmtime::{Config, Engine, Store};

pub use bindings::{
    CONTRACT_PACKAGE, CONTRACT_VERSION, CONTRACT_WIT, format, parser, prompt, types,
};
pub use cache::ComponentCache;
pub use error::{CallFailure, PluginError};
pub use host_api::render_template;
pub use roles::{FormatPlugin, LoaderPlugin, ParserPlugin, PromptPlugin, Role};
pub use sandbox::PluginLimits;
pub use threads::PluginThreads;

use sandbox::PluginState;

/// The largest component file tdg reads: 256 MiB (a Python component, which embeds
/// its interpreter, is about 40 MiB).
pub const MAX_PLUGIN_BYTES: u64 = 256 << 20;

/// How often the epoch advances; the granularity of the per-call time limit.
const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The directories plugin names are looked up in: `./plugins/`, then
/// `$XDG_CONFIG_HOME/tdg/plugins/` (`~/.config/tdg/plugins/`).
pub fn plugin_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("plugins")];
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")));
    if let Some(config) = config {
        dirs.push(config.join("tdg").join("plugins"));
    }
    dirs
}

/// Where a plugin comes from: a built-in name or a component file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// A plugin embedded in tdg, by name (`alpaca`, `default-prompt`).
    Builtin(&'static str),
    /// A component file.
    File(PathBuf),
}

impl PluginSource {
    /// Reads a user's `--format`/`--parser`/`--prompt-plugin` value: a path when it
    /// ends in `.wasm` or holds a path separator; else the name of a built-in, or of
    /// a `<name>.wasm` in a plugin directory ([`plugin_dirs`]).
    pub fn parse(value: &str) -> Result<Self, PluginError> {
        Self::parse_in(value, &plugin_dirs())
    }

    /// [`PluginSource::parse`], looking names up in `dirs`.
    pub fn parse_in(value: &str, dirs: &[PathBuf]) -> Result<Self, PluginError> {
        if value.ends_with(".wasm")
            || value.contains(std::path::MAIN_SEPARATOR)
            || value.contains('/')
        {
            return Ok(PluginSource::File(PathBuf::from(value)));
        }
        if let Some(plugin) = builtin::find(value) {
            return Ok(PluginSource::Builtin(plugin.name));
        }
        dirs.iter()
            .map(|dir| dir.join(format!("{value}.wasm")))
            .find(|path| path.is_file())
            .map(PluginSource::File)
            .ok_or_else(|| PluginError::UnknownName {
                name: value.to_string(),
                known: builtin::names(),
                searched: dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The name used in messages: the built-in's name, or the file's path.
    pub fn display_name(&self) -> String {
        match self {
            PluginSource::Builtin(name) => (*name).to_string(),
            PluginSource::File(path) => path.display().to_string(),
        }
    }
}

/// The plugin runtime: one per process.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<HostInner>,
}

struct HostInner {
    engine: Engine,
    linker: Linker<PluginState>,
    cache: ComponentCache,
    limits: PluginLimits,
}

impl PluginHost {
    /// A host with the given limits and compiled-component cache.
    pub fn new(limits: PluginLimits, cache: ComponentCache) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config
            .wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(1 << 20);
        let engine = Engine::new(&config).map_err(PluginError::engine)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(PluginError::engine)?;
        bindings::host::add_to_linker::<_, HasSelf<PluginState>>(&mut linker, |state| state)
            .map_err(PluginError::engine)?;
        spawn_epoch_ticker(&engine);
        Ok(PluginHost {
            inner: Arc::new(HostInner {
                engine,
                linker,
                cache,
                limits,
            }),
        })
    }

    /// A host with default limits and the user's cache.
    pub fn with_defaults() -> Result<Self, PluginError> {
        Self::new(PluginLimits::default(), ComponentCache::from_env())
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> PluginLimits {
        self.inner.limits
    }

    /// Loads a component from `source` and links it against the host, without yet
    /// checking any role.
    pub fn load(&self, source: &PluginSource) -> Result<LoadedPlugin, PluginError> {
        let name = source.display_name();
        let bytes: std::borrow::Cow<'static, [u8]> = match source {
            PluginSource::Builtin(builtin_name) => {
                let builtin =
                    builtin::find(builtin_name).ok_or_else(|| PluginError::UnknownName {
                        name: name.clone(),
                        known: builtin::names(),
                        searched: String::new(),
                    })?;
                builtin.bytes.into()
            }
            PluginSource::File(path) => read_component_file(path)?.into(),
        };
        check_is_component(&name, &bytes)?;
        let component = self
            .inner
            .cache
            .load_or_compile(&self.inner.engine, &bytes)
            .map_err(|e| PluginError::Compile {
                name: name.clone(),
                message: format!("{e:#}"),
            })?;
        let exports = export_names(&self.inner.engine, &component);
        let contract = contract_version(&self.inner.engine, &component);
        // Before linking: an older plugin's imports would fail to link, with a message
        // that does not say why.
        if let Some(found) = contract.as_deref().filter(|found| !bindings::speaks(found)) {
            return Err(PluginError::OtherContract {
                name,
                found: found.to_string(),
            });
        }
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Link {
                name: name.clone(),
                message: format!("{e:#}"),
            })?;
        Ok(LoadedPlugin {
            host: self.clone(),
            name,
            source: source.clone(),
            pre,
            exports,
            contract,
            pool: Default::default(),
        })
    }

    /// Loads `source` and checks that it fills `Role::Prompt`.
    pub fn prompt_plugin(&self, source: &PluginSource) -> Result<PromptPlugin, PluginError> {
        PromptPlugin::new(self.load(source)?)
    }

    /// Loads `source` and checks that it fills `Role::Parser`.
    pub fn parser_plugin(&self, source: &PluginSource) -> Result<ParserPlugin, PluginError> {
        ParserPlugin::new(self.load(source)?)
    }

    /// Loads `source` and checks that it fills `Role::Loader`.
    pub fn loader_plugin(&self, source: &PluginSource) -> Result<LoaderPlugin, PluginError> {
        LoaderPlugin::new(self.load(source)?)
    }

    /// Loads `source` and checks that it fills `Role::Format`.
    pub fn format_plugin(&self, source: &PluginSource) -> Result<FormatPlugin, PluginError> {
        FormatPlugin::new(self.load(source)?)
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while the engine lives.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    let spawned = thread::Builder::new()
        .name("tdg-plugin-clock".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                thread::sleep(EPOCH_TICK);
            }
        });
    if let Err(error) = spawned {
        tracing::warn!("could not start the plugin time-limit clock: {error}");
    }
}

/// Reads a component file, refusing one larger than [`MAX_PLUGIN_BYTES`] without
/// reading past the limit (a device or a huge file never fills memory).
fn read_component_file(path: &Path) -> Result<Vec<u8>, PluginError> {
    use std::io::Read;
    let failed = |source| PluginError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(failed)?;
    let mut bytes = Vec::new();
    file.take(MAX_PLUGIN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_PLUGIN_BYTES {
        return Err(failed(std::io::Error::other(format!(
            "it is larger than the {} MiB a plugin may be; is it the right file?",
            MAX_PLUGIN_BYTES >> 20
        ))));
    }
    Ok(bytes)
}

/// Rejects files that are not WebAssembly components, saying what they are.
fn check_is_component(name: &str, bytes: &[u8]) -> Result<(), PluginError> {
    const MAGIC: &[u8] = b"\0asm";
    const CORE_VERSION: &[u8] = &[1, 0, 0, 0];
    if !bytes.starts_with(MAGIC) || bytes.len() < 8 {
        return Err(PluginError::NotWasm {
            name: name.to_string(),
        });
    }
    if &bytes[4..8] == CORE_VERSION {
        return Err(PluginError::CoreModule {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// The names of a component's top-level exports.
fn export_names(engine: &Engine, component: &Component) -> Vec<String> {
    component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect()
}

/// The version of the tdg contract a component was built against, read from the
/// names of its `tdg:plugin/...@VERSION` imports and exports.
fn contract_version(engine: &Engine, component: &Component) -> Option<String> {
    let ty = component.component_type();
    let imports = ty.imports(engine);
    let exports = ty.exports(engine);
    imports
        .chain(exports)
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentInstance(_)))
        .find_map(|(name, _)| {
            let rest = name.strip_prefix(CONTRACT_PACKAGE)?.strip_prefix('/')?;
            rest.split_once('@').map(|(_, version)| version.to_string())
        })
}

/// A component linked against the host, whose roles are not yet checked.
pub struct LoadedPlugin {
    host: PluginHost,
    name: String,
    source: PluginSource,
    pre: InstancePre<PluginState>,
    exports: Vec<String>,
    contract: Option<String>,
    /// Instances that behaved, for reuse.
    pool: std::sync::Mutex<Vec<PooledInstance>>,
}

impl LoadedPlugin {
    /// The plugin's name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the plugin came from.
    pub fn source(&self) -> &PluginSource {
        &self.source
    }

    /// The version of the tdg contract the plugin was built against, if it uses it.
    pub fn contract_version(&self) -> Option<&str> {
        self.contract.as_deref()
    }

    /// The component's top-level export names.
    pub fn exports(&self) -> &[String] {
        &self.exports
    }

    /// The roles the plugin fills.
    pub fn roles(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| role.is_filled_by(&self.pre))
            .collect()
    }

    /// Runs `call` within the limits, on an instance from the plugin's pool (or a new
    /// one). An instance whose call failed in any way (a trap, a timeout, running out
    /// of memory, an error) is dropped with its store, so a failure never reaches the
    /// calls after it; one that behaved goes back to the pool. Reuse spares mapping a
    /// new instance's memory for every call.
    fn call<R>(
        &self,
        role: Role,
        call: impl FnOnce(
            &mut Store<PluginState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        self.call_within(role, self.host.inner.limits, call)
    }

    /// [`call`](Self::call) under other `limits` (a loader's).
    pub(crate) fn call_within<R>(
        &self,
        role: Role,
        limits: PluginLimits,
        call: impl FnOnce(
            &mut Store<PluginState>,
            &wasmtime::component::Instance,
        ) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let (mut store, instance) = match pooled {
            Some(pooled) => (pooled.store, Ok(pooled.instance)),
            None => {
                let mut store = Store::new(
                    &self.host.inner.engine,
                    PluginState::new(&self.name, &limits),
                );
                store.limiter(|state| &mut state.limiter);
                store.epoch_deadline_trap();
                store.set_epoch_deadline(deadline_ticks(&limits));
                let instance = self.pre.instantiate(&mut store);
                (store, instance)
            }
        };
        store.data_mut().limiter.exceeded = false;
        store.data_mut().limiter.memory_bytes = limits.memory_bytes;
        store.set_epoch_deadline(deadline_ticks(&limits));
        let result = instance.and_then(|instance| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&mut store, &instance)))
                .unwrap_or_else(|panic| Err(host_panic(panic.as_ref())))
                .map(|value| (value, instance))
        });
        forward_output(&self.name, store.data_mut());
        match result {
            Ok((value, instance)) => {
                let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
                if pool.len() < POOLED_INSTANCES {
                    pool.push(PooledInstance { store, instance });
                }
                Ok(value)
            }
            Err(error) => {
                let cause = CallFailure::classify(error, store.data().limiter.exceeded, &limits);
                Err(PluginError::Call {
                    name: self.name.clone(),
                    role,
                    cause,
                })
            }
        }
    }
}

/// The text of a panic's payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| text.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// A panic in the host while it served a call, as the call's error.
fn host_panic(payload: &(dyn std::any::Any + Send)) -> wasmtime::Error {
    wasmtime::Error::msg(format!(
        "the host panicked while serving the call ({}); a plugin call must not run on an async runtime's worker thread",
        panic_text(payload)
    ))
}

/// How many idle instances a plugin keeps for reuse.
const POOLED_INSTANCES: usize = 64;

/// An instance that behaved, ready for the next call.
struct PooledInstance {
    store: Store<PluginState>,
    instance: wasmtime::component::Instance,
}

/// The epoch ticks of one call's time limit.
fn deadline_ticks(limits: &PluginLimits) -> u64 {
    limits
        .time
        .as_millis()
        .div_ceil(EPOCH_TICK.as_millis())
        .max(1) as u64
}

/// Copies what the plugin printed since the last call into the host's log.
fn forward_output(plugin: &str, state: &mut PluginState) {
    let streams = [
        ("stdout", &state.stdout, &mut state.stdout_read),
        ("stderr", &state.stderr, &mut state.stderr_read),
    ];
    for (stream, pipe, read) in streams {
        let contents = pipe.contents();
        if contents.len() > *read {
            for line in String::from_utf8_lossy(&contents[*read..]).lines() {
                tracing::info!(plugin, stream, "{line}");
            }
            *read = contents.len();
        }
    }
}
