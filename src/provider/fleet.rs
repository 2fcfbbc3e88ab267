//! Spreading requests over several servers of the same model (`--base-url` given
//! more than once: a fleet of Ollama, vLLM or llama.cpp instances).
//!
//! Each request goes to the server expected to finish it first: the one with the
//! least `(requests in flight + 1) × recent answer time`. A server that cannot be
//! reached is left alone for a while.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an unreachable server is left alone.
const DOWN_FOR: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Server {
    url: String,
    in_flight: usize,
    /// Exponentially weighted mean answer time, in seconds (0 until measured).
    mean_seconds: f64,
    down_until: Option<Instant>,
}

/// The servers a model is served from.
#[derive(Debug)]
pub struct Fleet {
    servers: Mutex<Vec<Server>>,
}

/// A request's choice of server; report how it went with [`Fleet::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick(usize);

impl Fleet {
    /// A fleet of `urls` (at least one).
    pub fn new(urls: &[String]) -> Self {
        let servers = urls
            .iter()
            .map(|url| Server {
                url: url.trim_end_matches('/').to_string(),
                in_flight: 0,
                mean_seconds: 0.0,
                down_until: None,
            })
            .collect();
        Fleet {
            servers: Mutex::new(servers),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Server>> {
        self.servers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The first server's URL.
    pub fn primary(&self) -> String {
        self.lock()[0].url.clone()
    }

    /// Chooses a server for one request, and its base URL.
    pub fn pick(&self) -> (Pick, String) {
        let mut servers = self.lock();
        let now = Instant::now();
        let up = |s: &Server| s.down_until.is_none_or(|until| until <= now);
        let any_up = servers.iter().any(up);
        let (index, _) = servers
            .iter()
            .enumerate()
            .filter(|(_, server)| !any_up || up(server))
            .min_by(|(_, a), (_, b)| {
                let cost = |s: &Server| (s.in_flight + 1) as f64 * s.mean_seconds.max(1e-3);
                cost(a).total_cmp(&cost(b))
            })
            .expect("a fleet has at least one server");
        servers[index].in_flight += 1;
        (Pick(index), servers[index].url.clone())
    }

    /// Records how a request to `pick` went: its answer time, or that the server
    /// could not be reached.
    pub fn finish(&self, pick: Pick, elapsed: Duration, reachable: bool) {
        let mut servers = self.lock();
        let server = &mut servers[pick.0];
        server.in_flight = server.in_flight.saturating_sub(1);
        if reachable {
            let seconds = elapsed.as_secs_f64();
            server.mean_seconds = if server.mean_seconds == 0.0 {
                seconds
            } else {
                0.8 * server.mean_seconds + 0.2 * seconds
            };
            server.down_until = None;
        } else {
            server.down_until = Some(Instant::now() + DOWN_FOR);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faster_server_gets_more_requests() {
        let fleet = Fleet::new(&["http://slow".into(), "http://fast/".into()]);
        let (slow, _) = fleet.pick();
        fleet.finish(slow, Duration::from_millis(400), true);
        let (fast, url) = fleet.pick();
        assert_eq!(url, "http://fast");
        fleet.finish(fast, Duration::from_millis(100), true);
        // With 3 in flight on the fast one, it is still expected to finish first.
        let picks: Vec<String> = (0..4).map(|_| fleet.pick().1).collect();
        assert_eq!(
            picks,
            ["http://fast", "http://fast", "http://fast", "http://slow"]
        );
    }

    #[test]
    fn an_unreachable_server_is_left_alone() {
        let fleet = Fleet::new(&["http://a".into(), "http://b".into()]);
        let (a, url) = fleet.pick();
        assert_eq!(url, "http://a");
        fleet.finish(a, Duration::from_millis(1), false);
        for _ in 0..3 {
            let (pick, url) = fleet.pick();
            assert_eq!(url, "http://b");
            fleet.finish(pick, Duration::from_millis(1), true);
        }
    }
}
