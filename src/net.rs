//! What every HTTP client of tdg shares (the model providers, the batch APIs, the
//! Hugging Face Hub and `tdg push`): the process-wide TLS provider and the text of
//! an error with its chain of causes. A ground-floor module: it imports no stage.

/// rustls needs a process-wide crypto provider; tdg uses ring (for providers and
/// the Hub client alike; whichever runs first installs it).
pub(crate) fn install_tls_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// An error with its causes, which reqwest keeps in the chain.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    with_causes(error.to_string(), error.source())
}

/// `text`, followed by each cause in the chain from `source` on.
pub(crate) fn with_causes(mut text: String, source: Option<&dyn std::error::Error>) -> String {
    let mut source = source;
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
