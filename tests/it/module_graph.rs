//! The library's import graph, drawn from the `use crate::…`, `super::…` and
//! `crate::…` paths of `src/` (test code left out), held to the layering that
//! `docs/architecture.md` describes:
//!
//! - the top-level modules are stacked in [`LAYERS`], and a module imports only
//!   modules of a layer below its own (so there is no circle, and no arrow runs up);
//! - inside a module, the files beside each other never import each other in a
//!   circle (a module's `mod.rs`, its face, may use and re-export its children).
//!
//! A new top-level module must be given its layer here, which is the point: where it
//! sits is a decision, written down.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, ground floor first. A module may import only
/// modules of an earlier layer.
const LAYERS: &[&[&str]] = &[
    // Whether running a task again may help: the word every error answers with; and
    // what kind of example a run makes (`--task`), which every stage reads.
    &["failure", "task"],
    // Shared words and tools, no stage: files, JSON, digests, messages, question
    // types, HTTP/TLS helpers, sentence splitting, secrets, time, progress.
    &[
        "atomic_file",
        "chat",
        "chunk_place",
        "digest",
        "dir_lock",
        "net",
        "progress",
        "pyjson",
        "qa_file",
        "question_types",
        "redact",
        "sentences",
        "timestamp",
    ],
    // The plugin host: prompt, parser and format components run here.
    &["plugin"],
    // The stages of the flow, in its order.
    &["chunks"],
    &["shard"],
    &["prompt"],
    &["hub"],
    &["provider"],
    // Documents to chunk files: the flow's first stage, placed above the chunk files'
    // reader, the plugin host (its loaders) and the embedded engine (its tokenizers).
    &["documents"],
    &["quality"],
    &["checkpoint"],
    &["batch"],
    &["outputs"],
    // What the commands run, each built from the stages.
    &[
        "combine", "convert", "export", "generate", "reparse", "review", "stats", "validate",
    ],
    &["merge"],
    // Options, environment and config files into settings; then the command line.
    &["config"],
    &["cli"],
];

/// A module of the crate, as its path from the root (`["provider", "embedded"]`).
type ModulePath = Vec<String>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library source file (the binary's `main.rs` and `commands/` aside, and
/// files that hold only tests), by module path.
fn library_files() -> BTreeMap<ModulePath, PathBuf> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![src_dir()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let relative = path.strip_prefix(src_dir()).unwrap().with_extension("");
            let mut module: ModulePath = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let file = module.last().cloned().unwrap_or_default();
            if path.extension().is_none_or(|e| e != "rs")
                || module[0] == "main"
                || module[0] == "commands"
                || file == "tests"
                || file.ends_with("_tests")
            {
                continue;
            }
            if file == "mod" || module == ["lib"] {
                module.pop();
            }
            files.insert(module, path);
        }
    }
    files
}

/// The source without comment lines and without an inline `mod tests`.
fn code_of(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap();
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => &source[..],
    };
    source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let Some(open) = tree.find('{') else {
        out.push(format!("{prefix}{tree}"));
        return;
    };
    let Some(close) = tree.rfind('}') else {
        return;
    };
    let head = format!("{prefix}{}", &tree[..open]);
    let (mut depth, mut start) = (0, open + 1);
    for (i, c) in tree.char_indices().take(close).skip(open + 1) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                expand_use(&tree[start..i], &head, out);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < close {
        expand_use(&tree[start..close], &head, out);
    }
}

/// Every path in `code`: the expanded `use` trees and each `a::b::c` written inline.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = &rest[at + 4..];
        if starts_word && let Some(end) = after.find(';') {
            let tree: String = after[..end].split_whitespace().collect();
            expand_use(&tree, "", &mut paths);
        }
        rest = after;
    }
    let mut word = String::new();
    for c in code.chars().chain(std::iter::once(' ')) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.contains("::") {
                paths.push(word.trim_matches(':').to_string());
            }
            word.clear();
        }
    }
    paths
}

/// The modules `module` imports, each resolved to the deepest module file it names.
fn imports_of(
    module: &ModulePath,
    code: &str,
    modules: &BTreeSet<ModulePath>,
) -> BTreeSet<ModulePath> {
    let mut found = BTreeSet::new();
    for path in paths_in(code) {
        let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        let mut base: ModulePath = match parts.first() {
            Some(&"crate") => {
                parts.remove(0);
                Vec::new()
            }
            Some(&"super") => {
                let mut base = module.clone();
                while parts.first() == Some(&"super") {
                    parts.remove(0);
                    base.pop();
                }
                base
            }
            Some(&"self") => {
                parts.remove(0);
                module.clone()
            }
            Some(first) => {
                let mut child = module.clone();
                child.push(first.to_string());
                if !modules.contains(&child) {
                    continue;
                }
                module.clone()
            }
            None => continue,
        };
        let base_len = base.len();
        base.extend(parts.iter().map(|p| p.to_string()));
        while base.len() > base_len && !modules.contains(&base) {
            base.pop();
        }
        if !base.is_empty() && modules.contains(&base) && &base != module {
            found.insert(base);
        }
    }
    found
}

fn is_ancestor(a: &ModulePath, b: &ModulePath) -> bool {
    a.len() < b.len() && b[..a.len()] == a[..]
}

fn graph() -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let files = library_files();
    let modules: BTreeSet<ModulePath> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, path)| (module.clone(), imports_of(module, &code_of(path), &modules)))
        .collect()
}

/// The circles of `edges` (strongly connected parts of more than one module).
fn circles(edges: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<String>> {
    let reaches = |from: &ModulePath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(next) = todo.pop() {
            for to in edges.get(&next).into_iter().flatten() {
                if seen.insert(to.clone()) {
                    todo.push(to.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&ModulePath, BTreeSet<ModulePath>> =
        edges.keys().map(|m| (m, reaches(m))).collect();
    let mut circles = BTreeSet::new();
    for (module, reached) in &reach {
        if !reached.contains(*module) {
            continue;
        }
        let circle: Vec<String> = reached
            .iter()
            .filter(|other| reach.get(other).is_some_and(|back| back.contains(*module)))
            .map(|m| m.join("::"))
            .collect();
        circles.insert(circle);
    }
    circles.into_iter().collect()
}

#[test]
fn top_level_modules_import_only_the_layers_below_them() {
    let layer_of = |name: &str| LAYERS.iter().position(|layer| layer.contains(&name));
    let mut wrong = Vec::new();
    for (module, imports) in graph() {
        let Some(top) = module.first() else { continue };
        let Some(layer) = layer_of(top) else {
            wrong.push(format!(
                "src/{top}: not placed in LAYERS (tests/it/module_graph.rs)"
            ));
            continue;
        };
        for import in imports {
            let target = &import[0];
            if target == top {
                continue;
            }
            match layer_of(target) {
                Some(below) if below < layer => {}
                _ => wrong.push(format!(
                    "{} imports {} (layer {:?} is not below {top}'s)",
                    module.join("::"),
                    import.join("::"),
                    layer_of(target)
                )),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "arrows running up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn files_beside_each_other_never_import_in_a_circle() {
    // Between modules, the layering above rules circles out; inside one, a module's
    // face (`mod.rs`) may use its children, so only the edges between files that
    // are not one another's ancestors are kept.
    let edges: BTreeMap<ModulePath, BTreeSet<ModulePath>> = graph()
        .into_iter()
        .map(|(module, imports)| {
            let kept = imports
                .into_iter()
                .filter(|to| !is_ancestor(to, &module) && !is_ancestor(&module, to))
                .collect();
            (module, kept)
        })
        .collect();
    let found = circles(&edges);
    assert!(found.is_empty(), "import circles: {found:?}");
}

#[test]
fn the_graph_reader_sees_imports_and_circles() {
    // The checks above are only as good as this reader: it must find the imports
    // of a known file and report a circle when there is one.
    let modules: BTreeSet<ModulePath> = [vec!["a"], vec!["a", "x"], vec!["a", "y"], vec!["b"]]
        .into_iter()
        .map(|m| m.into_iter().map(String::from).collect())
        .collect();
    let code = "use super::y::{Thing, other::{More}};\nuse crate::b;\nfn f() { crate::a::x::g(); }";
    let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<ModulePath>();
    let found = imports_of(&path(&["a", "x"]), code, &modules);
    assert_eq!(
        found,
        [path(&["a", "y"]), path(&["b"])].into_iter().collect()
    );

    let mut edges = BTreeMap::new();
    edges.insert(path(&["a", "x"]), [path(&["a", "y"])].into_iter().collect());
    edges.insert(path(&["a", "y"]), [path(&["a", "x"])].into_iter().collect());
    assert_eq!(
        circles(&edges),
        vec![vec!["a::x".to_string(), "a::y".to_string()]]
    );

    let real = graph();
    let generate = &real[&path(&["generate", "run"])];
    assert!(generate.contains(&path(&["checkpoint"])), "{generate:?}");
}
