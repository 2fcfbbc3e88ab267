//! The integration tests, as one test binary: each module drives the `tdg` binary or
//! the library the way a user or plugin author would. `common` holds the shared helpers.

mod batch_api;
mod batch_resume;
mod builtin_plugins;
mod checkpoint_cli;
mod common;
mod component_cache;
mod contract_version;
mod convert_cli;
mod embedded;
mod embedded_judge;
mod exit_codes;
mod export;
mod export_swap;
mod formats;
mod generate_cli;
mod hub;
mod mock_server;
mod module_graph;
mod odd_inputs;
mod parser_corpus;
mod plugins_cli;
mod push;
mod python_plugin;
mod quality;
mod quality_labelled;
mod question_mix;
mod reference_doc;
mod reliability;
mod resume;
mod review;
mod review_browser;
mod sandbox;
mod scheduler;
mod shards;
mod ux_cli;
