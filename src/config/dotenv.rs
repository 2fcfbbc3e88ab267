//! The `.env` file: read into the environment before the command line is parsed,
//! as the original tool's `python-dotenv` did. A line that cannot be read stops tdg
//! with the file and line named, instead of silently dropping it and every line
//! after it.

use std::path::{Path, PathBuf};

use super::ConfigError;

/// The file's name.
const DOTENV_FILE: &str = ".env";

/// Finds `.env` in `dir` or the nearest directory above it, and sets each of its
/// variables that is not set already. Returns the file read, if any. Call it at
/// start-up, before other threads run: it changes the process's environment.
pub fn load_dotenv(dir: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let Some(dotenv) = read_dotenv(dir)? else {
        return Ok(None);
    };
    for (key, value) in dotenv.variables {
        if std::env::var_os(&key).is_none() {
            // SAFETY: tdg's `main` calls this first, while it is the only thread.
            unsafe { std::env::set_var(key, value) };
        }
    }
    Ok(Some(dotenv.path))
}

/// A `.env` file's variables, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotEnv {
    pub path: PathBuf,
    pub variables: Vec<(String, String)>,
}

/// Reads `.env` in `dir` or the nearest directory above it, if there is one.
pub fn read_dotenv(dir: &Path) -> Result<Option<DotEnv>, ConfigError> {
    let Some(path) = dir
        .ancestors()
        .map(|dir| dir.join(DOTENV_FILE))
        .find(|path| path.is_file())
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    let mut variables = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok((key, value)) => variables.push((key, value)),
            Err(dotenvy::Error::LineParse(bad, _)) => {
                return Err(bad_line(&path, &text, &bad));
            }
            Err(error) => {
                return Err(ConfigError::Parse {
                    path,
                    message: error.to_string(),
                });
            }
        }
    }
    Ok(Some(DotEnv { path, variables }))
}

/// The error for the (logical) line `bad` of `text`, with its line number.
fn bad_line(path: &Path, text: &str, bad: &str) -> ConfigError {
    let first = bad.lines().next().unwrap_or_default();
    let line = text
        .lines()
        .position(|line| line == first)
        .map_or(0, |index| index + 1);
    ConfigError::DotEnv {
        path: path.to_path_buf(),
        line,
        text: first.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DOTENV_FILE);
        std::fs::write(&path, "# settings\nBEFORE=1\nnot a setting\nAFTER=2\n").unwrap();
        let error = read_dotenv(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains(&format!("{}, line 3", path.display())),
            "{error}"
        );
        assert!(error.contains("not a setting"), "{error}");
    }

    #[test]
    fn the_nearest_file_above_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DOTENV_FILE),
            "FIRST=one\nexport SECOND=\"two words\" # a comment\n\nTHIRD='3'\n",
        )
        .unwrap();
        let nested = dir.path().join("sub");
        std::fs::create_dir(&nested).unwrap();
        let dotenv = read_dotenv(&nested).unwrap().unwrap();
        assert_eq!(dotenv.path, dir.path().join(DOTENV_FILE));
        let pairs = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            dotenv.variables,
            pairs(&[("FIRST", "one"), ("SECOND", "two words"), ("THIRD", "3")])
        );
    }
}
