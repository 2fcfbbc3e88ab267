//! The functions tdg offers plugins (the WIT `host` interface): `log`, and
//! `render-template`, which runs minijinja in the host.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};

use super::bindings::host::{self, LogLevel, TemplateError};
use super::sandbox::PluginState;

/// How much work one template render may do before it is stopped (minijinja fuel).
const TEMPLATE_FUEL: u64 = 5_000_000;

impl host::Host for PluginState {
    fn log(&mut self, level: LogLevel, message: String) {
        let plugin = self.plugin_name.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, "{message}"),
            LogLevel::Info => tracing::info!(plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, "{message}"),
            LogLevel::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn render_template(
        &mut self,
        name: String,
        source: String,
        context_json: String,
    ) -> Result<String, TemplateError> {
        render_template(&name, &source, &context_json)
    }
}

/// Renders `source` (named `name` in errors) with the variables of the JSON object
/// `context_json`. Undefined variables are errors when printed, so typos show.
pub fn render_template(
    name: &str,
    source: &str,
    context_json: &str,
) -> Result<String, TemplateError> {
    let context: serde_json::Value =
        serde_json::from_str(context_json).map_err(|e| TemplateError {
            name: name.to_string(),
            line: None,
            message: format!("the template context is not valid JSON: {e}"),
        })?;
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    env.render_named_str(name, source, minijinja::Value::from(Serde(&context)))
        .map_err(|error| TemplateError {
            name: name.to_string(),
            line: error.line().and_then(|line| u32::try_from(line).ok()),
            message: match error.detail() {
                Some(detail) => format!("{}: {detail}", error.kind()),
                None => error.kind().to_string(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_variables() {
        let out = render_template(
            "t",
            "{{ n }} x {{ doc.name }}",
            r#"{"n": 3, "doc": {"name": "a"}}"#,
        )
        .unwrap();
        assert_eq!(out, "3 x a");
    }

    #[test]
    fn undefined_variable_names_line() {
        let err = render_template(
            "my.jinja",
            "line one\n{{ nmu_questions }}",
            r#"{"num_questions": 3}"#,
        )
        .unwrap_err();
        assert_eq!(err.name, "my.jinja");
        assert_eq!(err.line, Some(2));
        assert!(err.message.contains("undefined"), "{}", err.message);
    }

    #[test]
    fn syntax_error_names_line() {
        let err = render_template("bad.jinja", "ok\nok\n{% if %}", "{}").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("syntax error"), "{}", err.message);
    }

    #[test]
    fn runaway_template_is_stopped() {
        let err = render_template(
            "loop.jinja",
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            "{}",
        )
        .unwrap_err();
        assert!(err.message.contains("fuel"), "{}", err.message);
    }

    #[test]
    fn undefined_in_condition_is_false() {
        let out = render_template(
            "t",
            "{% if vars.missing %}yes{% else %}no{% endif %}",
            r#"{"vars": {}}"#,
        )
        .unwrap();
        assert_eq!(out, "no");
    }
}
