//! The gate's checks, case by case.
use super::*;

#[test]
fn the_gate_drops_duplicates_and_paraphrases_in_order() {
    let filter = QualityFilter::default();
    let mut gate = Gate::new(filter, []);
    let good = PairQuality {
        grounding: 1.0,
        ..Default::default()
    };
    let good = Some(&good);
    assert_eq!(gate.check("What does the license cover?", good, None), None);
    assert_eq!(
        gate.check("what does the LICENSE cover", good, None),
        Some(DropReason::Duplicate)
    );
    assert_eq!(
        gate.check("What does the licence cover?", good, None),
        None,
        "a different word is a different question"
    );
    assert_eq!(
        gate.check("Which rights does the license grant to users?", good, None),
        None
    );
    assert_eq!(
        gate.check("Which rights does the license grant users?", good, None),
        Some(DropReason::Duplicate)
    );
    assert_eq!(
        gate.check("The license grants users which rights?", good, None),
        Some(DropReason::Duplicate)
    );
    assert_eq!(gate.check("Who grants the license?", good, None), None);
    assert_eq!(gate.check("What does Section 3 cover?", good, None), None);
    assert_eq!(
        gate.check("What does Section 4 cover?", good, None),
        None,
        "numbers tell questions apart"
    );
    // Pairs imported from the original tool are kept as written.
    assert_eq!(gate.check("Who grants the license?", None, None), None);
    let echo = PairQuality {
        grounding: 1.0,
        evidence: None,
        echo: true,
        ..Default::default()
    };
    assert_eq!(
        gate.check("Anything", Some(&echo), None),
        Some(DropReason::Echo)
    );
}

#[test]
fn min_grounding_and_switches_apply() {
    let filter = QualityFilter {
        min_grounding: 0.5,
        drop_echoes: false,
        dedupe: DedupeScope::Off,
        ..Default::default()
    };
    let mut gate = Gate::new(filter, ["What does the license cover?".to_string()]);
    let low = PairQuality {
        grounding: 0.4,
        ..Default::default()
    };
    assert_eq!(
        gate.check("Q one two", Some(&low), None),
        Some(DropReason::Ungrounded)
    );
    let echo = PairQuality {
        grounding: 0.9,
        echo: true,
        ..Default::default()
    };
    assert_eq!(
        gate.check("Q three four", Some(&echo), None),
        None,
        "the echo filter is off"
    );
    let good = PairQuality {
        grounding: 1.0,
        ..Default::default()
    };
    assert_eq!(
        gate.check("What does the license cover?", Some(&good), None),
        None,
        "dedupe is off"
    );
}

#[test]
fn the_form_and_topic_checks_drop_by_default_and_each_can_be_turned_off() {
    let with = |change: fn(&mut PairQuality)| {
        let mut quality = PairQuality {
            grounding: 0.9,
            question_grounding: Some(0.8),
            ..Default::default()
        };
        change(&mut quality);
        quality
    };
    /// A pair that one check drops, its reason, and how to turn that check off.
    type Case = (PairQuality, DropReason, fn(&mut QualityFilter));
    let cases: [Case; 8] = [
        (
            with(|q| q.placeholder = true),
            DropReason::Placeholder,
            |f| f.drop_placeholders = false,
        ),
        (
            with(|q| q.not_question = true),
            DropReason::NotAQuestion,
            |f| f.drop_non_questions = false,
        ),
        (
            with(|q| q.question_grounding = Some(0.0)),
            DropReason::OffTopic,
            |f| f.drop_off_topic = false,
        ),
        (
            with(|q| q.thin_answer = true),
            DropReason::ThinAnswer,
            |f| f.drop_thin_answers = false,
        ),
        (with(|q| q.unfinished = true), DropReason::Unfinished, |f| {
            f.drop_unfinished = false
        }),
        (with(|q| q.grounding = 0.2), DropReason::Ungrounded, |f| {
            f.min_grounding = 0.0
        }),
        (
            with(|q| {
                q.grounding = 0.45;
                q.invented = Some(MAX_INVENTED_WORDS + 1);
            }),
            DropReason::Invented,
            |f| f.drop_invented = false,
        ),
        (
            with(|q| q.quote_takes_up = Some(QUOTE_TAKES_UP_OVER)),
            DropReason::Unanswered,
            |f| f.drop_unanswered = false,
        ),
    ];
    for (quality, reason, turn_off) in cases {
        let mut gate = Gate::new(QualityFilter::default(), []);
        assert_eq!(gate.check("Q?", Some(&quality), None), Some(reason));
        let mut filter = QualityFilter::default();
        turn_off(&mut filter);
        let mut gate = Gate::new(filter, []);
        assert_eq!(gate.check("Q?", Some(&quality), None), None, "{reason:?}");
    }
    // A checkpoint written before the question's grounding was recorded.
    let old = with(|q| q.question_grounding = None);
    assert_eq!(
        Gate::new(QualityFilter::default(), []).check("Q?", Some(&old), None),
        None
    );
}

#[test]
fn the_indexed_gate_decides_as_comparing_every_pair_would() {
    let words = [
        "license", "grant", "users", "rights", "the", "which", "does", "patent", "work", "cover",
        "section", "3",
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    let questions: Vec<String> = (0..400)
        .map(|_| {
            (0..rng.usize(2..8))
                .map(|_| words[rng.usize(..words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let filter = QualityFilter::default();
    let good = PairQuality {
        grounding: 1.0,
        ..Default::default()
    };
    let mut gate = Gate::new(filter, []);
    let mut kept: Vec<Question> = Vec::new();
    let mut duplicates = 0;
    for text in &questions {
        let question = Question::new(text);
        let brute = kept.iter().any(|k| question.near_duplicate_of(k));
        let indexed = gate.check(text, Some(&good), None) == Some(DropReason::Duplicate);
        assert_eq!(indexed, brute, "{text}");
        if brute {
            duplicates += 1;
        } else {
            kept.push(question);
        }
    }
    assert!(
        duplicates > 50 && kept.len() > 50,
        "{duplicates} duplicates"
    );
}

#[test]
fn a_gate_on_top_of_a_base_finds_its_duplicates_and_leaves_it_alone() {
    let good = PairQuality {
        grounding: 1.0,
        ..Default::default()
    };
    let good = Some(&good);
    let base = std::sync::Arc::new(Gate::new(
        QualityFilter::default(),
        ["What does the license cover?".to_string()],
    ));
    let mut top = Gate::on_top_of(base.clone());
    assert_eq!(
        top.check("What does the LICENSE cover", good, None),
        Some(DropReason::Duplicate)
    );
    assert_eq!(top.check("Who grants the license?", good, None), None);
    assert_eq!(
        top.check("Who grants the license", good, None),
        Some(DropReason::Duplicate)
    );
    assert_eq!(base.kept.len(), 1, "the base is never changed");
    let mut other = Gate::on_top_of(base);
    assert_eq!(other.check("Who grants the license?", good, None), None);
}

#[test]
fn a_follow_up_repeating_its_conversation_and_a_trace_copying_its_answer_fail() {
    let gate = Gate::new(QualityFilter::default(), []);
    let good = PairQuality {
        grounding: 1.0,
        ..Default::default()
    };
    // What SmolLM2-135M wrote: the opening question asked again.
    let opening = (
        "What is the GNU General Public License?",
        "A free, copyleft license for software.",
    );
    let again = (
        "What is the GNU General Public License?",
        "A copyleft license.",
    );
    assert_eq!(
        gate.first_bad_follow_up(opening, [(again, Some(&good))]),
        Some((0, DropReason::RepeatedTurn))
    );
    let onward = (
        "Why is it called copyleft?",
        "It keeps the same freedoms in copies.",
    );
    assert_eq!(
        gate.first_bad_follow_up(opening, [(onward, Some(&good))]),
        None
    );
    let answer = "The purpose of the GPL is to protect users' freedom to change the software.";
    assert_eq!(
        gate.check_reasoning(Some(answer), answer, Some(&good)),
        Some(DropReason::ReasoningCopiesAnswer)
    );
    assert_eq!(
        gate.check_reasoning(Some("Too short."), answer, Some(&good)),
        Some(DropReason::ReasoningEmpty)
    );
    let trace = "The text says the GPL guarantees the freedom to change software, so its purpose is that freedom.";
    assert_eq!(gate.check_reasoning(Some(trace), answer, Some(&good)), None);
    // Pairs made without the reasoning task have no trace quality: no check.
    assert_eq!(gate.check_reasoning(None, answer, None), None);
}
