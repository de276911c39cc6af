//! The sampled piano: zones rendered from the FluidR3 GM SoundFont (`scripts/make-piano-samples.sh`),
//! packed in one Ogg file, fetched and decoded once, on the first Play or audio download.

use std::cell::RefCell;
use std::rc::Rc;

use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioBuffer, BaseAudioContext};

use crate::web::{fetch_bytes, fetch_text, js_message, sleep_ms};

const MANIFEST: &str = "piano/piano.json";
const AUDIO: &str = "piano/piano.ogg";

/// One recorded note: where it lies in the packed buffer (seconds) and what was played.
#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Zone {
    pub pitch: u8,
    pub velocity: u8,
    pub start: f64,
    pub length: f64,
}

#[derive(Deserialize)]
struct Manifest {
    zones: Vec<Zone>,
}

pub struct Piano {
    pub buffer: AudioBuffer,
    zones: Vec<Zone>,
}

impl Piano {
    async fn fetch(context: &BaseAudioContext) -> Result<Piano, String> {
        let manifest: Manifest = serde_json::from_str(&fetch_text(MANIFEST).await?)
            .map_err(|e| format!("{MANIFEST}: {e}"))?;
        if manifest.zones.is_empty() {
            return Err(format!("{MANIFEST}: no zones"));
        }
        let bytes = fetch_bytes(AUDIO).await?;
        let data = js_sys::Uint8Array::from(bytes.as_slice()).buffer();
        let decoding = context
            .decode_audio_data(&data)
            .map_err(|e| format!("{AUDIO}: {}", js_message(&e)))?;
        let buffer: AudioBuffer = JsFuture::from(decoding)
            .await
            .map_err(|e| format!("{AUDIO} could not be decoded: {}", js_message(&e)))?
            .unchecked_into();
        let end = manifest
            .zones
            .iter()
            .map(|z| z.start + z.length)
            .fold(0.0, f64::max);
        if buffer.duration() + 0.01 < end {
            return Err(format!(
                "{AUDIO} holds {:.1} s, the zones need {end:.1} s",
                buffer.duration()
            ));
        }
        Ok(Piano {
            buffer,
            zones: manifest.zones,
        })
    }

    /// The recording to play `pitch` at `velocity` from: the nearest velocity layer (soft and
    /// loud strings differ in timbre), then the nearest pitch in it (at most 1.5 semitones off).
    pub fn zone(&self, pitch: u8, velocity: u8) -> Zone {
        let layer = self
            .zones
            .iter()
            .min_by_key(|z| z.velocity.abs_diff(velocity))
            .map(|z| z.velocity)
            .expect("a piano has zones");
        *self
            .zones
            .iter()
            .filter(|z| z.velocity == layer)
            .min_by_key(|z| z.pitch.abs_diff(pitch))
            .expect("a layer has zones")
    }
}

enum Loading {
    NotStarted,
    InFlight,
    Done(Result<Rc<Piano>, String>),
}

thread_local! {
    static PIANO: RefCell<Loading> = const { RefCell::new(Loading::NotStarted) };
}

/// The piano if it has loaded: `None` while it loads or if it failed (the caller falls back
/// to the synthesized voice). Starts the load on first call.
pub fn piano_now(context: &BaseAudioContext) -> Option<Result<Rc<Piano>, String>> {
    let start = PIANO.with(|p| {
        let mut p = p.borrow_mut();
        matches!(*p, Loading::NotStarted).then(|| *p = Loading::InFlight)
    });
    if start.is_some() {
        let context = context.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = Piano::fetch(&context).await.map(Rc::new);
            PIANO.with(|p| *p.borrow_mut() = Loading::Done(result));
        });
    }
    PIANO.with(|p| match &*p.borrow() {
        Loading::Done(result) => Some(result.clone()),
        _ => None,
    })
}

/// Waits for the piano up to `patience_ms`; `None` if it is still loading by then.
pub async fn piano_within(
    context: &BaseAudioContext,
    patience_ms: f64,
) -> Option<Result<Rc<Piano>, String>> {
    let started = crate::web::now_ms();
    loop {
        if let Some(result) = piano_now(context) {
            return Some(result);
        }
        if crate::web::now_ms() - started > patience_ms {
            return None;
        }
        sleep_ms(40).await;
    }
}
