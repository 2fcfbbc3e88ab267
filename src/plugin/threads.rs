//! Where a run's plugin calls execute: a few dedicated threads, never tokio's async
//! workers.
//!
//! The host runs plugins in wasmtime's synchronous mode, where a plugin's blocking
//! WASI output starts a runtime of its own and would panic on an async worker. Each
//! call is short (tens of microseconds for the built-ins), so the hand-off itself is
//! what costs: a fixed set of long-lived threads fed by one queue costs a wake-up per
//! call and keeps each plugin's instances warm on few threads, where tokio's blocking
//! pool grows a thread per call in flight. A panic in a call comes back as an error
//! text, so it fails that call alone.

use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, mpsc};
use std::thread;

use super::panic_text;

type Task = Box<dyn FnOnce() + Send>;

/// A small pool of threads that run plugin calls for async code.
pub struct PluginThreads {
    queue: mpsc::Sender<Task>,
}

impl PluginThreads {
    /// Starts `count` threads (at least one). They end when the pool is dropped and
    /// the calls already queued have run.
    pub fn new(count: usize) -> std::io::Result<Self> {
        let (queue, tasks) = mpsc::channel::<Task>();
        let tasks = std::sync::Arc::new(Mutex::new(tasks));
        for number in 0..count.max(1) {
            let tasks = tasks.clone();
            thread::Builder::new()
                .name(format!("tdg-plugin-{number}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next task.
                        let task = match tasks.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match task {
                            Ok(task) => task(),
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(PluginThreads { queue })
    }

    /// One thread per core: plugin calls are CPU work.
    pub fn per_core() -> std::io::Result<Self> {
        Self::new(thread::available_parallelism().map_or(2, |cores| cores.get()))
    }

    /// Runs `call` on one of the pool's threads and waits for it without blocking the
    /// async worker. A panic in `call` becomes the error text.
    pub async fn run<R: Send + 'static>(
        &self,
        call: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, String> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(call))
                .map_err(|panic| panic_text(panic.as_ref()));
            // The caller may have stopped waiting (Ctrl+C); the result is then dropped.
            let _ = reply.send(outcome);
        });
        let failed = |cause: String| {
            format!("the plugin call failed in the host (a bug; please report it): {cause}")
        };
        self.queue
            .send(task)
            .map_err(|_| failed("the plugin threads have stopped".into()))?;
        match result.await {
            Ok(outcome) => outcome.map_err(failed),
            Err(_) => Err(failed("the plugin thread ended without an answer".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_run_off_the_async_workers_and_return_their_result() {
        let threads = PluginThreads::new(2).unwrap();
        let name = threads
            .run(|| thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("tdg-plugin-"));
        assert_eq!(threads.run(|| 6 * 7).await.unwrap(), 42);
    }

    #[tokio::test]
    async fn a_panic_fails_that_call_alone() {
        let threads = PluginThreads::new(1).unwrap();
        let error = threads
            .run(|| -> u32 { panic!("the plugin host broke") })
            .await
            .unwrap_err();
        assert!(error.contains("the plugin host broke"), "{error}");
        assert!(error.contains("a bug"), "{error}");
        // The one thread survived the panic and serves the next call.
        assert_eq!(threads.run(|| 1).await.unwrap(), 1);
    }
}
