//! The guest bindings of the tdg contract (`wit/v0.3/tdg.wit` in this crate, which
//! the repository's top-level `wit/` links to), one module per one-role world.
//!
//! Each world is generated with its own export macro, so that a component exports
//! only the roles it fills: a format plugin built with the SDK does not also claim
//! to be a parser. A plugin that fills two roles calls two worlds' macros, and the
//! component tooling unions the worlds (this is why `prompt-parser-plugin` is not
//! generated: its interfaces would be generated twice). The shared `types` and
//! `host` interfaces are generated once, in [`prompt_plugin`], and the other worlds
//! reuse them through `with`, so a `PluginError` is one type whatever the role.
//! Plugin authors do not use these modules; the crate root re-exports what they
//! need, and [`export_plugin!`](crate::export_plugin) calls the macros.

/// The prompt role; also the home of the shared types and host functions.
pub mod prompt_plugin {
    wit_bindgen::generate!({
        world: "prompt-plugin",
        path: "wit/v0.3",
        pub_export_macro: true,
        export_macro_name: "__export_prompt_plugin",
        default_bindings_module: "tdg_plugin_sdk::__private::prompt_plugin",
    });
}

/// The parser role.
pub mod parser_plugin {
    wit_bindgen::generate!({
        world: "parser-plugin",
        path: "wit/v0.3",
        with: {
            "tdg:plugin/types@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::types,
            "tdg:plugin/host@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::host,
        },
        pub_export_macro: true,
        export_macro_name: "__export_parser_plugin",
        default_bindings_module: "tdg_plugin_sdk::__private::parser_plugin",
    });
}

/// The format role.
pub mod format_plugin {
    wit_bindgen::generate!({
        world: "format-plugin",
        path: "wit/v0.3",
        with: {
            "tdg:plugin/types@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::types,
            "tdg:plugin/host@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::host,
        },
        pub_export_macro: true,
        export_macro_name: "__export_format_plugin",
        default_bindings_module: "tdg_plugin_sdk::__private::format_plugin",
    });
}

/// The loader role (since contract 0.2.1).
pub mod loader_plugin {
    wit_bindgen::generate!({
        world: "loader-plugin",
        path: "wit/v0.3",
        with: {
            "tdg:plugin/types@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::types,
            "tdg:plugin/host@0.3.0": crate::bindings::prompt_plugin::tdg::plugin::host,
        },
        pub_export_macro: true,
        export_macro_name: "__export_loader_plugin",
        default_bindings_module: "tdg_plugin_sdk::__private::loader_plugin",
    });
}
