//! Running a command until it ends or is stopped: the first Ctrl+C or SIGTERM
//! cancels it gracefully, a second one exits at once.

use anyhow::Result;
use tokio_util::sync::CancellationToken;

use super::INTERRUPTED;

/// Runs `work` on a multi-threaded runtime, with a token that Ctrl+C and SIGTERM
/// cancel (see [`stop_on_signals`]).
pub fn until_signalled<T>(work: impl AsyncFnOnce(CancellationToken) -> Result<T>) -> Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        tokio::spawn(stop_on_signals(cancel.clone()));
        work(cancel).await
    })
}

/// The first Ctrl+C or SIGTERM stops the run gracefully; a second Ctrl+C exits at
/// once (everything recorded so far is already durable).
async fn stop_on_signals(cancel: CancellationToken) {
    wait_for_stop_signal().await;
    tracing::warn!("stopping: finishing the requests in flight (Ctrl+C again to quit at once)");
    cancel.cancel();
    wait_for_stop_signal().await;
    std::process::exit(i32::from(INTERRUPTED));
}

#[cfg(unix)]
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
