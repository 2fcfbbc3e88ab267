//! The on-disk cache of compiled components.
//!
//! Compiling a component with Cranelift takes far longer than loading compiled code,
//! so each component is compiled once and kept in the user's cache directory
//! (`$TDG_CACHE_DIR`, else `<cache dir>/tdg/components`), keyed by the SHA-256 of the
//! component's bytes and of the engine's compatibility hash (wasmtime version and
//! settings).
//!
//! Loading compiled code runs it without validation, so tdg deserializes only files
//! it wrote itself: each entry starts with a magic tag and the SHA-256 of the code
//! that follows, is written atomically (temporary file, then rename), and lives in a
//! directory only its owner may write to. An entry that fails any check is compiled
//! again and replaced.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The tag every cache entry starts with.
const MAGIC: &[u8; 8] = b"tdgcwsm1";
const DIGEST_LEN: usize = 32;

/// Where compiled components are kept; `None` disables the cache.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    /// The cache in `$TDG_CACHE_DIR` or the user's cache directory.
    pub fn from_env() -> Self {
        let dir = std::env::var_os("TDG_CACHE_DIR")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|dir| dir.join("tdg").join("components")));
        ComponentCache { dir }
    }

    /// A cache in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        ComponentCache {
            dir: Some(dir.into()),
        }
    }

    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        ComponentCache { dir: None }
    }

    /// The compiled form of `bytes`, from the cache or freshly compiled (and then
    /// stored). Problems with the cache itself are logged, never fatal.
    pub fn load_or_compile(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
        let Some(path) = self.entry_path(engine, bytes) else {
            return Component::new(engine, bytes);
        };
        if let Some(component) = read_entry(engine, &path) {
            return Ok(component);
        }
        let code = engine.precompile_component(bytes)?;
        if let Err(error) = write_entry(&path, &code) {
            tracing::debug!(
                "could not store compiled plugin in {}: {error}",
                path.display()
            );
        }
        // SAFETY: `code` was produced by `precompile_component` on this very engine
        // a moment ago; it never left this process.
        unsafe { Component::deserialize(engine, &code) }
    }

    /// The entry file for `bytes`, or `None` if the cache is disabled.
    fn entry_path(&self, engine: &Engine, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut key = Sha256::new();
        key.update(Sha256::digest(bytes));
        engine
            .precompile_compatibility_hash()
            .hash(&mut Sha256Hasher(&mut key));
        Some(dir.join(format!("{}.cwasm", hex(&key.finalize()))))
    }
}

/// Feeds `Hash` output into a SHA-256, so the key does not depend on `std`'s
/// unspecified hasher.
struct Sha256Hasher<'a>(&'a mut Sha256);

impl Hasher for Sha256Hasher<'_> {
    fn finish(&self) -> u64 {
        0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

use crate::digest::hex;

/// Reads and checks an entry; `None` (after removing a bad entry) if it is missing,
/// not ours, or damaged.
fn read_entry(engine: &Engine, path: &Path) -> Option<Component> {
    let data = fs::read(path).ok()?;
    if !is_private(path) || !is_private(path.parent()?) {
        tracing::warn!(
            "ignoring compiled plugin {}: others may write to it",
            path.display()
        );
        return None;
    }
    let intact = data.len() > MAGIC.len() + DIGEST_LEN
        && data.starts_with(MAGIC)
        && data[MAGIC.len()..MAGIC.len() + DIGEST_LEN]
            == Sha256::digest(&data[MAGIC.len() + DIGEST_LEN..])[..];
    if !intact {
        tracing::debug!("removing damaged compiled plugin {}", path.display());
        let _ = fs::remove_file(path);
        return None;
    }
    let code = &data[MAGIC.len() + DIGEST_LEN..];
    // SAFETY: the entry carries our tag and the digest of its code, was written by
    // `write_entry` into a directory only this user may write to, and its key
    // includes the engine's compatibility hash. wasmtime checks the version and
    // settings again and rejects code made for another engine.
    match unsafe { Component::deserialize(engine, code) } {
        Ok(component) => Some(component),
        Err(error) => {
            tracing::debug!("recompiling {}: {error}", path.display());
            let _ = fs::remove_file(path);
            None
        }
    }
}

/// Writes an entry atomically, creating the cache directory private to this user.
fn write_entry(path: &Path, code: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entry paths have a parent");
    create_private_dir(dir)?;
    let digest = Sha256::digest(code);
    crate::atomic_file::write_with(path, |file| {
        file.write_all(MAGIC)?;
        file.write_all(&digest)?;
        file.write_all(code)
    })
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

/// True when no one but the owner may write to `path`.
#[cfg(unix)]
fn is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.permissions().mode() & 0o022 == 0)
}

#[cfg(not(unix))]
fn is_private(_path: &Path) -> bool {
    true
}
