//! The page's shared state, handed to every component through Leptos context, and the actions
//! that more than one component starts (loading a style, taking a MIDI file as the start).
//!
//! Plain data lives in signals; the browser-bound objects (the engine worker's handle, audio)
//! live in local stored values, since they cannot cross threads and need not be reactive. The
//! models and their generators live in the worker ([`crate::worker`]); the page knows them by
//! key and slot.

use std::collections::HashMap;
use std::rc::Rc;

use futures::StreamExt;
use leptos::prelude::*;
use leptos::task::spawn_local;
use motif::Note;
use motif::bundle::{IndexEntry, Snapshot};
use motif::piece::{PieceRequest, Start};

use super::piano_roll::Figures;
use super::settings::Settings;
use super::style_picker::Card;
use crate::audio::Player;
use crate::bundles::load_index;
use crate::engine::{Engine, worker_script};
use crate::protocol::Preference;
use crate::protocol::{Command, Reply, StyleInfo};
use crate::web::{page_base, query_param, read_file};

/// One of the pieces a Variations request made.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Variation {
    pub request: PieceRequest,
    /// The model that made it (see [`Page::model_key`]).
    pub key: String,
    pub notes: Vec<Note>,
    pub prime_notes: usize,
    pub figures: Figures,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Idle,
    Loading,
    Generating,
    Done,
    Error,
}

impl Status {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Loading => "loading",
            Status::Generating => "generating",
            Status::Done => "done",
            Status::Error => "error",
        }
    }
}

/// Everything the components share. Every field is an arena handle, so the whole is `Copy` and
/// moves into any closure.
#[derive(Clone, Copy)]
pub(crate) struct Page {
    pub status: RwSignal<Status>,
    pub error: RwSignal<String>,
    pub backend_name: RwSignal<String>,
    pub backend_detail: RwSignal<String>,
    pub styles: RwSignal<Vec<IndexEntry>>,
    pub selected: RwSignal<String>,
    /// An earlier epoch of the selected style's run ("hear it learn"); `None`: the shipped model.
    pub epoch: RwSignal<Option<usize>>,
    /// The selected style's earlier epochs on offer, and the epoch of its shipped model.
    pub snapshots: RwSignal<Vec<Snapshot>>,
    pub chosen_epoch: RwSignal<usize>,
    pub card: RwSignal<Option<Card>>,
    pub settings: Settings,
    /// The piece on the page: prime notes first, then the network's.
    pub notes: RwSignal<Vec<Note>>,
    pub prime_count: RwSignal<usize>,
    pub new_count: RwSignal<usize>,
    /// The beat under the playback cursor while playing.
    pub cursor: RwSignal<Option<f64>>,
    /// Where Play starts (a click on the roll moves it), in beats.
    pub play_from: RwSignal<f64>,
    /// The roll's zoom (pixels per beat), and its first beat where the listener scrolled it
    /// (`None`: it follows the music).
    pub roll_zoom: RwSignal<f64>,
    pub roll_scroll: RwSignal<Option<f64>>,
    pub figures: RwSignal<Option<Figures>>,
    pub prime_label: RwSignal<String>,
    /// The request that made the finished piece, and its model's key (see [`Page::model_key`]):
    /// what Download and Continue use.
    pub piece: RwSignal<Option<(PieceRequest, String)>>,
    pub share_link: RwSignal<String>,
    pub share_note: RwSignal<String>,
    /// The pieces of the last Variations request, and which one is on the page.
    pub variations: RwSignal<Vec<Variation>>,
    pub shown_variation: RwSignal<Option<u32>>,
    /// The worker's slots holding their generators (for Continue), by variation.
    pub variation_slots: StoredValue<Vec<u32>>,
    /// Which sound plays (the sampled piano, or the synthesized voice while it loads).
    pub voice: RwSignal<String>,
    /// Notes of the playback handed to Web Audio so far (they are handed a little ahead of the
    /// clock, not all at Play).
    pub handed: RwSignal<usize>,
    /// An audio download being rendered.
    pub rendering: RwSignal<bool>,

    pub engine: StoredValue<Option<Rc<Engine>>, LocalStorage>,
    /// The backend's description (adapter and why), before any style's measurement.
    adapter_detail: StoredValue<String>,
    pub loaded: StoredValue<HashMap<String, Rc<StyleInfo>>, LocalStorage>,
    pub player: StoredValue<Option<Player>, LocalStorage>,
    /// The generation under way (its job in the worker), and whether Stop was pressed.
    pub running: StoredValue<Option<u32>>,
    pub stop_requested: StoredValue<bool>,
    pub prime_file: StoredValue<Option<Start>>,
    /// The worker's slot with the generator of the piece on the page, so Continue can go on
    /// from its state.
    pub current: StoredValue<Option<u32>>,
    /// How many of the piece's notes the player has been given (Play may start mid-generation).
    pub scheduled: StoredValue<usize>,
    /// Play was pressed and waits (briefly) for the piano samples.
    pub play_pending: StoredValue<bool>,
    /// The timer that moves the cursor with the audio clock.
    pub cursor_timer: StoredValue<Option<IntervalHandle>>,
    /// Whether a shared link's settings still wait to be applied over the first style's.
    link_pending: StoredValue<bool>,
    /// The style whose measured sampling settings the inputs were last set from.
    settings_from: StoredValue<String>,
}

impl Page {
    pub(crate) fn new() -> Page {
        Page {
            status: RwSignal::new(Status::Loading),
            error: RwSignal::new(String::new()),
            backend_name: RwSignal::new(String::from("…")),
            backend_detail: RwSignal::new(String::new()),
            styles: RwSignal::new(Vec::new()),
            selected: RwSignal::new(String::new()),
            epoch: RwSignal::new(None),
            snapshots: RwSignal::new(Vec::new()),
            chosen_epoch: RwSignal::new(0),
            card: RwSignal::new(None),
            settings: Settings::default(),
            notes: RwSignal::new(Vec::new()),
            prime_count: RwSignal::new(0),
            new_count: RwSignal::new(0),
            cursor: RwSignal::new(None),
            play_from: RwSignal::new(0.0),
            roll_zoom: RwSignal::new(crate::roll::PIXELS_PER_BEAT),
            roll_scroll: RwSignal::new(None),
            figures: RwSignal::new(None),
            prime_label: RwSignal::new(String::new()),
            piece: RwSignal::new(None),
            share_link: RwSignal::new(String::new()),
            share_note: RwSignal::new(String::new()),
            variations: RwSignal::new(Vec::new()),
            shown_variation: RwSignal::new(None),
            variation_slots: StoredValue::new(Vec::new()),
            voice: RwSignal::new(String::new()),
            handed: RwSignal::new(0),
            rendering: RwSignal::new(false),
            engine: StoredValue::new_local(None),
            adapter_detail: StoredValue::new(String::new()),
            loaded: StoredValue::new_local(HashMap::new()),
            player: StoredValue::new_local(None),
            running: StoredValue::new(None),
            stop_requested: StoredValue::new(false),
            prime_file: StoredValue::new(None),
            current: StoredValue::new(None),
            scheduled: StoredValue::new(0),
            play_pending: StoredValue::new(false),
            cursor_timer: StoredValue::new(None),
            link_pending: StoredValue::new(true),
            settings_from: StoredValue::new(String::new()),
        }
    }

    pub(crate) fn busy(&self) -> bool {
        matches!(self.status.get(), Status::Generating | Status::Loading)
    }

    pub(crate) fn fail(&self, message: String) {
        self.error.set(message);
        self.status.set(Status::Error);
    }

    /// Start-up: start the engine worker, which picks the backend, then read the style list and
    /// load the first (or ?style=) one.
    pub(crate) fn start(self) {
        spawn_local(async move {
            let preference = Preference::from_query();
            let (script, probed) = worker_script(preference).await;
            let engine = match Engine::spawn(script) {
                Ok(engine) => engine,
                Err(message) => {
                    return self.fail(format!("The engine could not start: {message}"));
                }
            };
            self.engine.set_value(Some(engine.clone()));
            let (_, mut replies) = engine.request(|job| Command::Start {
                job,
                preference,
                base: page_base(),
                probed,
            });
            match replies.next().await {
                Some(Reply::Backend { kind, detail, .. }) => {
                    self.backend_name.set(kind.name().into());
                    self.backend_detail.set(detail.clone());
                    self.adapter_detail.set_value(detail);
                }
                Some(Reply::Failed { message, .. }) => {
                    return self.fail(format!("The engine could not start: {message}"));
                }
                _ => return self.fail("The engine could not start.".into()),
            }
            match load_index().await {
                Ok(index) => {
                    let wanted = query_param("style")
                        .filter(|id| index.styles.iter().any(|s| &s.id == id))
                        .unwrap_or_else(|| index.styles[0].id.clone());
                    self.styles.set(index.styles);
                    self.selected.set(wanted);
                    self.load_selected();
                }
                Err(message) => self.fail(format!("No styles to offer: {message}")),
            }
        });
    }

    /// The key of the selected model among the loaded ones: the style, and `@N` for epoch N.
    pub(crate) fn model_key(&self) -> String {
        let id = self.selected.get_untracked();
        match self.epoch.get_untracked() {
            Some(epoch) => format!("{id}@{epoch}"),
            None => id,
        }
    }

    /// Shows a loaded model. A newly chosen style sets the sampling settings measured for it
    /// (`trainer-cli tune`), the first one shown takes a shared link's settings over them, and
    /// its shipped model offers its earlier epochs; moving between epochs keeps the settings as
    /// they are, so epochs are compared alike.
    fn show_style(&self, style: &StyleInfo) {
        let settings = self.settings;
        let id = &style.manifest.style.id;
        if self.settings_from.with_value(|from| from != id) {
            self.settings_from.set_value(id.clone());
            let sampling = style.manifest.default_sampling();
            settings.temperature.set(sampling.temperature.to_string());
            settings.top_k.set(sampling.top_k.to_string());
            settings.top_p.set(sampling.top_p.to_string());
            settings.motifs.set(sampling.motif_memory.to_string());
            settings.pace.set(sampling.pace_memory.to_string());
            settings.shaped.set(
                if sampling.pitches_only {
                    "pitches"
                } else {
                    "all"
                }
                .into(),
            );
        }
        if self.epoch.get_untracked().is_none() {
            self.snapshots.set(style.manifest.snapshots.clone());
            self.chosen_epoch.set(style.manifest.training.epochs);
            if self.link_pending.get_value() {
                self.link_pending.set_value(false);
                settings.apply_link();
                let linked = query_param("epoch").and_then(|e| e.parse::<usize>().ok());
                if let Some(epoch) =
                    linked.filter(|e| style.manifest.snapshots.iter().any(|s| s.epoch == *e))
                {
                    self.epoch.set(Some(epoch));
                    self.load_selected();
                    return;
                }
            }
        }
        // Where the backend was measured per style, say which engine generates this one.
        if let Some(measured) = &style.measured {
            self.backend_name.set(style.runs_on.name().into());
            let adapter = self.adapter_detail.get_value();
            self.backend_detail.set(format!("{adapter} · {measured}"));
        }
        self.card.set(Some(Card::of(style)));
    }

    /// Loads (or takes from memory) the selected style at the selected epoch.
    pub(crate) fn load_selected(self) {
        let id = self.selected.get_untracked();
        let Some(entry) = self.styles.get_untracked().into_iter().find(|s| s.id == id) else {
            return;
        };
        let path = match self.epoch.get_untracked() {
            None => entry.path.clone(),
            Some(epoch) => {
                let snapshots = self.snapshots.get_untracked();
                let Some(snapshot) = snapshots.iter().find(|s| s.epoch == epoch) else {
                    return;
                };
                format!("{}{}", entry.path, snapshot.path)
            }
        };
        let key = self.model_key();
        self.error.set(String::new());
        if let Some(style) = self.loaded.with_value(|m| m.get(&key).cloned()) {
            self.show_style(&style);
            self.status.set(Status::Idle);
            return;
        }
        self.card.set(None);
        self.status.set(Status::Loading);
        let Some(engine) = self.engine.with_value(Clone::clone) else {
            return;
        };
        spawn_local(async move {
            let (_, mut replies) = engine.request(|job| Command::Load {
                job,
                key: key.clone(),
                path,
            });
            let result = match replies.next().await {
                Some(Reply::Loaded { style, .. }) => Ok(*style),
                Some(Reply::Failed { message, .. }) => Err(message),
                _ => Err("the engine did not answer".into()),
            };
            if self.model_key() != key {
                return; // the user moved on while this loaded
            }
            match result {
                Ok(style) => {
                    let style = Rc::new(style);
                    self.loaded.update_value(|m| {
                        m.insert(key, style.clone());
                    });
                    self.status.set(Status::Idle);
                    self.show_style(&style);
                }
                Err(message) => self.fail(format!(
                    "The {} model could not be loaded: {message}",
                    entry.display_name
                )),
            }
        });
    }

    /// Takes a chosen or dropped MIDI file as the piece's start.
    pub(crate) fn use_file(self, file: web_sys::File) {
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
                    self.prime_file.set_value(Some(start));
                    self.prime_label.set(format!("{name} ({count} notes)"));
                    self.settings.start.set("file".into());
                    self.error.set(String::new());
                }
                Err(message) => {
                    self.prime_file.set_value(None);
                    self.prime_label.set(String::new());
                    self.error
                        .set(format!("{name} cannot be used as a start: {message}"));
                }
            }
        });
    }
}
