//! The mock model server lives in its own crate (`tests/mock-server`) so that the
//! benchmarks can run it too.
#[allow(unused_imports)]
pub use tdg_mock_server::*;
