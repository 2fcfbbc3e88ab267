//! Timestamps as the original tool wrote them: Python's `datetime.now().isoformat()`,
//! local time with microseconds and no zone (`2026-11-24T19:51:40.262049`).

/// The current local time in the original's format.
pub fn now() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

/// A timestamp in [`now`]'s format as Unix seconds, read as local time; none if it
/// is not one.
pub fn to_unix(stamp: &str) -> Option<i64> {
    let local = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    local
        .and_local_timezone(chrono::Local)
        .earliest()
        .map(|time| time.timestamp())
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

    #[test]
    fn reads_back_as_unix_seconds() {
        let now = chrono::Local::now().timestamp();
        let read = super::to_unix(&super::now()).unwrap();
        assert!((read - now).abs() <= 1, "{read} vs {now}");
        assert_eq!(super::to_unix("yesterday"), None);
    }
}
