//! The user's `--format-opt KEY=VALUE` pairs, and the one error every plugin gives
//! for an option it does not know, so that all plugins word it alike.

use crate::{KeyValue, PluginError};

/// The options the user gave a plugin, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pairs: Vec<KeyValue>,
}

impl Options {
    /// Wraps the pairs as the host passed them.
    pub fn new(pairs: Vec<KeyValue>) -> Self {
        Self { pairs }
    }

    /// Every `(key, value)` pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|pair| (pair.key.as_str(), pair.value.as_str()))
    }

    /// Every value given for `key`, in order (an option may be repeated).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.iter()
            .filter(move |(given, _)| *given == key)
            .map(|(_, value)| value)
    }

    /// The value given last for `key`: a later `KEY=VALUE` overrides an earlier one.
    pub fn last<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        self.all(key).last()
    }

    /// Checks every key against `accepted`, the forms the plugin takes (`KEY` or
    /// `KEY=VALUE`, as shown to the user), and refuses the first unknown one with
    /// [`unknown_option`].
    pub fn check(&self, plugin: &str, accepted: &[&str]) -> Result<(), PluginError> {
        let known = |key: &str| {
            accepted
                .iter()
                .any(|form| form.split('=').next() == Some(key))
        };
        match self.iter().find(|(key, _)| !known(key)) {
            Some((key, _)) => Err(unknown_option(plugin, key, accepted)),
            None => Ok(()),
        }
    }
}

/// The standard error for an option `key` that the format `plugin` does not know:
/// `` unknown option `sytem`; the openai-chat format accepts `system=TEXT` ``.
pub fn unknown_option(plugin: &str, key: &str, accepted: &[&str]) -> PluginError {
    let quoted: Vec<String> = accepted.iter().map(|form| format!("`{form}`")).collect();
    let accepts = match quoted.split_last() {
        None => "no options".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    };
    PluginError {
        message: format!("unknown option `{key}`; the {plugin} format accepts {accepts}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Options {
        Options::new(
            pairs
                .iter()
                .map(|(key, value)| KeyValue {
                    key: key.to_string(),
                    value: value.to_string(),
                })
                .collect(),
        )
    }

    #[test]
    fn the_last_value_wins_and_all_values_stay_in_order() {
        let given = options(&[("system", "a"), ("other", "x"), ("system", "b")]);
        assert_eq!(given.last("system"), Some("b"));
        assert_eq!(given.all("system").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(given.last("missing"), None);
    }

    #[test]
    fn an_unknown_key_gets_the_standard_error() {
        let given = options(&[("system", "a"), ("sytem", "b")]);
        let error = given.check("openai-chat", &["system=TEXT"]).unwrap_err();
        assert_eq!(
            error.message,
            "unknown option `sytem`; the openai-chat format accepts `system=TEXT`"
        );
        assert!(given.check("x", &["system", "sytem"]).is_ok());
    }

    #[test]
    fn the_accepted_forms_are_listed_as_prose() {
        let message = |accepted: &[&str]| unknown_option("f", "k", accepted).message;
        assert_eq!(
            message(&[]),
            "unknown option `k`; the f format accepts no options"
        );
        assert_eq!(
            message(&["input=source", "input=TEXT"]),
            "unknown option `k`; the f format accepts `input=source` or `input=TEXT`"
        );
        assert_eq!(
            message(&["a", "b", "c"]),
            "unknown option `k`; the f format accepts `a`, `b` or `c`"
        );
    }
}
