//! The plugins built into tdg: compiled to components by `build.rs` from
//! `plugins/*` and embedded in the binary.

/// A plugin embedded in the binary.
#[derive(Debug)]
pub struct Builtin {
    /// The name users give to `--format`, `--parser` or `--prompt-plugin` (or, for a
    /// loader, the name `tdg plugins` shows).
    pub name: &'static str,
    /// What it does, for `tdg plugins`.
    pub description: &'static str,
    /// The component.
    pub bytes: &'static [u8],
}

/// Every built-in plugin.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "default-prompt",
        description: "the default prompt (templates/qa_prompt.jinja) and a forgiving JSON answer parser",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/default-prompt.wasm")),
    },
    Builtin {
        name: "alpaca",
        description: "Alpaca training records in one \"text\" field, byte for byte as the original tool wrote them",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/alpaca.wasm")),
    },
    Builtin {
        name: "alpaca-json",
        description: "Alpaca {\"instruction\", \"input\", \"output\"} records, as LLaMA-Factory and Axolotl read them",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/alpaca-json.wasm")),
    },
    Builtin {
        name: "sharegpt",
        description: "ShareGPT {\"conversations\": [{\"from\", \"value\"}]} records",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/sharegpt.wasm")),
    },
    Builtin {
        name: "openai-chat",
        description: "chat {\"messages\": [{\"role\", \"content\"}]} records, as OpenAI fine-tuning and TRL read them",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/openai-chat.wasm")),
    },
    Builtin {
        name: "markup-loader",
        description: "reads HTML (main content; --html-full for the whole page), DOCX, ODT and EPUB as Markdown, for tdg chunk",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/markup-loader.wasm")),
    },
    Builtin {
        name: "pdf-loader",
        description: "reads PDF text page by page (pdf-extract), for tdg chunk; a scanned page gives no text",
        bytes: include_bytes!(concat!(env!("OUT_DIR"), "/pdf-loader.wasm")),
    },
];

/// The built-in plugins that fill the loader role, read by `tdg chunk`.
pub const LOADERS: &[&str] = &["markup-loader", "pdf-loader"];

/// The built-in plugin called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|plugin| plugin.name == name)
}

/// The built-in names, comma-separated, for messages.
pub fn names() -> String {
    BUILTINS
        .iter()
        .map(|plugin| plugin.name)
        .collect::<Vec<_>>()
        .join(", ")
}
