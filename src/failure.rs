//! Whether running the same task again may succeed: what a scheduler (a Kubernetes
//! Job's `podFailurePolicy`, a Slurm requeue) needs to know of a failed command. Each
//! error type says it of itself (`retry()`), beside the error; the binary turns the
//! answer into its exit code in one place (`cli::exit_code`). A ground-floor word, so
//! that every stage can answer without importing another.

/// Whether running the same task again may help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A fault that may pass: an unreachable or overloaded server, a download cut
    /// off, a full disk, another process on the same directory. Run the task again
    /// (with `--resume`): exit code 75.
    Helps,
    /// A wrong key, an unknown model, a broken template or plugin, a missing input:
    /// the same task fails the same way until someone fixes its configuration: exit
    /// code 78.
    Futile,
}

impl Retry {
    /// [`Retry::Helps`] when `helps`, else [`Retry::Futile`].
    pub fn helps_if(helps: bool) -> Retry {
        if helps { Retry::Helps } else { Retry::Futile }
    }
}
