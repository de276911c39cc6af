//! The page's side of the engine worker ([`crate::worker`], the `motif-engine` or
//! `motif-engine-cpu` wasm): chooses which, starts it
//! and routes its replies to whoever sent the command. Each command gets a job number and a
//! stream of replies that ends with the job.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Url, Worker, WorkerOptions, WorkerType};

use crate::gpu::{Probe, probe_adapter};
use crate::protocol::{Command, Preference, Reply};
use crate::web::{js_message, page_base};

/// The workers' scripts, beside the page: each starts one build of the engine's wasm, with
/// WebGPU (`app/engine-worker.js`) or the CPU alone (`app/engine-cpu-worker.js`, a fifth of
/// the download).
const WEBGPU_WORKER_SCRIPT: &str = "engine-worker.js";
const CPU_WORKER_SCRIPT: &str = "engine-cpu-worker.js";

/// Which engine build to start: the one with WebGPU only where it may be used — asked for, or
/// a hardware adapter offered (the engine then judges the adapter burn is given, and may
/// still measure the CPU faster). Without WebGPU, or with only a software adapter, the CPU
/// build generates the same notes and the visitor downloads a fifth of the wasm. Returns
/// the adapter probed on the way, for [`Command::Start`](crate::protocol::Command::Start).
pub async fn worker_script(preference: Preference) -> (&'static str, Option<Probe>) {
    match preference {
        Preference::Cpu => (CPU_WORKER_SCRIPT, None),
        Preference::WebGpu | Preference::Measure => (WEBGPU_WORKER_SCRIPT, None),
        Preference::Auto => {
            let probe = probe_adapter().await;
            let script = match &probe {
                Ok(adapter) if !adapter.fallback => WEBGPU_WORKER_SCRIPT,
                _ => CPU_WORKER_SCRIPT,
            };
            (script, Some(probe))
        }
    }
}

pub struct Engine {
    worker: Worker,
    ready: Cell<bool>,
    /// Commands sent before the worker said it was ready.
    queued: RefCell<Vec<String>>,
    routes: RefCell<HashMap<u32, UnboundedSender<Reply>>>,
    /// Why the worker is gone, once it is.
    broken: RefCell<Option<String>>,
    next_job: Cell<u32>,
    next_slot: Cell<u32>,
}

impl Engine {
    /// Starts the engine in a worker running `script` (see [`worker_script`]).
    pub fn spawn(script: &'static str) -> Result<Rc<Engine>, String> {
        let url = Url::new_with_base(script, &page_base())
            .map_err(|e| js_message(&e))?
            .href();
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        options.set_name("motif-engine");
        let worker = Worker::new_with_options(&url, &options)
            .map_err(|e| format!("the engine worker could not start: {}", js_message(&e)))?;
        let engine = Rc::new(Engine {
            worker,
            ready: Cell::new(false),
            queued: RefCell::new(Vec::new()),
            routes: RefCell::new(HashMap::new()),
            broken: RefCell::new(None),
            next_job: Cell::new(1),
            next_slot: Cell::new(1),
        });

        let weak = Rc::downgrade(&engine);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let (Some(engine), Some(text)) = (weak.upgrade(), event.data().as_string()) else {
                return;
            };
            match serde_json::from_str::<Reply>(&text) {
                Ok(reply) => engine.receive(reply),
                Err(e) => engine.break_down(format!("the engine sent an unreadable reply: {e}")),
            }
        });
        engine
            .worker
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let weak = Rc::downgrade(&engine);
        // An ErrorEvent for an exception, a bare Event when the script did not load.
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            if let Some(engine) = weak.upgrade() {
                let message = js_sys::Reflect::get(&event, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or_else(|| format!("{script} or the engine's wasm failed to load"));
                engine.break_down(format!("the engine stopped: {message}"));
            }
        });
        engine
            .worker
            .set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();

        Ok(engine)
    }

    /// Sends the command `make` builds around a new job number; returns the number and the
    /// job's replies (the stream ends after the last one).
    pub fn request(&self, make: impl FnOnce(u32) -> Command) -> (u32, UnboundedReceiver<Reply>) {
        let job = self.next_job.get();
        self.next_job.set(job + 1);
        let (sender, receiver) = unbounded();
        if let Some(why) = self.broken.borrow().clone() {
            let _ = sender.unbounded_send(Reply::Failed { job, message: why });
            return (job, receiver);
        }
        self.routes.borrow_mut().insert(job, sender);
        self.post(&make(job));
        (job, receiver)
    }

    /// Stops generation `job` (it still answers, with the notes made so far).
    pub fn stop(&self, job: u32) {
        self.post(&Command::Stop { job });
    }

    /// A new place for a generator in the worker (see [`Command::Generate`]).
    pub fn new_slot(&self) -> u32 {
        let slot = self.next_slot.get();
        self.next_slot.set(slot + 1);
        slot
    }

    fn post(&self, command: &Command) {
        let Ok(text) = serde_json::to_string(command) else {
            return;
        };
        if self.ready.get() {
            let _ = self.worker.post_message(&JsValue::from_str(&text));
        } else {
            self.queued.borrow_mut().push(text);
        }
    }

    fn receive(&self, reply: Reply) {
        let Some(job) = reply.job() else {
            self.ready.set(true);
            for text in self.queued.borrow_mut().drain(..) {
                let _ = self.worker.post_message(&JsValue::from_str(&text));
            }
            return;
        };
        if job == 0 {
            if let Reply::Failed { message, .. } = reply {
                self.break_down(message);
            }
            return;
        }
        let ends = reply.ends_job();
        let mut routes = self.routes.borrow_mut();
        if let Some(route) = routes.get(&job) {
            let _ = route.unbounded_send(reply);
        }
        if ends {
            routes.remove(&job);
        }
    }

    /// The worker is gone: every job waiting fails with `why`, and so does every later one.
    fn break_down(&self, why: String) {
        *self.broken.borrow_mut() = Some(why.clone());
        for (job, route) in self.routes.borrow_mut().drain() {
            let _ = route.unbounded_send(Reply::Failed {
                job,
                message: why.clone(),
            });
        }
    }
}
