//! The chat message: what the prompt stage builds, every model is sent, the
//! checkpoint stores with each chunk's outcome, and the quality gate reads back.
//! A ground-floor type, so that none of those stages imports another for it.

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}
