//! The mock as a reasoning model and as a writer of conversations: a trace for each
//! answer, put where each provider documents it ([`Thinking`]), and follow-up
//! exchanges when the prompt asks for conversations.

use serde_json::{Value, json};

/// Where the mock's answers carry a reasoning model's trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Thinking {
    /// No trace: a model that does not reason.
    None = 0,
    /// Apart from the text, in each provider's documented field: Ollama's
    /// `message.thinking` (asked with `think: true`), OpenAI-compatible
    /// `message.reasoning_content`, Anthropic's `thinking` content blocks (asked with
    /// `thinking`), Gemini's parts marked `thought: true` (asked with
    /// `thinkingConfig.includeThoughts`).
    Apart = 1,
    /// In the text, in a `<think>…</think>` block before the answer.
    InText = 2,
}

impl Thinking {
    pub fn from_u8(value: u8) -> Self {
        match value {
            1 => Thinking::Apart,
            2 => Thinking::InText,
            _ => Thinking::None,
        }
    }
}

/// The trace the mock "thinks" for a chunk: grounded in its first sentence, as a
/// reasoning model's would be.
pub fn trace_for(chunk: &str) -> String {
    let first = chunk
        .split_inclusive(['.', '\n'])
        .map(str::trim)
        .find(|sentence| sentence.split_whitespace().count() >= 4)
        .unwrap_or(chunk.trim());
    format!(
        "The questions must come from the text. It says: {first} Each answer restates what the text says about its topic, in full sentences."
    )
}

/// The follow-up exchanges each conversation of `prompt` is asked for, when the
/// prompt asks for conversations (the default template's "a list of N more").
pub fn follow_ups_asked(prompt: &str) -> Option<usize> {
    let at = prompt.find("\"follow_ups\": a list of ")?;
    prompt[at + "\"follow_ups\": a list of ".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How many conversations `prompt` asks for ("Write N conversations").
pub fn conversations_asked(prompt: &str) -> usize {
    prompt
        .split_whitespace()
        .skip_while(|word| *word != "Write")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// `conversations` conversations about `chunk`, each with `follow_ups` more
/// exchanges that ask about the earlier answer and answer from the chunk.
pub fn conversations(chunk: &str, conversations: usize, follow_ups: usize) -> String {
    let pairs = crate::pairs_for(chunk, conversations * (1 + follow_ups));
    let sentences: Vec<&str> = chunk
        .split_inclusive(['.', ';'])
        .map(str::trim)
        .filter(|sentence| sentence.split_whitespace().count() >= 4)
        .collect();
    let items: Vec<Value> = pairs
        .chunks(1 + follow_ups)
        .map(|exchanges| {
            let (question, answer) = &exchanges[0];
            // Each follow-up is answered from a later sentence of the chunk, so that
            // no reply repeats an earlier one.
            let more: Vec<Value> = exchanges[1..]
                .iter()
                .enumerate()
                .map(|(k, (q, a))| {
                    let follow_up = format!("Building on that, {}", lower_first(q));
                    let reply = match sentences.get(k + 1) {
                        Some(sentence) => format!("The text goes on: {sentence}"),
                        None => a.clone(),
                    };
                    json!({"question": follow_up, "answer": reply})
                })
                .collect();
            // `MOCK-OFF-TOPIC-TURN`: the last follow-up wanders off the chunk, as a
            // small model's third answer may.
            let mut more = more;
            if chunk.contains("MOCK-OFF-TOPIC-TURN")
                && let Some(last) = more.last_mut()
            {
                last["answer"] =
                    json!("Bananas, grown in tropical climates, are rich in potassium and fibre.");
            }
            json!({"question": question, "answer": answer, "type": "factual", "follow_ups": more})
        })
        .collect();
    serde_json::to_string(&items).unwrap()
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
