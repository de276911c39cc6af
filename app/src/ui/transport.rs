//! Generate, Continue, Stop, Play, Download and Copy link: the buttons, and what they do.

use std::time::Duration;

use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use motif::piece::PieceRequest;

use super::page::{Page, Status, Variation};
use super::piano_roll::Figures;
use crate::audio::{Player, piano, wav};
use crate::protocol::{Command, Outcome, Reply};
use crate::web::download;

/// Pieces one Variations request makes.
const VARIATIONS: u32 = 4;

/// How long the first Play waits for the piano samples before starting on the synthesized
/// voice (the samples are about 1.4 MB).
const PIANO_PATIENCE_MS: f64 = 3000.0;

impl Page {
    /// Hands the player the notes that arrived since it last had some (generation runs ahead
    /// of playback).
    fn follow_playback(&self) {
        let all = self.notes.get_untracked();
        let from = self.scheduled.get_value();
        if all.len() <= from {
            return;
        }
        let mut problem = None;
        self.player.update_value(|p| {
            if let Some(p) = p.as_mut().filter(|p| p.is_playing())
                && let Err(message) = p.extend(&all[from..])
            {
                problem = Some(message);
            }
        });
        self.scheduled.set_value(all.len());
        if let Some(message) = problem {
            self.error.set(format!("Audio failed: {message}"));
        }
    }

    /// Notes from the worker: the piece from index `from` on (see [`Reply::Notes`]).
    fn take_notes(
        &self,
        from: usize,
        notes: Vec<motif::Note>,
        prime_notes: usize,
        new_notes: usize,
    ) {
        self.notes.update(|all| {
            all.truncate(from);
            all.extend(notes);
        });
        self.prime_count.set(prime_notes);
        self.new_count.set(new_notes);
        self.follow_playback();
    }

    /// Has the worker generate into `slot` (a new piece, or the one there taken up again) and
    /// shows the notes as they arrive; returns how it went.
    async fn generate_in_worker(
        self,
        key: &str,
        request: &PieceRequest,
        slot: u32,
        resume: bool,
    ) -> Result<Outcome, String> {
        let mut result = Err("the engine did not answer".to_string());
        let command = |job| Command::Generate {
            job,
            key: key.to_string(),
            slot,
            request: request.clone(),
            resume,
        };
        self.run_job(command, |_, outcome| result = Ok(outcome))
            .await?;
        result
    }

    /// Sends the generation command `make` builds, shows the notes as they arrive and hands
    /// each piece's end to `on_done` (with its index, and the page's notes holding it).
    async fn run_job(
        self,
        make: impl FnOnce(u32) -> Command,
        mut on_done: impl FnMut(usize, Outcome),
    ) -> Result<(), String> {
        let engine = self
            .engine
            .with_value(Clone::clone)
            .ok_or("the engine has not started")?;
        let (job, mut replies) = engine.request(make);
        self.running.set_value(Some(job));
        if self.stop_requested.get_value() {
            engine.stop(job);
        }
        let mut failed = None;
        while let Some(reply) = replies.next().await {
            match reply {
                Reply::Notes {
                    from,
                    notes,
                    new_notes,
                    prime_notes,
                    ..
                } => self.take_notes(from, notes, prime_notes, new_notes),
                Reply::Done {
                    piece,
                    from,
                    notes,
                    outcome,
                    ..
                } => {
                    let new_notes = outcome.notes - outcome.prime_notes;
                    self.take_notes(from, notes, outcome.prime_notes, new_notes);
                    on_done(piece, outcome);
                }
                Reply::Failed { message, .. } => failed = Some(message),
                _ => {}
            }
        }
        self.running.set_value(None);
        failed.map_or(Ok(()), Err)
    }

    /// Generates into `slot` until the piece holds `request.notes` new notes, showing it as it
    /// grows, and makes it the piece on the page.
    fn run(self, key: String, request: PieceRequest, slot: u32, resume: bool) {
        self.begin_generation();
        spawn_local(async move {
            match self.generate_in_worker(&key, &request, slot, resume).await {
                Ok(outcome) => {
                    self.figures.set(Some(Figures::of(&outcome)));
                    self.piece.set(Some((request, key)));
                    self.current.set_value(Some(slot));
                    self.status.set(Status::Done);
                }
                Err(message) => self.fail(message),
            }
        });
    }

    /// Stop: the worker ends the generation under way (and a Variations request makes no more).
    pub(crate) fn stop_generation(&self) {
        self.stop_requested.set_value(true);
        if let (Some(job), Some(engine)) = (
            self.running.get_value(),
            self.engine.with_value(Clone::clone),
        ) {
            engine.stop(job);
        }
    }

    /// Clears what the last piece left (playback, variations, the roll's scroll, its figures and
    /// errors) and marks the page generating.
    fn begin_generation(&self) {
        self.stop_playing();
        self.clear_variations();
        self.roll_scroll.set(None);
        self.error.set(String::new());
        self.piece.set(None);
        self.figures.set(None);
        self.stop_requested.set_value(false);
        self.status.set(Status::Generating);
    }

    /// The selected model's key and the request the settings make, or `None` (with the reason
    /// shown where a setting is wrong).
    fn new_request(&self) -> Option<(String, PieceRequest)> {
        let key = self.model_key();
        if !self.loaded.with_value(|m| m.contains_key(&key)) {
            return None;
        }
        match self.settings.request(self.prime_file.get_value()) {
            Ok(request) => Some((key, request)),
            Err(message) => {
                self.error.set(message);
                None
            }
        }
    }

    fn new_slot(&self) -> Option<u32> {
        self.engine.with_value(|e| e.as_ref().map(|e| e.new_slot()))
    }

    pub(crate) fn generate(self) {
        let Some((key, request)) = self.new_request() else {
            return;
        };
        let Some(slot) = self.new_slot() else {
            return;
        };
        self.notes.set(Vec::new());
        self.new_count.set(0);
        self.play_from.set(0.0);
        self.run(key, request, slot, false);
    }

    fn clear_variations(&self) {
        self.variations.set(Vec::new());
        self.shown_variation.set(None);
        self.variation_slots.set_value(Vec::new());
    }

    /// Variations: [`VARIATIONS`] pieces of the request, each with the same start and its own
    /// random stream (`--variation k`), in one job (one batch on WebGPU, one after another on
    /// the CPU); the first is shown, and a tab shows (and keeps, for Play, Download, Continue
    /// and the link) any other.
    pub(crate) fn generate_variations(self) {
        let Some((key, base)) = self.new_request() else {
            return;
        };
        self.begin_generation();
        self.play_from.set(0.0);
        self.current.set_value(None);
        self.notes.set(Vec::new());
        self.new_count.set(0);
        spawn_local(async move {
            let mut pieces = Vec::new();
            for k in 1..=VARIATIONS {
                let Some(slot) = self.new_slot() else {
                    return;
                };
                let request = PieceRequest {
                    variation: k,
                    ..base.clone()
                };
                pieces.push((slot, request));
            }
            let mut made = Vec::new();
            let mut slots = Vec::new();
            let command = |job| Command::GenerateTogether {
                job,
                key: key.clone(),
                pieces: pieces.clone(),
            };
            // Stop keeps the variations made so far, each as far as it got.
            let result = self
                .run_job(command, |piece, outcome| {
                    let (slot, request) = pieces[piece].clone();
                    made.push(Variation {
                        request,
                        key: key.clone(),
                        figures: Figures::of(&outcome),
                        notes: self.notes.get_untracked(),
                        prime_notes: outcome.prime_notes,
                    });
                    slots.push(slot);
                })
                .await;
            if let Err(message) = result {
                return self.fail(message);
            }
            self.variation_slots.set_value(slots);
            self.variations.set(made);
            self.status.set(Status::Done);
            self.show_variation(1);
        });
    }

    /// Puts variation `k` on the page: its notes, and its request and generator as the piece's.
    pub(crate) fn show_variation(self, k: u32) {
        let Some(variation) = self
            .variations
            .with_untracked(|all| all.iter().find(|v| v.request.variation == k).cloned())
        else {
            return;
        };
        self.stop_playing();
        let slot = self
            .variation_slots
            .with_value(|slots| slots.get(k as usize - 1).copied());
        self.current.set_value(slot);
        self.shown_variation.set(Some(k));
        self.settings.variation.set(k.to_string());
        self.prime_count.set(variation.prime_notes);
        self.new_count
            .set(variation.notes.len() - variation.prime_notes);
        self.notes.set(variation.notes);
        self.play_from.set(0.0);
        self.roll_scroll.set(None);
        self.figures.set(Some(variation.figures));
        self.piece.set(Some((variation.request, variation.key)));
    }

    /// Length more notes from where the network stopped, with the piece's own settings. The
    /// result is the piece a fresh request for the longer length would write.
    pub(crate) fn continue_piece(self) {
        let Some((request, key)) = self.piece.get_untracked() else {
            return;
        };
        let more = match self.settings.notes() {
            Ok(more) => more,
            Err(message) => {
                self.error.set(message);
                return;
            }
        };
        let Some(slot) = self.current.get_value() else {
            return;
        };
        let request = PieceRequest {
            notes: request.notes + more,
            ..request
        };
        self.run(key, request, slot, true);
    }

    fn stop_playing(&self) {
        self.play_pending.set_value(false);
        self.player.update_value(|p| {
            if let Some(p) = p {
                p.stop()
            }
        });
        self.cursor.set(None);
    }

    /// Play, or stop playing. The first Play loads the piano samples; playback waits for them
    /// up to [`PIANO_PATIENCE_MS`], then starts on the synthesized voice if they are not there.
    pub(crate) fn toggle_play(self) {
        let playing = self
            .player
            .with_value(|p| p.as_ref().is_some_and(|p| p.is_playing()));
        if playing || self.play_pending.get_value() {
            self.stop_playing();
            return;
        }
        if self.notes.with_untracked(Vec::is_empty) {
            return;
        }
        // The audio context is made and woken inside the click: browsers allow sound only then.
        let mut problem = None;
        self.player.update_value(|p| {
            if p.is_none() {
                match Player::new() {
                    Ok(created) => *p = Some(created),
                    Err(message) => problem = Some(message),
                }
            }
            if let Some(p) = p {
                p.wake();
            }
        });
        let context = self
            .player
            .with_value(|p| p.as_ref().map(|p| p.context().clone()));
        let Some(context) = context else {
            self.error
                .set(format!("Audio failed: {}", problem.unwrap_or_default()));
            return;
        };
        self.play_pending.set_value(true);
        self.cursor.set(Some(self.play_from.get_untracked()));
        spawn_local(async move {
            if piano::piano_within(&context, PIANO_PATIENCE_MS)
                .await
                .is_none()
            {
                self.voice
                    .set("synthesized piano (the sampled one is still loading)".into());
            }
            if self.play_pending.get_value() {
                self.play_pending.set_value(false);
                self.start_playback();
            }
        });
    }

    fn start_playback(self) {
        let bpm = self
            .settings
            .tempo
            .get_untracked()
            .trim()
            .parse::<f64>()
            .unwrap_or(110.0)
            .clamp(1.0, 1000.0);
        let mut sorted = self.notes.get_untracked();
        sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
        let from = self.play_from.get_untracked();
        let mut outcome = None;
        self.player.update_value(|p| {
            outcome = p.as_mut().map(|p| p.play(&sorted, bpm, from));
        });
        match outcome {
            Some(Ok((voice, problem))) => {
                self.voice.set(voice);
                if let Some(why) = problem {
                    self.error
                        .set(format!("The piano samples could not be loaded ({why}); playing the synthesized voice."));
                }
            }
            Some(Err(message)) => {
                self.error.set(format!("Audio failed: {message}"));
                self.cursor.set(None);
                return;
            }
            None => return,
        }
        self.scheduled.set_value(sorted.len());
        // Follow the audio clock until the piece ends or is stopped (one timer, even after seeks).
        if let Some(old) = self.cursor_timer.get_value() {
            old.clear();
        }
        let interval = set_interval_with_handle(
            move || {
                let position = match self
                    .player
                    .try_update_value(|p| p.as_mut().map(|p| p.position()))
                    .flatten()
                {
                    Some(Err(message)) => {
                        self.error.set(format!("Audio failed: {message}"));
                        self.stop_playing();
                        None
                    }
                    Some(Ok(position)) => position,
                    None => None,
                };
                self.cursor.set(position);
                self.handed.set(
                    self.player
                        .with_value(|p| p.as_ref().map_or(0, Player::handed)),
                );
                if position.is_none()
                    && let Some(h) = self.cursor_timer.get_value()
                {
                    h.clear();
                }
            },
            Duration::from_millis(33),
        );
        self.cursor_timer.set_value(interval.ok());
    }

    /// Moves the playback cursor to `beat`: playback jumps there, or starts there next time.
    pub(crate) fn seek(self, beat: f64) {
        self.play_from.set(beat);
        if self
            .player
            .with_value(|p| p.as_ref().is_some_and(|p| p.is_playing()))
        {
            self.start_playback();
        }
    }

    /// The piece as the player sounds it, rendered offline to a WAV file, at the tempo of its
    /// MIDI file.
    fn download_audio(self) {
        let Some((request, _, name)) = self.piece_names() else {
            return;
        };
        let notes = self.notes.get_untracked();
        self.rendering.set(true);
        spawn_local(async move {
            match wav::render(&notes, request.bpm).await {
                Ok((bytes, voice)) => {
                    let name = name.replace(".mid", ".wav");
                    if let Err(message) = download(&bytes, &name, "audio/wav") {
                        self.error.set(format!("Download failed: {message}"));
                    }
                    self.voice.set(voice.into());
                }
                Err(message) => self.error.set(format!("Audio rendering failed: {message}")),
            }
            self.rendering.set(false);
        });
    }

    /// The piece's style id (as the MIDI file names it) and its file name (with the epoch for
    /// an earlier one).
    fn piece_names(&self) -> Option<(PieceRequest, String, String)> {
        let (request, key) = self.piece.get_untracked()?;
        let style = self.loaded.with_value(|m| m.get(&key).cloned())?;
        let id = style.manifest.style.id.clone();
        let label = match key.split_once('@') {
            Some((_, epoch)) => format!("{id}-epoch-{epoch}"),
            None => id.clone(),
        };
        let name = request.file_name(&label);
        Some((request, id, name))
    }

    fn download_midi(&self) {
        let Some((request, style_id, name)) = self.piece_names() else {
            return;
        };
        let bytes = request.midi(&style_id, &self.notes.get_untracked());
        if let Err(message) = download(&bytes, &name, "audio/midi") {
            self.error.set(format!("Download failed: {message}"));
        }
    }

    /// The page's address with every setting; on the clipboard where the browser allows, and
    /// shown either way.
    fn copy_link(&self) {
        let location = web_sys::window().map(|w| w.location());
        let base = location
            .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
            .unwrap_or_default();
        let link = format!(
            "{base}?{}",
            self.settings
                .link_query(&self.selected.get_untracked(), self.epoch.get_untracked())
        );
        let copied = copy_to_clipboard(&link);
        self.share_note.set(
            match (self.settings.start.get_untracked() == "file", copied) {
                (true, _) => "A MIDI file you chose cannot travel in a link: this link starts from a corpus excerpt instead.",
                (false, true) => "Copied. Opening this link gives the same notes (on the CPU backend at least).",
                (false, false) => "Copy this link: opening it gives the same notes (on the CPU backend at least).",
            }
            .into(),
        );
        self.share_link.set(link);
    }
}

/// `navigator.clipboard.writeText(text)`; false where the browser offers no clipboard (the
/// promise is left to settle: a refusal changes nothing the page shows).
fn copy_to_clipboard(text: &str) -> bool {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::JsCast;
    let Some(navigator) = web_sys::window().map(|w| wasm_bindgen::JsValue::from(w.navigator()))
    else {
        return false;
    };
    let Ok(clipboard) = Reflect::get(&navigator, &"clipboard".into()) else {
        return false;
    };
    if clipboard.is_undefined() || clipboard.is_null() {
        return false;
    }
    Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .is_some_and(|write| write.call1(&clipboard, &text.into()).is_ok())
}

#[component]
pub fn Transport() -> impl IntoView {
    let page = expect_context::<Page>();
    let (status, notes, piece, cursor) = (page.status, page.notes, page.piece, page.cursor);
    let busy = move || page.busy();
    view! {
        <section class="actions">
            <button data-testid="generate" class="primary" disabled=move || busy() || page.card.get().is_none() on:click=move |_| page.generate()>"Generate"</button>
            <button data-testid="continue" title="Add Length more notes to this piece, from where the network stopped, with the same settings" disabled=move || busy() || piece.get().is_none() on:click=move |_| page.continue_piece()>"Continue"</button>
            <button data-testid="variations" title="Four versions of this request: the same start, different choices; pick one below" disabled=move || busy() || page.card.get().is_none() on:click=move |_| page.generate_variations()>"Variations"</button>
            <button data-testid="stop" disabled=move || status.get() != Status::Generating on:click=move |_| page.stop_generation()>"Stop"</button>
            <button data-testid="play" disabled=move || notes.get().is_empty() on:click=move |_| page.toggle_play()>
                {move || if cursor.get().is_some() { "Stop playing" } else { "Play" }}
            </button>
            <button data-testid="download" disabled=move || piece.get().is_none() on:click=move |_| page.download_midi()>"Download .mid"</button>
            <button data-testid="download-wav" title="The piece as you hear it, rendered to a WAV file" disabled=move || piece.get().is_none() || page.rendering.get() on:click=move |_| page.download_audio()>
                {move || if page.rendering.get() { "Rendering audio…" } else { "Download audio (.wav)" }}
            </button>
            <button data-testid="copy-link" title="A link that reproduces this piece: style, seed and every setting" on:click=move |_| page.copy_link()>"Copy link"</button>
            <span class="status">"Status: "<strong data-testid="status">{move || status.get().text()}</strong></span>
            <span class="count">"Notes: "<strong data-testid="note-count">{move || page.new_count.get()}</strong></span>
            <span class="voice" style:display=move || if page.voice.get().is_empty() { "none" } else { "inline" }>"Sound: "<span data-testid="voice" data-handed=move || page.handed.get().to_string()>{move || page.voice.get()}</span></span>
        </section>

        <nav class="variations" aria-label="Variations" style:display=move || if page.variations.get().is_empty() { "none" } else { "flex" }>
            {move || page.variations.get().into_iter().map(|v| {
                let k = v.request.variation;
                view! {
                    <button
                        data-testid=format!("variation-{k}")
                        class:active=move || page.shown_variation.get() == Some(k)
                        aria-pressed=move || (page.shown_variation.get() == Some(k)).to_string()
                        on:click=move |_| page.show_variation(k)
                    >
                        {format!("Variation {k} · {} notes", v.notes.len() - v.prime_notes)}
                    </button>
                }
            }).collect_view()}
        </nav>

        <p class="share" style:display=move || if page.share_link.get().is_empty() { "none" } else { "block" }>
            <input data-testid="share-link" aria-label="Link to this piece" readonly prop:value=move || page.share_link.get()/>
            <span data-testid="share-note">{move || page.share_note.get()}</span>
        </p>
    }
}
