//! tdg turns chunked documents into question-answer training data for fine-tuning
//! language models.
//!
//! The host (this crate) loads chunks, calls models, checkpoints and writes files;
//! prompt building, answer parsing and output formats are WebAssembly components
//! that fill the roles of the contract in `wit/v0.3/tdg.wit` ([`plugin`]).
//!
//! The modules follow the flow of a run (`docs/architecture.md` maps them):
//!
//! - **Running a generation**: [`Generator`] ([`generate`]) runs the stages: chunk
//!   files ([`chunks`]) → prompts ([`prompt`]) → the model ([`provider`], or a
//!   provider's [`batch`] API) → the quality gate ([`quality`]) → the checkpoint →
//!   the Q&A files ([`outputs`]).
//! - **Reading a run**: the SQLite checkpoint ([`CheckpointStore`], [`checkpoint`]),
//!   the Q&A files ([`qa_file`]), figures ([`stats`]).
//! - **Plugins**: the host and the contract's types ([`PluginHost`], [`plugin`]).
//! - **From Q&A files to datasets**: [`combine`], [`convert`], [`export`], [`merge`],
//!   [`reparse`], [`validate`], [`review`], and model files and dataset uploads on
//!   the Hugging Face Hub ([`hub`]).
//!
//! ```no_run
//! use tdg::convert::{convert, ConvertRequest};
//! use tdg::{PluginHost, PluginSource};
//!
//! let host = PluginHost::with_defaults()?;
//! let alpaca = host.format_plugin(&PluginSource::parse("alpaca")?)?;
//! let request = ConvertRequest {
//!     input: "qa_results".into(),
//!     output_dir: Some("training".into()),
//!     output_file: None,
//!     format_options: vec![],
//!     output_type: Default::default(),
//!     reasoning_style: Default::default(),
//! };
//! let report = convert(&request, &alpaca)?;
//! println!("{} files converted", report.converted.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Running a generation, stage by stage.
pub mod batch;
pub mod chunk_place;
pub mod chunks;
pub mod documents;
pub mod generate;
pub mod hub;
pub mod outputs;
pub mod prompt;
pub mod provider;
pub mod quality;
pub mod shard;

// Reading what a run wrote.
pub mod checkpoint;
pub mod qa_file;
pub mod stats;

// Plugins.
pub mod plugin;

// From Q&A files to datasets.
pub mod combine;
pub mod convert;
pub mod export;
pub mod merge;
pub mod reparse;
pub mod review;
pub mod validate;

// Shared words that the public types above are made of.
pub mod chat;
pub mod failure;
pub mod progress;
pub mod question_types;
pub mod task;

// The command line and its settings layers, for the `tdg` binary: public so that
// the binary can reach them, not a library API.
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod dir_lock;

// The ground floor the stages share, inside the crate only.
pub(crate) mod atomic_file;
pub(crate) mod digest;
pub(crate) mod net;
pub(crate) mod pyjson;
pub(crate) mod redact;
pub(crate) mod sentences;
pub(crate) mod timestamp;

pub use checkpoint::{Access, CheckpointStore};
pub use generate::settings::GenerateSettings;
pub use generate::{GenerateError, Generator, GeneratorBuilder, RunReport};
pub use plugin::{PluginHost, PluginSource};
pub use provider::settings::ProviderKind;
