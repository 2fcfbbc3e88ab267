//! The one mapping from a command's outcome to its exit code, which every command
//! goes through: 0 success, 1 a failure that is neither of the two below (some
//! chunks or files failed), 2 a usage error (clap's), 75 a fault that may pass (run
//! again), 78 a wrong setting (do not run again before fixing it), 130 interrupted.
//!
//! Each error type says whether running again may help ([`Retry`], its `retry()`);
//! this walks an error's chain of causes and asks the first error of a known type.

use std::process::ExitCode;

use crate::failure::Retry;

/// Success.
pub const SUCCESS: u8 = 0;
/// A failure that is neither transient nor a wrong setting (some chunks failed).
pub const FAILURE: u8 = 1;
/// A fault that running the task again may fix (EX_TEMPFAIL).
pub const TRANSIENT: u8 = 75;
/// A failure that recurs until the configuration is fixed (EX_CONFIG).
pub const PERMANENT: u8 = 78;
/// Interrupted (Ctrl+C, SIGTERM) or stopped at `--max-cost`.
pub const INTERRUPTED: u8 = 130;

/// The exit code for `error`: 75 when running again may help, 78 when it will not
/// before a setting is fixed, 1 when no error in its chain says.
pub fn of_error(error: &anyhow::Error) -> ExitCode {
    ExitCode::from(code_of(error))
}

/// The number [`of_error`] exits with.
pub fn code_of(error: &anyhow::Error) -> u8 {
    match retry_of(error) {
        Some(Retry::Helps) => TRANSIENT,
        Some(Retry::Futile) => PERMANENT,
        None => FAILURE,
    }
}

/// What the first error of a known type in `error`'s chain says of retrying.
pub fn retry_of(error: &anyhow::Error) -> Option<Retry> {
    error.chain().find_map(retry_of_one)
}

fn retry_of_one(error: &(dyn std::error::Error + 'static)) -> Option<Retry> {
    macro_rules! ask {
        ($($kind:ty),* $(,)?) => {
            $(if let Some(error) = error.downcast_ref::<$kind>() {
                return Some(error.retry());
            })*
        };
    }
    ask!(
        crate::generate::GenerateError,
        crate::config::ConfigError,
        crate::dir_lock::DirLockError,
        crate::provider::ModelError,
        crate::hub::HubError,
        crate::export::push::PushError,
        crate::merge::MergeError,
        crate::validate::ValidateError,
        crate::checkpoint::StoreError,
        crate::batch::LedgerError,
        crate::documents::run::ChunkRunError,
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ModelError;

    #[test]
    fn the_first_known_error_in_the_chain_decides() {
        let unreachable = ModelError::Unreachable {
            url: "http://127.0.0.1:9/v1".into(),
            reason: "connection refused".into(),
        };
        let wrapped = anyhow::Error::new(unreachable).context("2 batches could not be read");
        assert_eq!(code_of(&wrapped), TRANSIENT);

        let refused = ModelError::Permanent {
            url: "http://h/v1".into(),
            status: 401,
            message: "bad key".into(),
            hint: String::new(),
        };
        assert_eq!(code_of(&anyhow::Error::new(refused)), PERMANENT);
        assert_eq!(code_of(&anyhow::anyhow!("something else")), FAILURE);
    }
}
