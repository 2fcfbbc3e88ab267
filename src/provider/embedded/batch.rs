//! Continuous batching: the requests in flight are decoded together in one
//! llama.cpp context, one sequence (KV-cache slot) each. Every step feeds each
//! answering sequence its last token and fills the rest of the batch with waiting
//! prompts; the moment a sequence finishes, its slot takes the next request. A
//! request whose caller has gone (Ctrl+C) is dropped between steps and frees its slot.
//! Tokens in and out are counted exactly.
//!
//! A slot keeps its last prompt in the KV cache: the next request it takes reuses the
//! longest common prefix of the two prompts (the system message and instructions,
//! about 40% of a chunk's prompt with the default template) and is fed only the rest,
//! as llama.cpp's own server does with `cache_prompt`.

use std::collections::VecDeque;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::{mpsc, oneshot};

use super::chat_template::ChatTemplate;
use super::grammar::{AnswerSampler, answer_grammar};
use crate::chat::Message;
use crate::provider::{AnswerQuotes, AnswerSchema, ChatResponse, ContextCut, ModelError};

/// Tokens decoded in one step (prompt chunks and one token per answering sequence).
pub(super) const BATCH_TOKENS: u32 = 512;

/// One `chat` call waiting for the engine.
pub(super) struct Request {
    pub messages: Vec<Message>,
    /// The grammar of this request's answer, when not the engine's own (quoted answers).
    pub grammar: Option<String>,
    /// The sentences its answers quote, to make its grammar again for less room.
    pub quotes: Option<AnswerQuotes>,
    pub reply: oneshot::Sender<Result<ChatResponse, ModelError>>,
}

/// What every sequence is decoded with, fixed for the engine's life.
pub(super) struct DecodeConfig {
    /// The model's file, for messages.
    pub model: String,
    pub temperature: f32,
    pub max_tokens: u32,
    /// The GBNF grammar answers are decoded under, if structured.
    pub grammar: Option<String>,
    /// The answer's shape, if structured: a grammar for less room than `max_tokens`
    /// is made from it.
    pub answer: Option<AnswerSchema>,
    /// Sequences decoded together.
    pub slots: usize,
    /// Each sequence's share of the context (prompt and answer), in tokens.
    pub slot_context: u32,
    /// The context the model was trained on, in tokens.
    pub trained_context: u32,
}

/// A request ready to decode: its prompt's tokens, its answer's token limit and
/// sampler, and whether the context cut that limit below `--max-tokens`.
struct Prepared {
    prompt: Vec<LlamaToken>,
    limit: u32,
    sampler: AnswerSampler,
    cut: Option<ContextCut>,
}

type Reply = oneshot::Sender<Result<ChatResponse, ModelError>>;

/// One request being decoded in a slot.
struct Sequence {
    reply: Reply,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens already in the KV cache.
    fed: usize,
    sampler: AnswerSampler,
    /// The answer so far, as bytes (a token may end inside a UTF-8 character).
    text: Vec<u8>,
    /// Answer tokens sampled.
    generated: u32,
    /// The most answer tokens this sequence may have.
    limit: u32,
    /// Set when the context left the answer less than `--max-tokens`.
    cut: Option<ContextCut>,
    /// The last sampled token, to be fed in the next step.
    next: Option<LlamaToken>,
    /// Where this sequence's logits are in the current batch.
    logits_at: Option<i32>,
}

impl Sequence {
    /// Tokens of this sequence in the KV cache.
    fn position(&self) -> usize {
        self.fed + self.generated as usize - usize::from(self.next.is_some())
    }
}

/// Owns the context and the slots.
pub(super) struct Scheduler<'m> {
    model: &'m LlamaModel,
    context: LlamaContext<'m>,
    template: ChatTemplate,
    config: DecodeConfig,
    slots: Vec<Option<Sequence>>,
    /// The prompt tokens each slot's part of the KV cache holds from its last request
    /// (its answer's tokens after them are removed when the slot is reused).
    cached: Vec<Vec<LlamaToken>>,
    /// Prompt tokens taken from the cache instead of being decoded again.
    reused_tokens: u64,
    waiting: VecDeque<Request>,
    batch: LlamaBatch<'static>,
}

impl<'m> Scheduler<'m> {
    pub fn new(
        model: &'m LlamaModel,
        context: LlamaContext<'m>,
        template: ChatTemplate,
        config: DecodeConfig,
    ) -> Self {
        let slots = (0..config.slots).map(|_| None).collect();
        let cached = (0..config.slots).map(|_| Vec::new()).collect();
        let batch = LlamaBatch::new(BATCH_TOKENS as usize, config.slots as i32);
        Scheduler {
            model,
            context,
            template,
            config,
            slots,
            cached,
            reused_tokens: 0,
            waiting: VecDeque::new(),
            batch,
        }
    }

    /// Decodes until every request handle is gone and nothing is left to answer.
    pub fn run(mut self, inbox: mpsc::UnboundedReceiver<Request>) {
        self.serve(inbox);
        tracing::debug!(
            "embedded engine reused {} prompt tokens from its cache",
            self.reused_tokens
        );
    }

    fn serve(&mut self, mut inbox: mpsc::UnboundedReceiver<Request>) {
        let mut open = true;
        loop {
            let busy = self.slots.iter().any(Option::is_some) || !self.waiting.is_empty();
            if !busy {
                if !open {
                    return;
                }
                match inbox.blocking_recv() {
                    Some(request) => self.waiting.push_back(request),
                    None => return,
                }
            }
            loop {
                match inbox.try_recv() {
                    Ok(request) => self.waiting.push_back(request),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            self.drop_abandoned();
            self.admit();
            if self.fill_batch() {
                self.step();
            }
        }
    }

    /// Frees the slots of requests whose caller stopped waiting.
    fn drop_abandoned(&mut self) {
        for slot in 0..self.slots.len() {
            if self.slots[slot]
                .as_ref()
                .is_some_and(|sequence| sequence.reply.is_closed())
            {
                self.free(slot);
            }
        }
        self.waiting.retain(|request| !request.reply.is_closed());
    }

    /// Gives free slots to waiting requests.
    fn admit(&mut self) {
        for slot in 0..self.slots.len() {
            while self.slots[slot].is_none() {
                let Some(request) = self.waiting.pop_front() else {
                    return;
                };
                match self.prepare(&request) {
                    Ok(Prepared {
                        prompt,
                        limit,
                        sampler,
                        cut,
                    }) => {
                        let fed = self.reuse_prefix(slot, &prompt);
                        self.slots[slot] = Some(Sequence {
                            reply: request.reply,
                            prompt,
                            fed,
                            sampler,
                            text: Vec::new(),
                            generated: 0,
                            limit,
                            cut,
                            next: None,
                            logits_at: None,
                        })
                    }
                    Err(error) => {
                        let _ = request.reply.send(Err(error));
                    }
                }
            }
        }
    }

    /// Keeps the part of `slot`'s cache that starts `prompt` and removes the rest;
    /// returns how many of `prompt`'s tokens are already in the cache. At least the
    /// last prompt token is always decoded again, for its logits.
    fn reuse_prefix(&mut self, slot: usize, prompt: &[LlamaToken]) -> usize {
        let cached = std::mem::take(&mut self.cached[slot]);
        let common = cached
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len().saturating_sub(1));
        let kept = common > 0
            && self
                .context
                .clear_kv_cache_seq(Some(slot as u32), Some(common as u32), None)
                .unwrap_or(false);
        if kept {
            self.reused_tokens += common as u64;
            common
        } else {
            // A model whose cache cannot be cut part way (recurrent, sliding window).
            self.clear(slot);
            0
        }
    }

    /// Renders and tokenizes a request's prompt, and makes its answer's token limit
    /// and sampler (under the request's own grammar if it has one, else the engine's).
    /// A prompt that leaves the answer less than `--max-tokens` gets a grammar made
    /// for the room left, so that its answer still closes, and says so ([`ContextCut`]).
    fn prepare(&self, request: &Request) -> Result<Prepared, ModelError> {
        let rejected = |reason: String| ModelError::Rejected {
            model: self.config.model.clone(),
            reason,
        };
        let text = self
            .template
            .render(self.model, &request.messages)
            .map_err(rejected)?;
        let vocab = self.model.vocab();
        let bos =
            String::from_utf8_lossy(&vocab.token_to_piece(vocab.bos(), true, None)).into_owned();
        let add_bos = vocab.should_add_bos() && (bos.is_empty() || !text.starts_with(&bos));
        let prompt = vocab.tokenize(text.as_bytes(), add_bos, true);
        let (room, max_tokens) = (self.config.slot_context, self.config.max_tokens);
        let trained = self.config.trained_context;
        let prompt_tokens = prompt.len() as u32;
        /// The fewest answer tokens worth decoding: less cannot hold one pair.
        const LEAST_ANSWER: u32 = 64;
        if prompt.is_empty() || prompt_tokens + LEAST_ANSWER.min(max_tokens) > room {
            return Err(rejected(format!(
                "the prompt is {prompt_tokens} tokens, too many for a sequence's context of {room} tokens with room for an answer; {}",
                ContextCut::advice(prompt_tokens, max_tokens, trained)
            )));
        }
        let limit = max_tokens.min(room - prompt_tokens);
        let (grammar, cut) = if limit < max_tokens {
            let cut = ContextCut {
                prompt_tokens,
                answer_tokens: limit,
                max_tokens,
                context: room,
                trained_context: trained,
            };
            let grammar = match self.config.answer {
                Some(answer) => {
                    let quotes = request.quotes.as_ref().and_then(|q| q.within(limit));
                    Some(answer_grammar(answer, limit, quotes.as_ref()).map_err(rejected)?)
                }
                None => None,
            };
            (grammar, Some(cut))
        } else {
            (None, None)
        };
        let grammar = grammar
            .as_deref()
            .or(request.grammar.as_deref())
            .or(self.config.grammar.as_deref());
        let sampler =
            AnswerSampler::new(self.model, grammar, self.config.temperature).map_err(rejected)?;
        Ok(Prepared {
            prompt,
            limit,
            sampler,
            cut,
        })
    }

    /// Puts this step's tokens in the batch: each answering sequence's last token,
    /// then waiting prompt tokens as far as the batch has room. False if empty.
    fn fill_batch(&mut self) -> bool {
        self.batch.clear();
        let mut room = BATCH_TOKENS as usize;
        let mut added = 0i32;
        for (seq, sequence) in self.slots.iter_mut().enumerate() {
            let Some(sequence) = sequence else { continue };
            sequence.logits_at = None;
            if let Some(token) = sequence.next {
                let position = sequence.position() as i32;
                if self.batch.add(token, position, &[seq as i32], true).is_ok() {
                    sequence.logits_at = Some(added);
                    added += 1;
                    room -= 1;
                }
            }
        }
        for (seq, sequence) in self.slots.iter_mut().enumerate() {
            let Some(sequence) = sequence else { continue };
            if sequence.fed == sequence.prompt.len() || room == 0 {
                continue;
            }
            let take = (sequence.prompt.len() - sequence.fed).min(room);
            for offset in 0..take {
                let position = sequence.fed + offset;
                let last = position + 1 == sequence.prompt.len();
                let token = sequence.prompt[position];
                if self
                    .batch
                    .add(token, position as i32, &[seq as i32], last)
                    .is_err()
                {
                    break;
                }
                if last {
                    sequence.logits_at = Some(added);
                }
                added += 1;
                room -= 1;
            }
            sequence.fed += take;
        }
        added > 0
    }

    /// Decodes the batch and samples every sequence that has logits.
    fn step(&mut self) {
        if let Err(error) = self.context.decode(&mut self.batch) {
            let reason = format!("llama.cpp could not decode: {error}");
            for slot in 0..self.slots.len() {
                if let Some(sequence) = self.slots[slot].take() {
                    let _ = sequence.reply.send(Err(ModelError::Engine {
                        model: self.config.model.clone(),
                        reason: reason.clone(),
                    }));
                }
                self.clear(slot);
            }
            return;
        }
        let model: &'m LlamaModel = self.model;
        let vocab = model.vocab();
        for slot in 0..self.slots.len() {
            let Some(sequence) = &mut self.slots[slot] else {
                continue;
            };
            let Some(index) = sequence.logits_at else {
                continue;
            };
            let token = match sequence.sampler.sample(&self.context, index) {
                Ok(token) => token,
                Err(reason) => {
                    let error = ModelError::Rejected {
                        model: self.config.model.clone(),
                        reason,
                    };
                    self.finish(slot, Err(error));
                    continue;
                }
            };
            if vocab.is_eog(token) {
                self.finish_answer(slot);
                continue;
            }
            sequence
                .text
                .extend_from_slice(&vocab.token_to_piece(token, false, None));
            sequence.generated += 1;
            sequence.next = Some(token);
            if sequence.generated >= sequence.limit {
                self.finish_answer(slot);
            }
        }
    }

    /// Answers a finished sequence with its text and exact token counts.
    fn finish_answer(&mut self, slot: usize) {
        let Some(sequence) = &self.slots[slot] else {
            return;
        };
        let response = ChatResponse {
            text: String::from_utf8_lossy(&sequence.text).into_owned(),
            reasoning: None,
            tokens_in: sequence.prompt.len() as u64,
            tokens_out: u64::from(sequence.generated),
            tokens_reasoning: None,
            context_cut: sequence.cut,
        };
        self.finish(slot, Ok(response));
    }

    /// Answers the request in `slot` and frees the slot. A finished answer leaves its
    /// prompt in the cache for the next request; a failed one leaves nothing.
    fn finish(&mut self, slot: usize, result: Result<ChatResponse, ModelError>) {
        let keep = result.is_ok();
        if let Some(sequence) = self.slots[slot].take() {
            if keep && sequence.fed == sequence.prompt.len() {
                self.cached[slot] = sequence.prompt;
            }
            let _ = sequence.reply.send(result);
        }
        if !keep {
            self.clear(slot);
        }
    }

    fn free(&mut self, slot: usize) {
        self.slots[slot] = None;
        self.clear(slot);
    }

    /// Empties a slot's part of the KV cache.
    fn clear(&mut self, slot: usize) {
        self.cached[slot].clear();
        let _ = self
            .context
            .clear_kv_cache_seq(Some(slot as u32), None, None);
    }
}
