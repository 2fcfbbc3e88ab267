//! The functions tdg offers plugins (the WIT `host` interface): `log`, and
//! `render-template`, which runs minijinja in the host.

use std::sync::{Arc, LazyLock, Mutex};

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
    let template_error = |error: minijinja::Error| TemplateError {
        name: name.to_string(),
        line: error.line().and_then(|line| u32::try_from(line).ok()),
        message: match error.detail() {
            Some(detail) => format!("{}: {detail}", error.kind()),
            None => error.kind().to_string(),
        },
    };
    let env = compiled(name, source).map_err(template_error)?;
    env.get_template(name)
        .and_then(|template| template.render(minijinja::Value::from(Serde(&context))))
        .map_err(template_error)
}

/// A compiled template: its name and source, and the environment holding it.
struct Compiled {
    name: String,
    source: String,
    env: Arc<Environment<'static>>,
}

/// Templates compiled so far. A prompt plugin renders the same template for every
/// chunk, and compiling it each time cost more than rendering it (7% of a
/// zero-latency run in `perf`, BENCHMARKS.md); at most [`MAX_COMPILED`] are kept.
static COMPILED: LazyLock<Mutex<Vec<Compiled>>> = LazyLock::new(Mutex::default);
const MAX_COMPILED: usize = 16;

/// The environment holding `source` compiled as `name`, from the cache or new.
fn compiled(name: &str, source: &str) -> Result<Arc<Environment<'static>>, minijinja::Error> {
    let mut cache = COMPILED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(hit) = cache.iter().find(|c| c.name == name && c.source == source) {
        return Ok(hit.env.clone());
    }
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    env.add_template_owned(name.to_string(), source.to_string())?;
    let env = Arc::new(env);
    if cache.len() >= MAX_COMPILED {
        cache.remove(0);
    }
    cache.push(Compiled {
        name: name.to_string(),
        source: source.to_string(),
        env: env.clone(),
    });
    Ok(env)
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
    fn a_compiled_template_is_reused_only_for_the_same_source() {
        let first = render_template("same.jinja", "{{ n }}!", r#"{"n": 1}"#).unwrap();
        let again = render_template("same.jinja", "{{ n }}!", r#"{"n": 2}"#).unwrap();
        let changed = render_template("same.jinja", "{{ n }}?", r#"{"n": 3}"#).unwrap();
        assert_eq!(
            (first.as_str(), again.as_str(), changed.as_str()),
            ("1!", "2!", "3?")
        );
        // Many templates: the cache stays bounded and each still renders its own.
        for i in 0..(MAX_COMPILED * 2) {
            let source = format!("{i}:{{{{ n }}}}");
            let out = render_template("many.jinja", &source, r#"{"n": 0}"#).unwrap();
            assert_eq!(out, format!("{i}:0"));
        }
        assert!(COMPILED.lock().unwrap().len() <= MAX_COMPILED);
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
