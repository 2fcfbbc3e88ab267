//! The card's pieces, case by case.
use super::*;

#[test]
fn document_names_are_shown_as_written_never_as_markup() {
    let shown = markdown_text("<script>alert(1)</script>|x_y*\n# z");
    assert_eq!(
        shown,
        "&lt;script&gt;alert(1)&lt;/script&gt;\\|x\\_y\\* \\# z"
    );
    assert!(!shown.contains('<'));
}

#[test]
fn size_categories_follow_the_hub() {
    assert_eq!(size_category(0), "n<1K");
    assert_eq!(size_category(999), "n<1K");
    assert_eq!(size_category(1_000), "1K<n<10K");
    assert_eq!(size_category(1_000_000), "1M<n<10M");
}

#[test]
fn the_generate_command_quotes_what_a_shell_would_split() {
    let run = RunRecord {
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        temperature: Some(0.7),
        system_message: Some("You're terse".into()),
        ..Default::default()
    };
    let command = generate_command(&run);
    assert!(command.contains("--provider openai"), "{command}");
    assert!(command.contains("--temperature 0.7"), "{command}");
    assert!(
        command.contains(r"--qa-system-message 'You'\''re terse'"),
        "{command}"
    );
}
