//! The generation settings: typed into text inputs, parsed into a request on Generate, and
//! carried by a shared link.

use leptos::prelude::*;
use motif::piece::{PieceRequest, Start};
use motif::sample::SamplingConfig;
use motif::scale::{KeyScale, Scale};
use wasm_bindgen::JsCast;

use super::page::Page;
use crate::web::query_param;

/// The settings as typed; parsed into a request on Generate.
#[derive(Clone, Copy)]
pub(crate) struct Settings {
    pub length: RwSignal<String>,
    pub temperature: RwSignal<String>,
    pub top_k: RwSignal<String>,
    pub top_p: RwSignal<String>,
    /// Share of each draw taken from what followed the same context earlier in the piece.
    pub motifs: RwSignal<String>,
    /// Share of each note length and onset gap taken from those the piece has used so far.
    pub pace: RwSignal<String>,
    /// What temperature, top-k and top-p shape: "all" tokens but note lengths, or "pitches".
    pub shaped: RwSignal<String>,
    pub seed: RwSignal<String>,
    /// 0: the piece the seed names; k: its k-th variation (the same start, another random
    /// stream), as the Variations button makes them.
    pub variation: RwSignal<String>,
    pub tempo: RwSignal<String>,
    pub start: RwSignal<String>,
    /// Tonic and scale ("none": any pitch), the report's experiment 4.
    pub key: RwSignal<String>,
    pub scale: RwSignal<String>,
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
    pub(crate) fn notes(&self) -> Result<usize, String> {
        let notes: usize = parse(&self.length.get_untracked(), "Length")?;
        if !(1..=5000).contains(&notes) {
            return Err("Length must be between 1 and 5000 notes".into());
        }
        Ok(notes)
    }

    pub(crate) fn request(&self, prime_file: Option<Start>) -> Result<PieceRequest, String> {
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
        let pace_memory: f32 = parse(&self.pace.get_untracked(), "Pace")?;
        if !(0.0..=0.9).contains(&pace_memory) {
            return Err("Pace must be between 0 and 0.9".into());
        }
        let pitches_only = match self.shaped.get_untracked().as_str() {
            "pitches" => true,
            "all" => false,
            other => return Err(format!("Shape must be 'all' or 'pitches', not '{other}'")),
        };
        let seed: u64 = parse(&self.seed.get_untracked(), "Seed")?;
        let variation: u32 = parse(&self.variation.get_untracked(), "Variation")?;
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
                pace_memory,
                pitches_only,
            },
            seed,
            variation,
            start,
            bpm,
        })
    }
}

/// The query parameters a shared link carries: every setting that decides the notes.
const LINK_PARAMS: [&str; 13] = [
    "length",
    "temperature",
    "top_k",
    "top_p",
    "motifs",
    "pace",
    "shaped",
    "seed",
    "variation",
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
            "pace" => self.pace,
            "shaped" => self.shaped,
            "seed" => self.seed,
            "variation" => self.variation,
            "tempo" => self.tempo,
            "key" => self.key,
            "scale" => self.scale,
            "start" => self.start,
            _ => return None,
        })
    }

    /// `?style=…&seed=…&…`: opening it gives the same settings, hence the same notes. A file
    /// the user chose cannot travel in a link, so such a link starts from a corpus excerpt.
    pub(crate) fn link_query(&self, style: &str, epoch: Option<usize>) -> String {
        let params = web_sys::UrlSearchParams::new().expect("an empty query");
        params.append("style", style);
        if let Some(epoch) = epoch {
            params.append("epoch", &epoch.to_string());
        }
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
    pub(crate) fn apply_link(&self) {
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

pub(crate) fn random_seed() -> u64 {
    (js_sys::Math::random() * 1_000_000.0) as u64
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            length: RwSignal::new("200".into()),
            temperature: RwSignal::new("1.0".into()),
            top_k: RwSignal::new("0".into()),
            top_p: RwSignal::new("0.95".into()),
            motifs: RwSignal::new("0".into()),
            pace: RwSignal::new("0".into()),
            shaped: RwSignal::new("all".into()),
            seed: RwSignal::new(random_seed().to_string()),
            variation: RwSignal::new("0".into()),
            tempo: RwSignal::new("110".into()),
            key: RwSignal::new("C".into()),
            scale: RwSignal::new("none".into()),
            start: RwSignal::new("excerpt".into()),
        }
    }
}

#[component]
pub fn SettingsPanel() -> impl IntoView {
    let page = expect_context::<Page>();
    let settings = page.settings;
    let text_input = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    // Enter in a setting generates, as a form's Enter submits it.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let in_text_field = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .is_some_and(|input| input.type_() != "file");
        if ev.key() == "Enter"
            && in_text_field
            && !page.busy()
            && page.card.get_untracked().is_some()
        {
            ev.prevent_default();
            page.generate();
        }
    };
    view! {
        <section class="controls" on:keydown=on_key>
            <label>"Length (notes) "<input data-testid="length" type="number" min="1" max="5000" prop:value=move || settings.length.get() on:input=text_input(settings.length)/></label>
            <label title="Below 1 sharpens, above 1 loosens the choice of pitches and, unless Shape says pitches only, of when the next onset comes (note lengths are drawn as the network learned them); 0 = always the likeliest">"Temperature "<input data-testid="temperature" type="number" min="0" max="5" step="0.05" prop:value=move || settings.temperature.get() on:input=text_input(settings.temperature)/></label>
            <label title="Keep only the k most likely tokens; 0 keeps all">"Top-k "<input data-testid="top-k" type="number" min="0" prop:value=move || settings.top_k.get() on:input=text_input(settings.top_k)/></label>
            <label title="Keep the most likely tokens up to this probability">"Top-p "<input data-testid="top-p" type="number" min="0.01" max="1" step="0.01" prop:value=move || settings.top_p.get() on:input=text_input(settings.top_p)/></label>
            <label title="Restate figures: the share of each choice copied from what followed the same notes earlier in the piece (0 = the network alone)">"Motifs "<input data-testid="motifs" type="number" min="0" max="0.9" step="0.1" prop:value=move || settings.motifs.get() on:input=text_input(settings.motifs)/></label>
            <label title="Keep the piece's pace: the share of each note length and onset gap drawn from those the piece has used so far (0 = the network alone)">"Pace "<input data-testid="pace" type="number" min="0" max="0.9" step="0.1" prop:value=move || settings.pace.get() on:input=text_input(settings.pace)/></label>
            <label title="What Temperature, Top-k and Top-p shape: the pitches and when onsets come, or the pitches only (rhythm and loudness then drawn as the network learned them)">
                "Shape "
                <select data-testid="shaped" prop:value=move || settings.shaped.get() on:change=text_input(settings.shaped)>
                    <option value="all">"pitches and rhythm"</option>
                    <option value="pitches">"pitches only"</option>
                </select>
            </label>
            <label>"Seed "<input data-testid="seed" type="number" min="0" prop:value=move || settings.seed.get() on:input=text_input(settings.seed)/></label>
            <button data-testid="new-seed" on:click=move |_| { settings.seed.set(random_seed().to_string()); settings.variation.set("0".into()); }>"New seed"</button>
            <label title="0: the piece the seed names; 1 and up: its variations (the same start, other choices)">"Variation "<input data-testid="variation" type="number" min="0" prop:value=move || settings.variation.get() on:input=text_input(settings.variation)/></label>
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
                            page.use_file(file);
                        }
                    }
                />
                <span class="prime-label">{move || page.prime_label.get()}</span>
            </label>
            <p class="hint">"…or drop a MIDI file anywhere on the page. It is read here; nothing is uploaded."</p>
        </section>
    }
}
