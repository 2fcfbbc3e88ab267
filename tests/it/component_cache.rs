//! The compiled-component cache: entries are written once, reused, and rebuilt when
//! damaged or writable by others.

use std::path::{Path, PathBuf};

use tdg::plugin::{ComponentCache, PluginHost, PluginLimits, PluginSource};

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

fn load_alpaca(cache_dir: &Path) {
    let host = PluginHost::new(PluginLimits::default(), ComponentCache::in_dir(cache_dir)).unwrap();
    let plugin = host
        .format_plugin(&PluginSource::parse("alpaca").unwrap())
        .unwrap();
    assert_eq!(plugin.info().extension, "jsonl");
}

#[test]
fn a_component_is_compiled_once_and_then_loaded_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("components");
    load_alpaca(&dir);
    let files = entries(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].extension().unwrap(), "cwasm");
    let written = std::fs::metadata(&files[0]).unwrap().modified().unwrap();
    load_alpaca(&dir);
    assert_eq!(entries(&dir), files);
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().modified().unwrap(),
        written,
        "the entry was rewritten"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}

#[test]
fn a_damaged_entry_is_rebuilt() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("components");
    load_alpaca(&dir);
    let entry = entries(&dir).pop().unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();
    load_alpaca(&dir);
    let rebuilt = std::fs::read(&entry).unwrap();
    assert_ne!(
        rebuilt, bytes,
        "the damaged entry should have been replaced"
    );

    std::fs::write(&entry, b"tdgcwsm1 truncated").unwrap();
    load_alpaca(&dir);
    assert_eq!(std::fs::read(&entry).unwrap(), rebuilt);
}

#[cfg(unix)]
#[test]
fn an_entry_others_may_write_is_not_trusted() {
    use std::os::unix::fs::PermissionsExt;
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("components");
    load_alpaca(&dir);
    let entry = entries(&dir).pop().unwrap();
    // Another user could have swapped in anything: the host must not load it.
    std::fs::write(
        &entry,
        b"tdgcwsm1 not ours at all, but writable by the group",
    )
    .unwrap();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
    load_alpaca(&dir);
    // The entry was ignored (the plugin still loaded, compiled afresh).
    assert!(std::fs::read(&entry).unwrap().len() > 1000);
}
