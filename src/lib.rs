//! tdg turns chunked documents into question-answer training data for fine-tuning
//! language models.
//!
//! The host (this crate) loads chunks, calls models, checkpoints and writes files;
//! prompt building, answer parsing and output formats are WebAssembly components
//! that fill the roles of the contract in `wit/v0.2/tdg.wit` ([`plugin`]).
//!
//! ```no_run
//! use tdg::convert::{convert, ConvertRequest};
//! use tdg::plugin::{PluginHost, PluginSource};
//!
//! let host = PluginHost::with_defaults()?;
//! let alpaca = host.format_plugin(&PluginSource::parse("alpaca")?)?;
//! let request = ConvertRequest {
//!     input: "qa_results".into(),
//!     output_dir: Some("training".into()),
//!     output_file: None,
//!     format_options: vec![],
//!     output_type: Default::default(),
//! };
//! let report = convert(&request, &alpaca)?;
//! println!("{} files converted", report.converted.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod atomic_file;
pub mod batch;
pub mod checkpoint;
pub mod chunks;
pub mod cli;
pub mod combine;
pub mod config;
pub mod convert;
pub mod digest;
pub mod dir_lock;
pub mod estimate;
pub mod export;
pub mod generate;
pub mod hub;
pub mod merge;
pub mod plugin;
pub mod progress;
pub mod prompt;
pub mod provider;
pub mod pyjson;
pub mod qa_file;
pub mod quality;
pub mod redact;
pub mod reparse;
pub mod review;
pub mod shard;
pub mod stats;
pub mod timestamp;
pub mod validate;
pub mod views;
