//! The document loaders (`loader` role, since contract 0.2.1) on real documents
//! (`tests/fixtures/documents/`, see its README), through `DocumentLoaders` as
//! `tdg chunk` calls them; a failing loader fails its file alone.

use crate::common;

use std::path::Path;

use tdg::plugin::loader::{DocumentLoaders, LoadOptions, LoadedPart};
use tdg::plugin::{
    CallFailure, ComponentCache, PluginError, PluginHost, PluginLimits, PluginSource, Role,
};

fn host() -> PluginHost {
    PluginHost::new(
        PluginLimits::default(),
        ComponentCache::in_dir(common::shared_cache_dir()),
    )
    .unwrap()
}

fn loaders() -> DocumentLoaders {
    DocumentLoaders::new(&host(), &[]).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let path = ["documents", "pdf-outline", "pdf-interleaved"]
        .iter()
        .map(|dir| fixtures.join(dir).join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| fixtures.join("documents").join(name));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Loads a fixture with the format its extension picks.
fn load_with(loaders: &DocumentLoaders, name: &str, options: &LoadOptions) -> Vec<LoadedPart> {
    let extension = name.rsplit_once('.').unwrap().1;
    let format = loaders
        .format_for_extension(extension)
        .unwrap_or_else(|| panic!("no format for .{extension}: {:?}", loaders.formats()));
    loaders
        .load(&format, name, &fixture(name), options)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn load(name: &str) -> Vec<LoadedPart> {
    load_with(&loaders(), name, &LoadOptions::default())
}

fn only_part(name: &str) -> LoadedPart {
    let mut parts = load(name);
    assert_eq!(parts.len(), 1, "{name}: {parts:#?}");
    let part = parts.remove(0);
    assert_eq!(part.page, None, "{name}");
    part
}

/// The text of every page of a PDF fixture, in order.
fn all_pages(name: &str) -> String {
    load(name).iter().map(|part| part.text.as_str()).collect()
}

fn has_line(text: &str, wanted: impl Fn(&str) -> bool) -> bool {
    text.lines().any(|line| wanted(line.trim()))
}

#[test]
fn the_built_in_loaders_read_html_docx_odt_and_epub() {
    let loaders = loaders();
    let formats = loaders.formats();
    for format in ["docx", "epub", "html", "odt", "pdf"] {
        assert!(formats.contains(&format.to_string()), "{formats:?}");
    }
    assert_eq!(loaders.format_for_extension("htm").as_deref(), Some("html"));
    assert_eq!(
        loaders.format_for_extension("HTML").as_deref(),
        Some("html")
    );
    assert_eq!(loaders.format_for_extension("txt"), None);
}

#[test]
fn html_gives_the_main_content_with_markdown_headings() {
    let part = only_part("libffi-primitive-types.html");
    let text = &part.text;
    assert!(
        has_line(text, |l| l.starts_with('#')
            && l.contains("Primitive Types")),
        "{text}"
    );
    assert!(text.contains("ffi_type_uint8"), "{text}");
    // The navigation links of the page are not its main content.
    assert!(!text.contains("Next:"), "{text}");
}

#[test]
fn html_full_keeps_the_whole_page() {
    let parts = load_with(
        &loaders(),
        "libffi-primitive-types.html",
        &LoadOptions { html_full: true },
    );
    assert!(parts[0].text.contains("Next:"), "{}", parts[0].text);
    assert!(
        parts[0].text.contains("ffi_type_uint8"),
        "{}",
        parts[0].text
    );
}

/// libffi's README in the three office formats: its headings, its table of platforms
/// and its text, in order.
fn assert_libffi_readme(name: &str) {
    let part = only_part(name);
    let text = &part.text;
    assert!(
        has_line(text, |l| l.starts_with('#')
            && l.contains("What is libffi?")),
        "{name}: {text}"
    );
    assert!(
        has_line(text, |l| l.starts_with('#')
            && l.contains("Supported Platforms")),
        "{name}: {text}"
    );
    assert!(
        has_line(text, |l| l.starts_with("| Architecture")
            && l.contains("| Compiler")),
        "{name}: {text}"
    );
    assert!(
        has_line(text, |l| l.starts_with("| AArch64 (ARM64) | iOS")),
        "{name}: {text}"
    );
    assert!(has_line(text, |l| l.starts_with("| ---")), "{name}: {text}");
    let what = text.find("What is libffi?").unwrap();
    let platforms = text.find("Supported Platforms").unwrap();
    assert!(what < platforms, "{name}: reading order");
}

#[test]
fn docx_gives_headings_and_tables_as_markdown() {
    assert_libffi_readme("libffi-readme.docx");
}

#[test]
fn odt_gives_headings_and_tables_as_markdown() {
    assert_libffi_readme("libffi-readme.odt");
}

#[test]
fn epub_gives_headings_and_tables_as_markdown() {
    assert_libffi_readme("libffi-readme.epub");
    let part = only_part("libffi-readme.epub");
    assert_eq!(part.metadata["title"], "libffi README");
}

#[test]
fn a_pdf_gives_one_part_per_page_numbered_from_1() {
    let parts = load("zstd-manual.pdf");
    assert_eq!(parts.len(), 9, "{parts:#?}");
    for (index, part) in parts.iter().enumerate() {
        assert_eq!(part.page, Some(index as u32 + 1));
        assert!(
            part.text.trim().len() > 200,
            "page {}: {:?}",
            index + 1,
            part.text
        );
    }
    let first = &parts[0].text;
    assert!(
        first.contains("zstd") && first.contains("SYNOPSIS"),
        "{first}"
    );
    // Reading order: the synopsis comes before the description.
    assert!(
        first.find("SYNOPSIS").unwrap() < first.find("DESCRIPTION").unwrap(),
        "{first}"
    );
}

#[test]
fn a_scanned_pdf_page_gives_almost_no_text() {
    let parts = load("zstd-manual-scanned.pdf");
    assert_eq!(parts.len(), 1, "{parts:#?}");
    assert_eq!(parts[0].page, Some(1));
    assert!(parts[0].text.trim().len() < 20, "{:?}", parts[0].text);
}

#[test]
fn a_truncated_pdf_is_an_error_naming_the_file_and_the_cause() {
    let error = loaders()
        .load(
            "pdf",
            "zstd-manual-truncated.pdf",
            &std::fs::read(common::fixtures().join("broken-documents/zstd-manual-truncated.pdf"))
                .unwrap(),
            &LoadOptions::default(),
        )
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("pdf-loader"), "{message}");
    assert!(message.contains("zstd-manual-truncated.pdf"), "{message}");
    assert!(message.contains("damaged or truncated"), "{message}");
}

#[test]
fn a_file_that_is_not_its_format_is_an_error_naming_it_and_the_cause() {
    let error = loaders()
        .load(
            "docx",
            "notes.docx",
            b"not a zip at all",
            &LoadOptions::default(),
        )
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(
            error,
            PluginError::Reported {
                role: Role::Loader,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(message.contains("notes.docx"), "{message}");
    assert!(message.contains("ZIP"), "{message}");
}

#[test]
fn an_unknown_format_is_named_with_the_known_ones() {
    let message = loaders()
        .load("rtf", "a.rtf", b"", &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("`rtf`") && message.contains("docx"),
        "{message}"
    );
}

#[test]
fn a_loader_that_traps_fails_that_file_alone() {
    let host = host();
    let hostile = PluginSource::File(common::test_plugin("hostile"));
    let loaders = DocumentLoaders::new(&host, &[hostile]).unwrap();
    assert_eq!(
        loaders.format_for_extension("hostile").as_deref(),
        Some("hostile")
    );
    let error = loaders
        .load("hostile", "trap.hostile", b"", &LoadOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            error,
            PluginError::Call {
                role: Role::Loader,
                cause: CallFailure::Trap(_),
                ..
            }
        ),
        "{error:?}"
    );
    let message = loaders
        .load("hostile", "error.hostile", b"", &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(message.contains("refused on purpose"), "{message}");
    // The next file, and the other loaders, work.
    let parts = loaders
        .load("hostile", "fine.hostile", b"12345", &LoadOptions::default())
        .unwrap();
    assert_eq!(parts[0].text, "5 bytes");
    assert_eq!(parts[0].metadata["loader"], "hostile");
    let html = load_with(
        &loaders,
        "libffi-primitive-types.html",
        &LoadOptions::default(),
    );
    assert!(html[0].text.contains("ffi_type_uint8"));
}

#[test]
fn a_loader_that_never_returns_is_stopped() {
    let host = PluginHost::new(
        PluginLimits {
            memory_bytes: 16 << 20,
            time: std::time::Duration::from_millis(300),
        },
        ComponentCache::in_dir(common::shared_cache_dir()),
    )
    .unwrap();
    let loader = host
        .loader_plugin(&PluginSource::File(common::test_plugin("hostile")))
        .unwrap();
    // Loader calls get at least the loader limits, not the chunk-sized ones.
    assert_eq!(
        host.limits().for_loaders().time.as_millis(),
        PluginLimits::LOADER_TIME_MS as u128
    );
    let error = loader.load("alloc.hostile", b"", &[]).unwrap_err();
    assert!(
        matches!(
            error,
            PluginError::Call {
                cause: CallFailure::OutOfMemory { limit_mib: 512 },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        loader.load("ok.hostile", b"ab", &[]).unwrap()[0].text,
        "2 bytes"
    );
}

#[test]
fn a_real_plugin_built_against_contract_0_2_is_refused_with_the_rebuild_message() {
    // Built for 0.2.0 (before the tasks of 0.3.0 changed the parser's and the
    // format's records): loading it must say what to do, not fail at a call.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/plugins/alpaca-contract-0.2.0.wasm");
    let error = host()
        .format_plugin(&PluginSource::File(path))
        .err()
        .expect("a 0.2 plugin is refused");
    let message = error.to_string();
    assert!(
        message.contains("targets version 0.2.0 of the tdg plugin contract"),
        "{message}"
    );
    assert!(message.contains("this tdg speaks 0.3.0"), "{message}");
    assert!(message.contains("rebuild it"), "{message}");
}

#[test]
fn tdg_plugins_lists_the_loaders() {
    let output = common::tdg().arg("plugins").output().unwrap();
    common::assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("markup-loader"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("loader") && line.contains("0.3.0"), "{line}");
}

#[test]
fn a_typeset_pdf_reads_as_words_not_as_glyphs() {
    let parts = load("artistic-two-column.pdf");
    let first = &parts[0].text;
    // A space at each gap the typesetter left (pdf-extract alone gives `overthe`), the
    // word broken at the line's end joined, and ligatures as letters.
    assert!(
        first.contains("semblance of artistic control over the development of the package"),
        "{first}"
    );
    assert!(first.contains("collection of files"), "{first}");
    assert!(!first.contains('\u{FB01}'), "{first}");
}

#[test]
fn a_pdf_keeps_the_lines_drawn_with_the_next_line_operators() {
    // Ghostscript writes most lines of a paragraph with `'` (next line, show text),
    // which pdf-extract skips: each of these lines was missing, whole.
    let text = all_pages("zstd-manual.pdf");
    for line in [
        "other operation mode is implied from the command name (for example, unzstd",
        "absolute directory (i.e. \"/var/tmp/abc\")",
        "available. This command´s output can be augmented with the",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    // `sav e` in the PDF: a space drawn with a negative word spacing, inside the word.
    assert!(text.contains("save result into FILE"), "{text}");
    // Words broken at a line's end in capitals, and in an identifier, joined again.
    assert!(text.contains("ZSTDMT_NBWORKERS_MAX"), "{text}");
    let artistic = all_pages("artistic-two-column.pdf");
    assert!(artistic.contains("IMPLIED WARRANTIES"), "{artistic}");
}

#[test]
fn a_pdf_with_an_outline_gets_its_headings_from_it() {
    // The Shared MIME-info spec (DocBook through LaTeX): its outline names each section.
    let parts = load("shared-mime-info-spec.pdf");
    assert_eq!(parts.len(), 17);
    let first = &parts[0].text;
    for heading in [
        "# 1. Introduction",
        "## 1.1. Version",
        "## 1.2. What is this spec?",
    ] {
        assert!(
            has_line(first, |line| line == heading),
            "{heading:?} in:\n{first}"
        );
    }
    // The title page's lines in large type are not in the outline, so not headings.
    assert!(has_line(first, |line| line == "Thomas Leonard"), "{first}");
    let second = &parts[1].text;
    assert!(
        has_line(second, |line| line
            == "## 1.3. Language used in this specification"),
        "{second}"
    );
    assert!(
        has_line(second, |line| line == "# 2. Unified system"),
        "{second}"
    );
}

#[test]
fn a_pdf_that_draws_two_columns_row_by_row_reads_column_by_column() {
    // Each row of this PDF is drawn across both columns (make.py beside it), so the
    // glyphs in drawing order alternate between the columns line by line.
    let parts = load("artistic-interleaved.pdf");
    let first = &parts[0].text;
    assert!(
        first.starts_with("# The \"Artistic License\"\n\nPreamble"),
        "{first}"
    );
    // A paragraph of the left column reads whole, its lines in order.
    assert!(
        first.contains(
            "The intent of this document is to state the\nconditions under which a Package may be\ncopied, such that the Copyright Holder"
        ),
        "{first}"
    );
    // The left column ends before the right one begins.
    let left_end = first
        .find("Public Domain or from the Copyright Holder. A")
        .unwrap();
    let right_start = first
        .find("Package modified in such a way shall still be")
        .unwrap();
    assert!(left_end < right_start, "{first}");
    assert!(
        first.contains("3. You may otherwise modify your copy of this\nPackage in any way"),
        "{first}"
    );
}
