//! Timestamps as the original tool wrote them: Python's `datetime.now().isoformat()`,
//! local time with microseconds and no zone (`2026-11-24T19:51:40.262049`).

/// The current local time in the original's format.
pub fn now() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn looks_like_python_isoformat() {
        let stamp = super::now();
        assert_eq!(stamp.len(), 26, "{stamp}");
        assert_eq!(&stamp[10..11], "T");
        assert_eq!(&stamp[19..20], ".");
    }
}
