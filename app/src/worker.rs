//! The engine worker (the `motif-engine` wasm, in a dedicated worker the page starts) owns the
//! backend, the models and the generators. Fetching and verifying bundles, building models,
//! warm-up, priming and every model step run here, so the page's main thread only renders and
//! plays. Commands arrive as [`Command`]s; Stop is acted on as it arrives, between two slices
//! of the generation loop.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use burn::prelude::Device;
use motif::generate::Generator;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend::{self, Backend};
use crate::generation::{generate, generate_together};
use crate::loading::{LoadedStyle, load_style};
use crate::protocol::{Command, Reply};
use crate::web::set_base;

/// Generators kept for Continue: the latest slots only (a request with variations fills
/// five), so an abandoned piece's state does not stay in memory for good.
const KEPT_SLOTS: usize = 16;

#[derive(Default)]
struct Engine {
    backend: RefCell<Option<Backend>>,
    loaded: RefCell<HashMap<String, Rc<LoadedStyle>>>,
    slots: RefCell<BTreeMap<u32, Generator>>,
    stops: RefCell<HashMap<u32, Rc<Cell<bool>>>>,
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn send(reply: &Reply) {
    match serde_json::to_string(reply) {
        Ok(text) => {
            let _ = scope().post_message(&JsValue::from_str(&text));
        }
        Err(e) => web_sys::console::error_1(&format!("unsendable reply: {e}").into()),
    }
}

/// Starts taking commands: the engine wasm's `main`.
pub fn run() {
    let engine = Rc::new(Engine::default());
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else {
            return;
        };
        match serde_json::from_str::<Command>(&text) {
            Ok(command) => engine.clone().take(command),
            Err(e) => web_sys::console::error_1(&format!("unreadable command: {e}").into()),
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    send(&Reply::Ready);
}

impl Engine {
    fn take(self: Rc<Self>, command: Command) {
        match command {
            Command::Stop { job } => {
                if let Some(flag) = self.stops.borrow().get(&job) {
                    flag.set(true);
                }
            }
            Command::Start {
                job,
                preference,
                base,
                probed,
            } => {
                set_base(base);
                spawn_local(async move {
                    let chosen = backend::choose(preference, probed).await;
                    send(&Reply::Backend {
                        job,
                        kind: chosen.kind,
                        detail: chosen.detail.clone(),
                    });
                    *self.backend.borrow_mut() = Some(chosen);
                });
            }
            Command::Load { job, key, path } => spawn_local(async move {
                let reply = match self.load(&key, &path).await {
                    Ok(style) => Reply::Loaded {
                        job,
                        style: Box::new(style.info.clone()),
                    },
                    Err(message) => Reply::Failed { job, message },
                };
                send(&reply);
            }),
            Command::Generate {
                job,
                key,
                slot,
                request,
                resume,
            } => {
                let stop = self.stop_flag(job);
                spawn_local(async move {
                    let result = self.generate(job, &key, slot, request, resume, stop).await;
                    self.finish(job, result);
                });
            }
            Command::GenerateTogether { job, key, pieces } => {
                let stop = self.stop_flag(job);
                spawn_local(async move {
                    let result = self.generate_together(job, &key, pieces, stop).await;
                    self.finish(job, result);
                });
            }
        }
    }

    /// Job `job`'s Stop flag, registered before the job starts so a Stop sent right after is
    /// not lost.
    fn stop_flag(&self, job: u32) -> Rc<Cell<bool>> {
        let stop = Rc::new(Cell::new(false));
        self.stops.borrow_mut().insert(job, stop.clone());
        stop
    }

    fn finish(&self, job: u32, result: Result<(), String>) {
        self.stops.borrow_mut().remove(&job);
        if let Err(message) = result {
            send(&Reply::Failed { job, message });
        }
    }

    /// The loaded style `key` and the device that runs it.
    fn style_and_device(&self, key: &str) -> Result<(Rc<LoadedStyle>, Device), String> {
        let style = self
            .loaded
            .borrow()
            .get(key)
            .cloned()
            .ok_or_else(|| format!("the {key} model is not loaded"))?;
        let device = self
            .backend
            .borrow()
            .as_ref()
            .map(|b| b.device.clone())
            .ok_or("the engine has no backend yet")?;
        Ok((style, device))
    }

    /// Keeps `generator` in `slot` for Continue.
    fn keep(&self, slot: u32, generator: Generator) {
        let mut slots = self.slots.borrow_mut();
        slots.insert(slot, generator);
        while slots.len() > KEPT_SLOTS {
            slots.pop_first();
        }
    }

    async fn load(&self, key: &str, path: &str) -> Result<Rc<LoadedStyle>, String> {
        if let Some(style) = self.loaded.borrow().get(key) {
            return Ok(style.clone());
        }
        let backend = self
            .backend
            .borrow()
            .clone()
            .ok_or("the engine has no backend yet")?;
        let style = Rc::new(load_style(path, &backend).await?);
        self.loaded
            .borrow_mut()
            .insert(key.to_string(), style.clone());
        Ok(style)
    }

    async fn generate(
        &self,
        job: u32,
        key: &str,
        slot: u32,
        request: motif::piece::PieceRequest,
        resume: bool,
        stop: Rc<Cell<bool>>,
    ) -> Result<(), String> {
        let (style, device) = self.style_and_device(key)?;
        let mut generator = if resume {
            self.slots
                .borrow_mut()
                .remove(&slot)
                .ok_or("this piece can no longer be continued")?
        } else {
            request.generator(&style.info.manifest)
        };
        // Notes the page already holds for good: none of a new piece; of a piece taken up
        // again, those before any that were still waiting for a duration.
        let mut sent = if resume { generator.notes.len() } else { 0 };
        let finished = generate(
            &style,
            &device,
            &request,
            &mut generator,
            stop,
            |progress| {
                send(&Reply::Notes {
                    job,
                    piece: 0,
                    from: sent,
                    notes: progress.notes[sent..].to_vec(),
                    prime_notes: progress.prime_notes,
                    new_notes: progress.new_notes,
                });
                sent = progress.notes.len();
            },
        )
        .await?;
        let from = sent.min(finished.notes.len());
        send(&Reply::Done {
            job,
            piece: 0,
            from,
            notes: finished.notes[from..].to_vec(),
            outcome: finished.outcome,
            last: true,
        });
        self.keep(slot, generator);
        Ok(())
    }

    /// New pieces into their slots, side by side where the backend gains from it (see
    /// [`crate::generation::generate_together`]).
    async fn generate_together(
        &self,
        job: u32,
        key: &str,
        pieces: Vec<(u32, motif::piece::PieceRequest)>,
        stop: Rc<Cell<bool>>,
    ) -> Result<(), String> {
        if pieces.is_empty() {
            return Err("no pieces were asked for".into());
        }
        let (style, device) = self.style_and_device(key)?;
        let (slots, requests): (Vec<u32>, Vec<_>) = pieces.into_iter().unzip();
        let mut generators: Vec<Generator> = requests
            .iter()
            .map(|r| r.generator(&style.info.manifest))
            .collect();
        // Notes of the streaming piece the page already holds for good.
        let mut sent = (0, 0);
        let finished = generate_together(
            &style,
            &device,
            &requests,
            &mut generators,
            stop,
            |piece, progress| {
                let from = if sent.0 == piece { sent.1 } else { 0 };
                send(&Reply::Notes {
                    job,
                    piece,
                    from,
                    notes: progress.notes[from..].to_vec(),
                    prime_notes: progress.prime_notes,
                    new_notes: progress.new_notes,
                });
                sent = (piece, progress.notes.len());
            },
        )
        .await?;
        let count = finished.len();
        for (piece, (finished, (slot, generator))) in finished
            .into_iter()
            .zip(slots.into_iter().zip(generators))
            .enumerate()
        {
            let from = if sent.0 == piece {
                sent.1.min(finished.notes.len())
            } else {
                0
            };
            send(&Reply::Done {
                job,
                piece,
                from,
                notes: finished.notes[from..].to_vec(),
                outcome: finished.outcome,
                last: piece + 1 == count,
            });
            self.keep(slot, generator);
        }
        Ok(())
    }
}
