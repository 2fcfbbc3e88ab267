//! `tdg-mock-server`: the mock model server, standalone, for trying tdg without a model.
//!
//! `cargo run -p tdg-mock-server -- [--latency-ms MS] [--capacity N] [--fail-one-in N] [--lenient]`
//! prints its URL and serves until killed. `--lenient` accepts requests without the
//! optional fields tdg sends, for measuring other clients against the same server.

use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1);
    let server = tdg_mock_server::MockServer::start();
    server.stop_recording();
    while let Some(flag) = args.next() {
        if flag == "--lenient" {
            server.set_lenient();
            continue;
        }
        let value: u64 = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
            eprintln!(
                "usage: tdg-mock-server [--latency-ms MS] [--capacity N] [--fail-one-in N] [--lenient]"
            );
            std::process::exit(2)
        });
        match flag.as_str() {
            "--latency-ms" => server.set_latency(Duration::from_millis(value)),
            "--capacity" => server.set_capacity(value as usize),
            "--fail-one-in" => server.fail_one_in(value),
            _ => {
                eprintln!("unknown option {flag}");
                std::process::exit(2)
            }
        }
    }
    println!("{}", server.url);
    loop {
        std::thread::park();
    }
}
