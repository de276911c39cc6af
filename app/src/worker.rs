//! The engine worker (the `motif-engine` wasm, in a dedicated worker the page starts) owns the
//! backend, the models and the generators. Fetching and verifying bundles, building models,
//! warm-up, priming and every model step run here, so the page's main thread only renders and
//! plays. Commands arrive as [`Command`]s; Stop is acted on as it arrives, between two slices
//! of the generation loop.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use motif::generate::Generator;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::backend::{self, Backend};
use crate::generation::generate;
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
                // Registered now, so a Stop sent right after is not lost.
                let stop = Rc::new(Cell::new(false));
                self.stops.borrow_mut().insert(job, stop.clone());
                spawn_local(async move {
                    let result = self.generate(job, &key, slot, request, resume, stop).await;
                    self.stops.borrow_mut().remove(&job);
                    if let Err(message) = result {
                        send(&Reply::Failed { job, message });
                    }
                });
            }
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
            from,
            notes: finished.notes[from..].to_vec(),
            outcome: finished.outcome,
        });
        let mut slots = self.slots.borrow_mut();
        slots.insert(slot, generator);
        while slots.len() > KEPT_SLOTS {
            slots.pop_first();
        }
        Ok(())
    }
}
