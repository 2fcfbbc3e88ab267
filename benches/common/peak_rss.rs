//! The peak resident memory of a command, run under GNU time (`/usr/bin/time -f %M`),
//! shared by the benchmarks that report one.

use std::process::{Command, Stdio};

/// Runs `inner` (its program, arguments and environment) under `/usr/bin/time` and
/// returns its peak RSS in KiB; panics, with what it printed, if it fails.
pub fn peak_rss_kib(inner: &Command) -> u64 {
    let mut command = Command::new("/usr/bin/time");
    command
        .arg("-f")
        .arg("%M")
        .arg(inner.get_program())
        .args(inner.get_args());
    for (key, value) in inner.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    if let Some(dir) = inner.get_current_dir() {
        command.current_dir(dir);
    }
    let output = command
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs (apt-get install time)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .expect("time prints the peak RSS")
}
