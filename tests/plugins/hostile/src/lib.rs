//! A format plugin that misbehaves on request, to test tdg's sandbox. The example's
//! question says what to do:
//!
//! - `trap`: panic; `loop`: never return; `alloc`: allocate without bound;
//! - `file`, `env`, `clock`, `network`: try to reach the host's file system,
//!   environment, clock or network, and report what happened;
//! - `print`: write to stdout and stderr; anything else: echo the question.
//!
//! It is also a loader of the `hostile` format (`.hostile` files), whose file name
//! says what to do: `trap.hostile` panics, `loop.hostile` never returns,
//! `alloc.hostile` allocates without bound, `error.hostile` reports an error; any
//! other file gives one part saying how many bytes it had.

use tdg_plugin_sdk::{DocumentPart, Format, Loader, Options, PluginError, TrainingExample};

struct Hostile;

fn reported(message: String) -> Result<String, PluginError> {
    Err(PluginError::new(message))
}

impl Format for Hostile {
    const NAME: &str = "hostile";
    const DESCRIPTION: &str = "misbehaves on request";
    const FILE_SUFFIX: &str = "_hostile";

    fn format_example(example: TrainingExample, _options: &Options) -> Result<String, PluginError> {
        match example.question.as_str() {
            "trap" => panic!("hostile plugin panics on purpose"),
            "loop" => {
                let mut counter = 0u64;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => Ok(serde_json::json!({ "leaked": text }).to_string()),
                Err(error) => reported(format!("file denied: {error}")),
            },
            "env" => {
                let count = std::env::vars().count();
                match std::env::var("HOME") {
                    Ok(home) => Ok(serde_json::json!({ "leaked": home }).to_string()),
                    Err(error) => reported(format!("env denied: {count} variables, HOME: {error}")),
                }
            }
            "clock" => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(u64::MAX);
                Ok(serde_json::json!({ "clock_secs": now }).to_string())
            }
            "network" => match std::net::TcpStream::connect(example.answer.as_str()) {
                Ok(_) => Ok(serde_json::json!({ "leaked": "connected" }).to_string()),
                Err(error) => reported(format!("network denied: {error}")),
            },
            "print" => {
                println!("hello from the plugin's stdout");
                eprintln!("hello from the plugin's stderr");
                Ok(serde_json::json!({ "printed": true }).to_string())
            }
            other => Ok(serde_json::json!({ "echo": other }).to_string()),
        }
    }
}

tdg_plugin_sdk::export_plugin!(format: Hostile);

struct HostileLoader;

impl Loader for HostileLoader {
    const DESCRIPTION: &str = "misbehaves on request, by file name";
    const FORMATS: &[(&str, &[&str])] = &[("hostile", &["hostile"])];

    fn load(
        file_name: String,
        bytes: Vec<u8>,
        _options: &Options,
    ) -> Result<Vec<DocumentPart>, PluginError> {
        match file_name.as_str() {
            "trap.hostile" => panic!("hostile loader panics on purpose"),
            "loop.hostile" => {
                let mut counter = 0u64;
                loop {
                    counter = std::hint::black_box(counter.wrapping_add(1));
                }
            }
            "alloc.hostile" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "error.hostile" => Err(PluginError::new("error.hostile: refused on purpose")),
            _ => Ok(vec![
                DocumentPart::new(format!("{} bytes", bytes.len()))
                    .with_metadata("loader", "hostile"),
            ]),
        }
    }
}

tdg_plugin_sdk::export_plugin!(loader: HostileLoader);
