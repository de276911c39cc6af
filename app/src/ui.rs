//! The page. Plain data lives in signals; the browser-bound objects (device, models, audio) live
//! in local stored values, since they cannot cross threads and need not be reactive.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use burn::prelude::Device;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use motif::Note;
use motif::bundle::IndexEntry;
use motif::generate::Generator;
use motif::piece::{PieceRequest, Start};
use motif::sample::SamplingConfig;
use motif::scale::{KeyScale, Scale};
use wasm_bindgen::JsCast;

use crate::audio::Player;
use crate::backend::{self, Backend, BackendKind, Preference};
use crate::bundles::{LoadedStyle, load_index, load_style};
use crate::generation::{Outcome, generate};
use crate::roll;
use crate::web::{download, query_param, read_file};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Idle,
    Loading,
    Generating,
    Done,
    Error,
}

impl Status {
    fn text(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Loading => "loading",
            Status::Generating => "generating",
            Status::Done => "done",
            Status::Error => "error",
        }
    }
}

/// What the model card shows, taken from the manifest once.
#[derive(Clone, Debug, PartialEq)]
struct Card {
    description: String,
    network: String,
    tokens: String,
    corpus: String,
    training: String,
    download: String,
    loss_plot: Option<String>,
    load: String,
}

impl Card {
    fn of(style: &LoadedStyle) -> Card {
        let m = &style.manifest;
        let t = &m.training;
        Card {
            description: m.style.description.clone(),
            network: format!(
                "{} · {} layers × {} · {} parameters",
                m.model.cell.name().to_uppercase(),
                m.model.layers,
                m.model.hidden,
                thousands(m.weights.parameters)
            ),
            tokens: format!(
                "{} tokens · vocabulary {}",
                m.tokenizer.kind().name(),
                m.vocabulary.len()
            ),
            corpus: format!(
                "{}: {} files ({} for training, {} held out)",
                t.corpus, t.files, t.train_files, t.validation_files
            ),
            training: format!(
                "{} epochs · held-out loss {:.3} (train {:.3})",
                t.epochs, t.validation_loss, t.train_loss
            ),
            download: format!(
                "{:.2} MB ({} weights)",
                style.download_bytes as f64 / 1e6,
                m.weights.dtype
            ),
            loss_plot: style.loss_plot.clone(),
            load: format!(
                "loaded in {:.0} ms, warm-up {:.0} ms",
                style.load_ms, style.warmup_ms
            ),
        }
    }
}

/// How the last generation went: shown under the roll, and read by the browser benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Figures {
    first_note_ms: f64,
    total_ms: f64,
    notes: usize,
    tokens: usize,
}

impl Figures {
    fn summary(&self) -> String {
        format!(
            "{} notes from {} tokens in {:.0} ms: first note after {:.0} ms, {:.2} ms per note",
            self.notes,
            self.tokens,
            self.total_ms,
            self.first_note_ms,
            self.total_ms / self.notes.max(1) as f64
        )
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The settings as typed; parsed into a request on Generate.
#[derive(Clone, Copy)]
struct Settings {
    length: RwSignal<String>,
    temperature: RwSignal<String>,
    top_k: RwSignal<String>,
    top_p: RwSignal<String>,
    /// Share of each draw taken from what followed the same context earlier in the piece.
    motifs: RwSignal<String>,
    seed: RwSignal<String>,
    tempo: RwSignal<String>,
    start: RwSignal<String>,
    /// Tonic and scale ("none": any pitch), the report's experiment 4.
    key: RwSignal<String>,
    scale: RwSignal<String>,
}

/// Tonics offered, as a musician spells them.
const KEYS: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{what} must be a number, not '{text}'"))
}

impl Settings {
    /// Length: the notes a request generates, or Continue adds.
    fn notes(&self) -> Result<usize, String> {
        let notes: usize = parse(&self.length.get_untracked(), "Length")?;
        if !(1..=5000).contains(&notes) {
            return Err("Length must be between 1 and 5000 notes".into());
        }
        Ok(notes)
    }

    fn request(&self, prime_file: Option<Start>) -> Result<PieceRequest, String> {
        let notes = self.notes()?;
        let temperature: f32 = parse(&self.temperature.get_untracked(), "Temperature")?;
        if !(0.0..=5.0).contains(&temperature) {
            return Err("Temperature must be between 0 and 5".into());
        }
        let top_k: usize = parse(&self.top_k.get_untracked(), "Top-k")?;
        let top_p: f32 = parse(&self.top_p.get_untracked(), "Top-p")?;
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err("Top-p must be above 0 and at most 1".into());
        }
        let motif_memory: f32 = parse(&self.motifs.get_untracked(), "Motifs")?;
        if !(0.0..=0.9).contains(&motif_memory) {
            return Err("Motifs must be between 0 and 0.9".into());
        }
        let seed: u64 = parse(&self.seed.get_untracked(), "Seed")?;
        let bpm: f64 = parse(&self.tempo.get_untracked(), "Tempo")?;
        if !(bpm > 0.0 && bpm <= 1000.0) {
            return Err("Tempo must be between 1 and 1000 BPM".into());
        }
        let start = match self.start.get_untracked().as_str() {
            "nothing" => Start::Nothing,
            "file" => {
                prime_file.ok_or("Choose a MIDI file to start from (or drop one on the page)")?
            }
            _ => Start::CorpusExcerpt,
        };
        let scale = match self.scale.get_untracked().as_str() {
            "none" => None,
            name => Some(KeyScale::parse(
                &self.key.get_untracked(),
                name.parse::<Scale>()?,
            )?),
        };
        Ok(PieceRequest {
            notes,
            sampling: SamplingConfig {
                temperature,
                top_k,
                top_p,
                scale,
                motif_memory,
            },
            seed,
            start,
            bpm,
        })
    }
}

/// The query parameters a shared link carries: every setting that decides the notes.
const LINK_PARAMS: [&str; 10] = [
    "length",
    "temperature",
    "top_k",
    "top_p",
    "motifs",
    "seed",
    "tempo",
    "key",
    "scale",
    "start",
];

impl Settings {
    fn field(&self, name: &str) -> Option<RwSignal<String>> {
        Some(match name {
            "length" => self.length,
            "temperature" => self.temperature,
            "top_k" => self.top_k,
            "top_p" => self.top_p,
            "motifs" => self.motifs,
            "seed" => self.seed,
            "tempo" => self.tempo,
            "key" => self.key,
            "scale" => self.scale,
            "start" => self.start,
            _ => return None,
        })
    }

    /// `?style=…&seed=…&…`: opening it gives the same settings, hence the same notes. A file
    /// the user chose cannot travel in a link, so such a link starts from a corpus excerpt.
    fn link_query(&self, style: &str) -> String {
        let params = web_sys::UrlSearchParams::new().expect("an empty query");
        params.append("style", style);
        for name in LINK_PARAMS {
            let mut value = self
                .field(name)
                .map(|f| f.get_untracked())
                .unwrap_or_default();
            if name == "start" && value == "file" {
                value = "excerpt".into();
            }
            params.append(name, value.trim());
        }
        String::from(params.to_string())
    }

    /// Takes every setting the page's URL carries (a shared link), over the style's defaults.
    fn apply_link(&self) {
        for name in LINK_PARAMS {
            if let (Some(value), Some(field)) = (query_param(name), self.field(name)) {
                if name == "start" && value == "file" {
                    continue;
                }
                field.set(value);
            }
        }
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

fn random_seed() -> u64 {
    (js_sys::Math::random() * 1_000_000.0) as u64
}

#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(Status::Loading);
    let error = RwSignal::new(String::new());
    let backend_name = RwSignal::new(String::from("…"));
    let backend_detail = RwSignal::new(String::new());
    let styles = RwSignal::new(Vec::<IndexEntry>::new());
    let selected = RwSignal::new(String::new());
    let card = RwSignal::new(None::<Card>);
    let notes = RwSignal::new(Vec::<Note>::new());
    let prime_count = RwSignal::new(0usize);
    let new_count = RwSignal::new(0usize);
    let cursor = RwSignal::new(None::<f64>);
    let figures = RwSignal::new(None::<Figures>);
    let prime_label = RwSignal::new(String::new());
    let piece = RwSignal::new(None::<(PieceRequest, String)>);
    let settings = Settings {
        length: RwSignal::new("200".into()),
        temperature: RwSignal::new("1.0".into()),
        top_k: RwSignal::new("0".into()),
        top_p: RwSignal::new("0.95".into()),
        motifs: RwSignal::new("0".into()),
        seed: RwSignal::new(random_seed().to_string()),
        tempo: RwSignal::new("110".into()),
        key: RwSignal::new("C".into()),
        scale: RwSignal::new("none".into()),
        start: RwSignal::new("excerpt".into()),
    };

    let backend = StoredValue::new_local(None::<Backend>);
    let loaded = StoredValue::new_local(HashMap::<String, Rc<LoadedStyle>>::new());
    let player = StoredValue::new_local(None::<Player>);
    let cancel = StoredValue::new_local(Rc::new(Cell::new(false)));
    let prime_file = StoredValue::new(None::<Start>);

    let fail = move |message: String| {
        error.set(message);
        status.set(Status::Error);
    };

    // Each style starts from the sampling settings measured for it (`trainer-cli tune`); the
    // first one shown takes a shared link's settings over them.
    let link_pending = StoredValue::new(true);
    let show_style = move |style: &LoadedStyle| {
        let sampling = style.manifest.default_sampling();
        settings.temperature.set(sampling.temperature.to_string());
        settings.top_k.set(sampling.top_k.to_string());
        settings.top_p.set(sampling.top_p.to_string());
        settings.motifs.set(sampling.motif_memory.to_string());
        if link_pending.get_value() {
            link_pending.set_value(false);
            settings.apply_link();
        }
        card.set(Some(Card::of(style)));
    };

    // Loads (or takes from memory) the selected style's bundle.
    let load_selected = move |id: String| {
        let Some(entry) = styles.get_untracked().into_iter().find(|s| s.id == id) else {
            return;
        };
        error.set(String::new());
        if let Some(style) = loaded.with_value(|m| m.get(&id).cloned()) {
            show_style(&style);
            status.set(Status::Idle);
            return;
        }
        card.set(None);
        status.set(Status::Loading);
        let Some((device, cpu)) = backend.with_value(|b| {
            b.as_ref()
                .map(|b| (b.device.clone(), b.kind == BackendKind::Cpu))
        }) else {
            return;
        };
        spawn_local(async move {
            let result = load_style(&entry.path, &device, cpu).await;
            if selected.get_untracked() != id {
                return; // the user moved on while this loaded
            }
            match result {
                Ok(style) => {
                    let style = Rc::new(style);
                    show_style(&style);
                    loaded.update_value(|m| {
                        m.insert(id, style);
                    });
                    status.set(Status::Idle);
                }
                Err(message) => fail(format!(
                    "The {} model could not be loaded: {message}",
                    entry.display_name
                )),
            }
        });
    };

    // Start-up: pick the backend, then read the style list and load the first (or ?style=) one.
    spawn_local(async move {
        let chosen = backend::choose(Preference::from_query()).await;
        backend_name.set(chosen.kind.name().into());
        backend_detail.set(chosen.detail.clone());
        backend.set_value(Some(chosen));
        match load_index().await {
            Ok(index) => {
                let wanted = query_param("style")
                    .filter(|id| index.styles.iter().any(|s| &s.id == id))
                    .unwrap_or_else(|| index.styles[0].id.clone());
                styles.set(index.styles);
                selected.set(wanted.clone());
                load_selected(wanted);
            }
            Err(message) => fail(format!("No styles to offer: {message}")),
        }
    });

    // The generator of the piece on the page, kept so Continue can go on from its state.
    let current = StoredValue::new_local(None::<Generator>);

    // Play may start while the piece is still being generated: notes that arrive later are
    // handed to the player as they come (`scheduled` counts those it has).
    let scheduled = StoredValue::new(0usize);
    let follow_playback = move || {
        let all = notes.get_untracked();
        let from = scheduled.get_value();
        if all.len() <= from {
            return;
        }
        let mut problem = None;
        player.update_value(|p| {
            if let Some(p) = p.as_mut().filter(|p| p.is_playing())
                && let Err(message) = p.extend(&all[from..])
            {
                problem = Some(message);
            }
        });
        scheduled.set_value(all.len());
        if let Some(message) = problem {
            error.set(format!("Audio failed: {message}"));
        }
    };

    // Runs `generator` on to `request.notes` new notes and shows the piece as it grows.
    let run = move |style: Rc<LoadedStyle>,
                    device: Device,
                    request: PieceRequest,
                    mut generator: Generator| {
        player.update_value(|p| {
            if let Some(p) = p {
                p.stop()
            }
        });
        cursor.set(None);
        error.set(String::new());
        piece.set(None);
        figures.set(None);
        status.set(Status::Generating);
        let flag = Rc::new(Cell::new(false));
        cancel.set_value(flag.clone());
        let (notes_before, tokens_before) = (generator.new_notes(), generator.generated.len());
        spawn_local(async move {
            let result = generate(
                &style,
                &device,
                &request,
                &mut generator,
                flag,
                |progress| {
                    notes.set(progress.notes.to_vec());
                    prime_count.set(progress.prime_notes);
                    new_count.set(progress.new_notes);
                    follow_playback();
                },
            )
            .await;
            match result {
                Ok(Outcome {
                    notes: all,
                    prime_notes,
                    tokens,
                    first_note_ms,
                    total_ms,
                }) => {
                    let generated = all.len() - prime_notes;
                    figures.set(Some(Figures {
                        first_note_ms: first_note_ms.unwrap_or(total_ms),
                        total_ms,
                        notes: generated.saturating_sub(notes_before),
                        tokens: tokens - tokens_before,
                    }));
                    prime_count.set(prime_notes);
                    new_count.set(generated);
                    notes.set(all);
                    follow_playback();
                    piece.set(Some((request, style.manifest.style.id.clone())));
                    current.set_value(Some(generator));
                    status.set(Status::Done);
                }
                Err(message) => fail(message),
            }
        });
    };

    let on_generate = move |_| {
        let Some(style) = loaded.with_value(|m| m.get(&selected.get_untracked()).cloned()) else {
            return;
        };
        let Some(device) = backend.with_value(|b| b.as_ref().map(|b| b.device.clone())) else {
            return;
        };
        let request = match settings.request(prime_file.get_value()) {
            Ok(request) => request,
            Err(message) => {
                error.set(message);
                return;
            }
        };
        notes.set(Vec::new());
        new_count.set(0);
        let generator = request.generator(&style.manifest);
        run(style, device, request, generator);
    };

    // Continue: Length more notes from where the network stopped, with the piece's own
    // settings. The result is the piece a fresh request for the longer length would write.
    let on_continue = move |_| {
        let Some((request, style_id)) = piece.get_untracked() else {
            return;
        };
        let Some(style) = loaded.with_value(|m| m.get(&style_id).cloned()) else {
            return;
        };
        let Some(device) = backend.with_value(|b| b.as_ref().map(|b| b.device.clone())) else {
            return;
        };
        let more = match settings.notes() {
            Ok(more) => more,
            Err(message) => {
                error.set(message);
                return;
            }
        };
        let mut taken = None;
        current.update_value(|g| taken = g.take());
        let Some(generator) = taken else {
            return;
        };
        let request = PieceRequest {
            notes: request.notes + more,
            ..request
        };
        run(style, device, request, generator);
    };

    let on_stop = move |_| cancel.with_value(|flag| flag.set(true));

    let toggle_play = move || {
        let playing = player.with_value(|p| p.as_ref().is_some_and(|p| p.is_playing()));
        if playing {
            player.update_value(|p| {
                if let Some(p) = p {
                    p.stop()
                }
            });
            cursor.set(None);
            return;
        }
        let bpm = settings
            .tempo
            .get_untracked()
            .trim()
            .parse::<f64>()
            .unwrap_or(110.0)
            .clamp(1.0, 1000.0);
        let mut sorted = notes.get_untracked();
        sorted.sort_by(|a, b| a.start.total_cmp(&b.start));
        if sorted.is_empty() {
            return;
        }
        let mut problem = None;
        player.update_value(|p| {
            if p.is_none() {
                match Player::new() {
                    Ok(created) => *p = Some(created),
                    Err(message) => problem = Some(message),
                }
            }
            if let Some(p) = p
                && let Err(message) = p.play(&sorted, bpm)
            {
                problem = Some(message);
            }
        });
        if let Some(message) = problem {
            error.set(format!("Audio failed: {message}"));
            return;
        }
        scheduled.set_value(sorted.len());
        cursor.set(Some(0.0));
        // Follow the audio clock until the piece ends or is stopped.
        let handle = StoredValue::new(None::<IntervalHandle>);
        let interval = set_interval_with_handle(
            move || {
                let position = player
                    .try_update_value(|p| p.as_mut().and_then(|p| p.position()))
                    .flatten();
                cursor.set(position);
                if position.is_none()
                    && let Some(h) = handle.get_value()
                {
                    h.clear();
                }
            },
            Duration::from_millis(33),
        );
        handle.set_value(interval.ok());
    };

    let on_download = move |_| {
        let Some((request, style_id)) = piece.get_untracked() else {
            return;
        };
        let bytes = request.midi(&style_id, &notes.get_untracked());
        if let Err(message) = download(&bytes, &request.file_name(&style_id), "audio/midi") {
            error.set(format!("Download failed: {message}"));
        }
    };

    // Copy link: the page's address with every setting; on the clipboard where the browser
    // allows, and shown either way.
    let share_link = RwSignal::new(String::new());
    let share_note = RwSignal::new(String::new());
    let on_copy_link = move |_| {
        let location = web_sys::window().map(|w| w.location());
        let base = location
            .and_then(|l| Some(format!("{}{}", l.origin().ok()?, l.pathname().ok()?)))
            .unwrap_or_default();
        let link = format!("{base}?{}", settings.link_query(&selected.get_untracked()));
        let copied = copy_to_clipboard(&link);
        share_note.set(
            match (settings.start.get_untracked() == "file", copied) {
                (true, _) => "A MIDI file you chose cannot travel in a link: this link starts from a corpus excerpt instead.",
                (false, true) => "Copied. Opening this link gives the same notes (on the CPU backend at least).",
                (false, false) => "Copy this link: opening it gives the same notes (on the CPU backend at least).",
            }
            .into(),
        );
        share_link.set(link);
    };

    let use_file = move |file: web_sys::File| {
        spawn_local(async move {
            let name = file.name();
            let result = read_file(&file)
                .await
                .and_then(|bytes| Start::from_midi(&bytes).map_err(|e| e.to_string()));
            match result {
                Ok(start) => {
                    let count = match &start {
                        Start::Notes(n, _) => n.len(),
                        _ => 0,
                    };
                    prime_file.set_value(Some(start));
                    prime_label.set(format!("{name} ({count} notes)"));
                    settings.start.set("file".into());
                    error.set(String::new());
                }
                Err(message) => {
                    prime_file.set_value(None);
                    prime_label.set(String::new());
                    error.set(format!("{name} cannot be used as a start: {message}"));
                }
            }
        });
    };

    // Space toggles play, unless a control has the focus (it handles the key itself).
    let _keys = window_event_listener(ev::keydown, move |event| {
        if event.code() != "Space" {
            return;
        }
        let in_control = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                matches!(
                    el.tag_name().as_str(),
                    "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON"
                )
            });
        if !in_control {
            event.prevent_default();
            toggle_play();
        }
    });

    let canvas = NodeRef::<html::Canvas>::new();
    Effect::new(move |_| {
        let notes = notes.get();
        let prime = prime_count.get();
        let cursor = cursor.get();
        let Some(canvas) = canvas.get() else { return };
        let ratio = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0);
        let (width, height) = (
            f64::from(canvas.client_width()),
            f64::from(canvas.client_height()),
        );
        // Resizing clears and reallocates the canvas: only when its size really changed.
        let (pixels_wide, pixels_high) = ((width * ratio) as u32, (height * ratio) as u32);
        if canvas.width() != pixels_wide || canvas.height() != pixels_high {
            canvas.set_width(pixels_wide);
            canvas.set_height(pixels_high);
        }
        let Ok(Some(ctx)) = canvas.get_context("2d") else {
            return;
        };
        let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
        let _ = ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0);
        let focus = notes.iter().map(|n| n.end()).fold(0.0, f64::max);
        roll::draw(&ctx, width, height, &notes, prime, focus, cursor);
    });

    let busy = move || matches!(status.get(), Status::Generating | Status::Loading);
    let text_input = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));

    view! {
        <main
            on:dragover=|ev: ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: ev::DragEvent| {
                ev.prevent_default();
                if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                    use_file(file);
                }
            }
        >
            <header>
                <h1>"Motif"</h1>
                <p class="tagline">"A recurrent network learned a style from MIDI files; it composes in your browser."</p>
                <p class="backend">
                    "Running on "
                    <strong data-testid="backend">{move || backend_name.get()}</strong>
                    <span class="detail">{move || backend_detail.get()}</span>
                </p>
            </header>

            <section class="style">
                <label>
                    "Style "
                    <select
                        data-testid="style-select"
                        prop:value=move || selected.get()
                        disabled=busy
                        on:change=move |ev| {
                            let id = event_target_value(&ev);
                            selected.set(id.clone());
                            load_selected(id);
                        }
                    >
                        <For each=move || styles.get() key=|s| s.id.clone() let:entry>
                            <option value=entry.id.clone()>{entry.display_name.clone()}</option>
                        </For>
                    </select>
                </label>
                <Show when=move || card.get().is_some()>
                    {move || card.get().map(|c| view! {
                        <div class="card">
                            <p class="description">{c.description}</p>
                            <dl>
                                <dt>"Network"</dt><dd>{c.network}</dd>
                                <dt>"Tokens"</dt><dd>{c.tokens}</dd>
                                <dt>"Corpus"</dt><dd>{c.corpus}</dd>
                                <dt>"Training"</dt><dd>{c.training}</dd>
                                <dt>"Download"</dt><dd>{c.download}" · "{c.load}</dd>
                            </dl>
                            {c.loss_plot.map(|src| view! { <img class="loss" src=src alt="Training and held-out loss per epoch"/> })}
                        </div>
                    })}
                </Show>
            </section>

            <section class="controls">
                <label>"Length (notes) "<input data-testid="length" type="number" min="1" max="5000" prop:value=move || settings.length.get() on:input=text_input(settings.length)/></label>
                <label>"Temperature "<input data-testid="temperature" type="number" min="0" max="5" step="0.05" prop:value=move || settings.temperature.get() on:input=text_input(settings.temperature)/></label>
                <label title="Keep only the k most likely tokens; 0 keeps all">"Top-k "<input data-testid="top-k" type="number" min="0" prop:value=move || settings.top_k.get() on:input=text_input(settings.top_k)/></label>
                <label title="Keep the most likely tokens up to this probability">"Top-p "<input data-testid="top-p" type="number" min="0.01" max="1" step="0.01" prop:value=move || settings.top_p.get() on:input=text_input(settings.top_p)/></label>
                <label title="Restate figures: the share of each choice copied from what followed the same notes earlier in the piece (0 = the network alone)">"Motifs "<input data-testid="motifs" type="number" min="0" max="0.9" step="0.1" prop:value=move || settings.motifs.get() on:input=text_input(settings.motifs)/></label>
                <label>"Seed "<input data-testid="seed" type="number" min="0" prop:value=move || settings.seed.get() on:input=text_input(settings.seed)/></label>
                <button data-testid="new-seed" on:click=move |_| settings.seed.set(random_seed().to_string())>"New seed"</button>
                <label>"Tempo (BPM) "<input data-testid="tempo" type="number" min="1" max="1000" prop:value=move || settings.tempo.get() on:input=text_input(settings.tempo)/></label>
                <label title="Keep every generated pitch in this key and scale (the prime is left as it is)">
                    "Key "
                    <select data-testid="key" prop:value=move || settings.key.get() on:change=text_input(settings.key)>
                        {KEYS.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view()}
                    </select>
                    <select data-testid="scale" aria-label="Scale" prop:value=move || settings.scale.get() on:change=text_input(settings.scale)>
                        <option value="none">"any scale"</option>
                        {Scale::ALL.iter().map(|s| view! { <option value=s.name()>{s.name().replace('-', " ")}</option> }).collect_view()}
                    </select>
                </label>
                <label>
                    "Start from "
                    <select data-testid="start" prop:value=move || settings.start.get() on:change=text_input(settings.start)>
                        <option value="excerpt">"a corpus excerpt"</option>
                        <option value="file">"my MIDI file"</option>
                        <option value="nothing">"nothing"</option>
                    </select>
                </label>
                <label class="file">
                    "MIDI file "
                    <input
                        data-testid="prime-file"
                        type="file"
                        accept=".mid,.midi,.rmi,audio/midi"
                        on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                                use_file(file);
                            }
                        }
                    />
                    <span class="prime-label">{move || prime_label.get()}</span>
                </label>
                <p class="hint">"…or drop a MIDI file anywhere on the page. It is read here; nothing is uploaded."</p>
            </section>

            <section class="actions">
                <button data-testid="generate" class="primary" disabled=move || busy() || card.get().is_none() on:click=on_generate>"Generate"</button>
                <button data-testid="continue" title="Add Length more notes to this piece, from where the network stopped, with the same settings" disabled=move || busy() || piece.get().is_none() on:click=on_continue>"Continue"</button>
                <button data-testid="stop" disabled=move || status.get() != Status::Generating on:click=on_stop>"Stop"</button>
                <button data-testid="play" disabled=move || notes.get().is_empty() on:click=move |_| toggle_play()>
                    {move || if cursor.get().is_some() { "Stop playing" } else { "Play" }}
                </button>
                <button data-testid="download" disabled=move || piece.get().is_none() on:click=on_download>"Download .mid"</button>
                <button data-testid="copy-link" title="A link that reproduces this piece: style, seed and every setting" on:click=on_copy_link>"Copy link"</button>
                <span class="status">"Status: "<strong data-testid="status">{move || status.get().text()}</strong></span>
                <span class="count">"Notes: "<strong data-testid="note-count">{move || new_count.get()}</strong></span>
            </section>

            <p class="share" style:display=move || if share_link.get().is_empty() { "none" } else { "block" }>
                <input data-testid="share-link" aria-label="Link to this piece" readonly prop:value=move || share_link.get()/>
                <span data-testid="share-note">{move || share_note.get()}</span>
            </p>

            <p data-testid="error" class="error" style:display=move || if error.get().is_empty() { "none" } else { "block" }>
                {move || error.get()}
            </p>

            <canvas data-testid="piano-roll" class="roll" node_ref=canvas></canvas>
            <p
                class="timing"
                data-testid="timing"
                data-first-note-ms=move || figures.get().map(|f| f.first_note_ms.to_string())
                data-total-ms=move || figures.get().map(|f| f.total_ms.to_string())
                data-notes=move || figures.get().map(|f| f.notes.to_string())
                data-tokens=move || figures.get().map(|f| f.tokens.to_string())
            >
                {move || figures.get().map(|f| f.summary()).unwrap_or_default()}
            </p>
            <footer>
                "Space plays and stops. The grey notes are the start you gave it; the gold ones are the network's."
            </footer>
        </main>
    }
}
