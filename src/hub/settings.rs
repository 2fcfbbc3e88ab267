//! Where the Hub is, where its cache lives, whether to go online, and the token:
//! read from the environment variables `huggingface_hub` and other tools share, so
//! a file downloaded by one is found by the others.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `HF_ENDPOINT` | the Hub's address | `https://huggingface.co` |
//! | `HF_HUB_CACHE` | the cache | `$HF_HOME/hub` |
//! | `HF_HOME` | Hugging Face's home | `$XDG_CACHE_HOME/huggingface`, `~/.cache/huggingface` |
//! | `HF_HUB_OFFLINE` | `1` to use the cache only | off |
//! | `HF_TOKEN` | an access token, for gated or private repositories | the file `$HF_TOKEN_PATH`, `$HF_HOME/token` |

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use super::error::HubError;

/// The Hub everyone uses.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How tdg talks to the Hub.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// The Hub's address, without a trailing `/`.
    pub endpoint: String,
    /// The cache (`.../hub`, holding `models--ORG--REPO` folders).
    pub cache_dir: PathBuf,
    /// Use the cache only; never go online.
    pub offline: bool,
    /// Sent as `Authorization: Bearer`, if set.
    pub token: Option<HubToken>,
    /// How often a download is tried before its error is reported (a cut-off
    /// download resumes where it stopped each time).
    pub attempts: u32,
}

impl HubSettings {
    /// Settings from the process environment.
    pub fn from_env() -> Result<Self, HubError> {
        Self::from_lookup(|name| std::env::var_os(name), dirs::home_dir())
    }

    /// Settings from variables looked up with `var` (empty values count as unset),
    /// and the user's `home` directory.
    pub fn from_lookup(
        var: impl Fn(&str) -> Option<OsString>,
        home: Option<PathBuf>,
    ) -> Result<Self, HubError> {
        let var = |name: &str| var(name).filter(|value| !value.is_empty());
        let hf_home = var("HF_HOME").map(PathBuf::from).or_else(|| {
            var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| home.map(|home| home.join(".cache")))
                .map(|cache| cache.join("huggingface"))
        });
        let cache_dir = var("HF_HUB_CACHE")
            .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
            .map(PathBuf::from)
            .or_else(|| hf_home.as_ref().map(|home| home.join("hub")))
            .ok_or(HubError::NoCacheDir)?;
        let endpoint = match var("HF_ENDPOINT") {
            Some(value) => checked_endpoint(&value.to_string_lossy())?,
            None => DEFAULT_ENDPOINT.to_string(),
        };
        let offline = var("HF_HUB_OFFLINE").is_some_and(|value| is_true(&value.to_string_lossy()));
        let token_file = var("HF_TOKEN_PATH")
            .map(PathBuf::from)
            .or_else(|| hf_home.map(|home| home.join("token")));
        let token = var("HF_TOKEN")
            .or_else(|| var("HUGGING_FACE_HUB_TOKEN"))
            .map(|value| value.to_string_lossy().into_owned())
            .or_else(|| token_file.and_then(|file| std::fs::read_to_string(file).ok()))
            .and_then(|token| HubToken::new(&token));
        Ok(HubSettings {
            endpoint,
            cache_dir,
            offline,
            token,
            attempts: 3,
        })
    }
}

/// An access token. Its `Debug` hides it, so it cannot leak into a log.
#[derive(Clone, PartialEq, Eq)]
pub struct HubToken(String);

impl HubToken {
    /// A token, trimmed; `None` if blank.
    pub fn new(token: &str) -> Option<Self> {
        let token = token.trim();
        (!token.is_empty()).then(|| HubToken(token.to_string()))
    }

    /// The token itself, for the `Authorization` header only.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HubToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HubToken(<hidden>)")
    }
}

/// `HF_ENDPOINT` as an http(s) URL without a trailing `/`.
fn checked_endpoint(value: &str) -> Result<String, HubError> {
    let invalid = |reason: String| HubError::InvalidEndpoint {
        variable: "HF_ENDPOINT",
        value: value.to_string(),
        reason,
    };
    let url = reqwest::Url::parse(value).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "it must start with http:// or https://".to_string(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Never repeat credentials in a message.
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(HubError::InvalidEndpoint {
            variable: "HF_ENDPOINT",
            value: shown.to_string(),
            reason: "it must not hold credentials; set HF_TOKEN instead".to_string(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "it must be a plain address, without a query or fragment".to_string(),
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// `huggingface_hub`'s reading of a boolean variable.
fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "1" | "ON" | "YES" | "TRUE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)], home: Option<&str>) -> Result<HubSettings, HubError> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), OsString::from(value)))
            .collect();
        HubSettings::from_lookup(|name| vars.get(name).cloned(), home.map(PathBuf::from))
    }

    #[test]
    fn defaults_follow_huggingface_hub() {
        let s = settings(&[], Some("/home/u")).unwrap();
        assert_eq!(s.endpoint, "https://huggingface.co");
        assert_eq!(s.cache_dir, PathBuf::from("/home/u/.cache/huggingface/hub"));
        assert!(!s.offline);
        assert!(s.token.is_none());
        let s = settings(&[("XDG_CACHE_HOME", "/xdg")], Some("/home/u")).unwrap();
        assert_eq!(s.cache_dir, PathBuf::from("/xdg/huggingface/hub"));
        assert!(matches!(settings(&[], None), Err(HubError::NoCacheDir)));
    }

    #[test]
    fn cache_variables_take_precedence_in_order() {
        let s = settings(&[("HF_HOME", "/hf")], Some("/home/u")).unwrap();
        assert_eq!(s.cache_dir, PathBuf::from("/hf/hub"));
        let s = settings(
            &[
                ("HF_HOME", "/hf"),
                ("HF_HUB_CACHE", "/cache"),
                ("HUGGINGFACE_HUB_CACHE", "/old"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(s.cache_dir, PathBuf::from("/cache"));
        let s = settings(
            &[("HF_HUB_CACHE", ""), ("HUGGINGFACE_HUB_CACHE", "/old")],
            None,
        )
        .unwrap();
        assert_eq!(s.cache_dir, PathBuf::from("/old"));
    }

    #[test]
    fn endpoint_offline_and_token_are_read() {
        let s = settings(
            &[
                ("HF_ENDPOINT", "http://127.0.0.1:9/mirror/"),
                ("HF_HUB_OFFLINE", "yes"),
                ("HF_TOKEN", " hf_secret\n"),
            ],
            Some("/home/u"),
        )
        .unwrap();
        assert_eq!(s.endpoint, "http://127.0.0.1:9/mirror");
        assert!(s.offline);
        assert_eq!(s.token.as_ref().map(HubToken::secret), Some("hf_secret"));
        assert!(!format!("{s:?}").contains("hf_secret"));
        let s = settings(&[("HF_HUB_OFFLINE", "0")], Some("/home/u")).unwrap();
        assert!(!s.offline);
    }

    #[test]
    fn the_token_file_is_read_when_no_variable_is_set() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("token"), "hf_from_file\n").unwrap();
        let hf_home = home.path().to_str().unwrap();
        let s = settings(&[("HF_HOME", hf_home)], None).unwrap();
        assert_eq!(s.token.as_ref().map(HubToken::secret), Some("hf_from_file"));
        let s = settings(&[("HF_HOME", hf_home), ("HF_TOKEN", "hf_var")], None).unwrap();
        assert_eq!(s.token.as_ref().map(HubToken::secret), Some("hf_var"));
    }

    #[test]
    fn a_bad_endpoint_names_the_variable() {
        for value in ["not a url", "ftp://hub", "https://user:pw@hub"] {
            let error = settings(&[("HF_ENDPOINT", value)], Some("/h")).unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with("HF_ENDPOINT="), "{message}");
            assert!(!message.contains("pw"), "{message}");
        }
    }
}
