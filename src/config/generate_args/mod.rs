//! `tdg generate`'s options, as clap reads them from the command line and the
//! environment and serde reads them from the config file: one struct per group of
//! options (one file each), flattened into [`GenerateArgs`], so that a key of
//! `tdg.toml` is always the option's name. Every value is optional here, so that the
//! layers can be merged; [`super::generate`] applies the defaults, the same constants
//! the help texts state ([`super::help`]).
//!
//! serde's `deny_unknown_fields` does not combine with `flatten`, so the config
//! file's keys are checked against [`config_keys`], read from the groups' own serde
//! definitions: a key no group knows is refused, naming it.

mod cost;
mod generation;
mod model;
mod quality;
mod requests;
mod run;
mod training;

use std::path::PathBuf;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::DEFAULT_CONFIG_FILE;
pub use cost::CostArgs;
pub use generation::GenerationArgs;
pub use model::ModelArgs;
pub use quality::QualityArgs;
pub use requests::RequestArgs;
pub use run::{DirArgs, RunArgs};
pub use training::TrainingArgs;

/// `tdg generate`'s options. Also the schema of the config file: each field of a
/// group is a key.
#[derive(Debug, Default, Clone, Args, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateArgs {
    #[command(flatten)]
    #[serde(flatten)]
    pub dirs: DirArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub generation: GenerationArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub requests: RequestArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub quality: QualityArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub cost: CostArgs,

    #[command(flatten)]
    #[serde(flatten)]
    pub training: TrainingArgs,

    /// Repeat the run a dataset card records (the README.md `tdg export` wrote): its provider, model, sampling, prompt, plugins and quality gate, under the command line.
    #[arg(long, value_name = "CARD")]
    #[serde(skip)]
    pub from_card: Option<PathBuf>,

    /// Config file [default: the config file in the working directory, if present].
    #[arg(long, env = "TDG_CONFIG", value_name = "FILE",
          help = format!("Config file [default: {DEFAULT_CONFIG_FILE} in the working directory, if present]"))]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// Every key the config file may hold: the fields of each group, as serde names
/// them (fields serde skips, such as `--var` and `--config`, are command-line only).
pub fn config_keys() -> Vec<&'static str> {
    let mut keys = Vec::new();
    keys.extend_from_slice(fields_of::<DirArgs>());
    keys.extend_from_slice(fields_of::<ModelArgs>());
    keys.extend_from_slice(fields_of::<GenerationArgs>());
    keys.extend_from_slice(fields_of::<RunArgs>());
    keys.extend_from_slice(fields_of::<RequestArgs>());
    keys.extend_from_slice(fields_of::<QualityArgs>());
    keys.extend_from_slice(fields_of::<CostArgs>());
    keys.extend_from_slice(fields_of::<TrainingArgs>());
    keys
}

/// The first key of `keys` that is not a config key, if any.
pub fn unknown_key<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let known = config_keys();
    keys.into_iter().find(|key| !known.contains(key))
}

/// The field names serde's derive gives a struct: it names them to the
/// deserializer when it asks for a struct, which this one records and then refuses.
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("only the field names were wanted"))
    }

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        enum identifier ignored_any
    }
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_keys_are_every_groups_fields_and_only_those() {
        let keys = config_keys();
        for key in [
            "chunks_dir",
            "model",
            "questions_per_chunk",
            "vars",
            "resume",
            "request_timeout",
            "dedupe",
            "max_cost",
            "batch_api",
            "format",
        ] {
            assert!(keys.contains(&key), "{key} is a config key");
        }
        // Command-line only: serde skips them.
        for key in ["var", "config", "from_card", "dry_run", "format_opt"] {
            assert!(!keys.contains(&key), "{key} is not a config key");
        }
        assert_eq!(unknown_key(["model", "modle"]), Some("modle"));
        assert_eq!(unknown_key(["model", "temperature"]), None);
    }

    #[test]
    fn key_value_parsing() {
        assert_eq!(parse_key_value("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=x").is_err());
    }
}
