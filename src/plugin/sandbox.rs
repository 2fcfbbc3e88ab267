//! The sandbox one plugin call runs in: the store's data, its WASI context with
//! nothing granted, a frozen clock, and the memory cap.
//!
//! A plugin gets no preopened directories, no environment variables, no arguments,
//! no network and no real clock. Its stdout and stderr go to bounded in-memory pipes
//! that the host copies into its log after the call.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};

/// The most a plugin may print to stdout or stderr in one call; more traps.
const OUTPUT_CAPACITY: usize = 1 << 20;
/// The most table elements a plugin may grow to.
const TABLE_ELEMENTS_LIMIT: usize = 100_000;

/// Resource limits applied to every plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginLimits {
    /// The most linear memory one instance may hold, in bytes.
    pub memory_bytes: usize,
    /// The most time one call may take, instantiation included.
    pub time: Duration,
}

impl PluginLimits {
    /// The default memory cap: 64 MiB.
    pub const DEFAULT_MEMORY_MIB: u32 = 64;
    /// The default time limit: 2 seconds.
    pub const DEFAULT_TIME_MS: u64 = 2000;
    /// The least memory a loader call gets: 512 MiB (a document, not a chunk).
    pub const LOADER_MEMORY_MIB: u32 = 512;
    /// The least time a loader call gets: 60 seconds (a 200-page PDF).
    pub const LOADER_TIME_MS: u64 = 60_000;

    /// The limits of a loader call (`tdg chunk`): these limits, raised to at least
    /// [`LOADER_MEMORY_MIB`](Self::LOADER_MEMORY_MIB) and
    /// [`LOADER_TIME_MS`](Self::LOADER_TIME_MS), since one call reads a whole document.
    pub fn for_loaders(self) -> PluginLimits {
        PluginLimits {
            memory_bytes: self
                .memory_bytes
                .max((Self::LOADER_MEMORY_MIB as usize) << 20),
            time: self.time.max(Duration::from_millis(Self::LOADER_TIME_MS)),
        }
    }
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits {
            memory_bytes: (Self::DEFAULT_MEMORY_MIB as usize) << 20,
            time: Duration::from_millis(Self::DEFAULT_TIME_MS),
        }
    }
}

/// The store data of one plugin call.
pub struct PluginState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) stdout: MemoryOutputPipe,
    pub(crate) stderr: MemoryOutputPipe,
    /// How much of each pipe is already in the log.
    pub(crate) stdout_read: usize,
    pub(crate) stderr_read: usize,
    /// The plugin's name, for its log lines.
    pub(crate) plugin_name: String,
}

impl PluginState {
    pub(crate) fn new(plugin_name: &str, limits: &PluginLimits) -> Self {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        PluginState {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                memory_bytes: limits.memory_bytes,
                exceeded: false,
            },
            stdout,
            stderr,
            stdout_read: 0,
            stderr_read: 0,
            plugin_name: plugin_name.to_string(),
        }
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory, and remembers whether the cap was hit so that the trap that
/// follows can be reported as "out of memory".
pub(crate) struct MemoryLimiter {
    pub(crate) memory_bytes: usize,
    pub(crate) exceeded: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS_LIMIT)
    }
}

/// A clock that always reads zero: plugins get no time source.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}
