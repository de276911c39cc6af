//! The streaming loop, run by the engine worker: one model step per token (the packed CPU step,
//! or burn's tensors with logits read asynchronously, as WebGPU allows no other way), progress
//! reported every few tens of milliseconds, and the worker's event loop let go every few
//! milliseconds so a Stop from the page is seen.

use std::cell::Cell;
use std::rc::Rc;

use burn::prelude::Device;
use motif::Note;
use motif::generate::Generator;
use motif::model::MusicModel;
use motif::piece::PieceRequest;

use crate::loading::LoadedStyle;
use crate::protocol::Outcome;
use crate::web::{now_ms, yield_now};

/// Work between two yields to the worker's event loop (a Stop is seen).
const SLICE_MS: f64 = 16.0;
/// Time between two progress reports: each makes the page redraw the roll, which costs about as
/// much as a few model steps, so it is not done on every yield.
const PROGRESS_MS: f64 = 60.0;

pub struct Progress<'a> {
    pub notes: &'a [Note],
    pub prime_notes: usize,
    pub new_notes: usize,
}

/// The piece as the run left it (its notes still waiting for a duration included), and how
/// the run went.
pub struct Finished {
    pub notes: Vec<Note>,
    pub outcome: Outcome,
}

/// Runs `generator` until the piece holds `request.notes` new notes (or Stop), streaming
/// progress. The generator is left as it stopped, so Continue can go on from there: continuing
/// to N + M notes writes exactly the piece a fresh request for N + M notes would.
pub async fn generate(
    style: &LoadedStyle,
    device: &Device,
    request: &PieceRequest,
    generator: &mut Generator,
    cancel: Rc<Cell<bool>>,
    mut on_progress: impl FnMut(Progress),
) -> Result<Finished, String> {
    let started = now_ms();
    // Let the click that started this finish before the first (heaviest) step runs.
    yield_now().await;
    let (already, tokens_before) = (generator.new_notes(), generator.generated.len());
    let mut first_note_ms = None;
    let mut slice_start = now_ms();
    let mut shown_at = slice_start;
    let budget = request.token_budget();
    let mut values = Vec::new();
    while generator.new_notes() < request.notes && generator.generated.len() < budget {
        if cancel.get() {
            break;
        }
        match &style.packed {
            Some(packed) => {
                generator.packed_logits(packed, &mut values);
            }
            None => values = device_logits(generator, &style.model, device).await?,
        }
        generator.accept(&values);
        if first_note_ms.is_none() && generator.new_notes() > already {
            first_note_ms = Some(now_ms() - started);
        }
        let now = now_ms();
        if now - shown_at > PROGRESS_MS {
            on_progress(Progress {
                notes: &generator.notes,
                prime_notes: generator.prime_notes,
                new_notes: generator.new_notes(),
            });
            shown_at = now;
        }
        if now - slice_start > SLICE_MS {
            yield_now().await;
            slice_start = now_ms();
        }
    }
    let notes = generator.notes_now();
    Ok(Finished {
        outcome: Outcome {
            notes: notes.len(),
            prime_notes: generator.prime_notes,
            tokens: generator.generated.len(),
            notes_before: already,
            tokens_before,
            first_note_ms,
            total_ms: now_ms() - started,
            side_by_side: 1,
        },
        notes,
    })
}

/// Runs several new pieces until each holds its request's notes (or Stop). With the packed CPU
/// step they run one after another, each streaming through `on_progress` (with its index): its
/// cost is the arithmetic of each weight row, so side by side would save only the weights'
/// reads (15 % natively) and show the first piece four times slower. On the device they step as one batch
/// ([`Generator::logits_together`]), one read-back for all, and the first piece streams.
/// Returns each piece's end, in order; after a Stop, only the pieces begun.
pub async fn generate_together(
    style: &LoadedStyle,
    device: &Device,
    requests: &[PieceRequest],
    generators: &mut [Generator],
    cancel: Rc<Cell<bool>>,
    mut on_progress: impl FnMut(usize, Progress),
) -> Result<Vec<Finished>, String> {
    if style.packed.is_some() {
        let mut finished = Vec::new();
        for (piece, (request, generator)) in requests.iter().zip(generators.iter_mut()).enumerate()
        {
            let progress = |p: Progress| on_progress(piece, p);
            finished
                .push(generate(style, device, request, generator, cancel.clone(), progress).await?);
            if cancel.get() {
                break;
            }
        }
        return Ok(finished);
    }
    let started = now_ms();
    yield_now().await;
    let mut first_note_ms = vec![None; generators.len()];
    let mut shown_at = now_ms();
    while !cancel.get() {
        let (pieces, mut batch): (Vec<usize>, Vec<&mut Generator>) = generators
            .iter_mut()
            .enumerate()
            .filter(|(i, g)| {
                g.new_notes() < requests[*i].notes
                    && g.generated.len() < requests[*i].token_budget()
            })
            .unzip();
        if batch.is_empty() {
            break;
        }
        let values =
            read_logits(Generator::logits_together(&mut batch, &style.model, device)).await?;
        let width = values.len() / batch.len();
        for ((piece, generator), row) in pieces.into_iter().zip(batch).zip(values.chunks(width)) {
            generator.accept(row);
            if first_note_ms[piece].is_none() && generator.new_notes() > 0 {
                first_note_ms[piece] = Some(now_ms() - started);
            }
        }
        // Each step already waited for the device, so the worker's event loop has run.
        let now = now_ms();
        if now - shown_at > PROGRESS_MS {
            let first = &generators[0];
            on_progress(
                0,
                Progress {
                    notes: &first.notes,
                    prime_notes: first.prime_notes,
                    new_notes: first.new_notes(),
                },
            );
            shown_at = now;
        }
    }
    let total_ms = now_ms() - started;
    let side_by_side = generators.len();
    Ok(generators
        .iter()
        .zip(first_note_ms)
        .map(|(generator, first_note_ms)| {
            let notes = generator.notes_now();
            Finished {
                outcome: Outcome {
                    notes: notes.len(),
                    prime_notes: generator.prime_notes,
                    tokens: generator.generated.len(),
                    notes_before: 0,
                    tokens_before: 0,
                    first_note_ms,
                    total_ms,
                    side_by_side,
                },
                notes,
            }
        })
        .collect())
}

/// One step of `generator` on the model's device and the read-back of its logits (the path
/// WebGPU takes; the read is asynchronous in a browser).
pub async fn device_logits(
    generator: &mut Generator,
    model: &MusicModel,
    device: &Device,
) -> Result<Vec<f32>, String> {
    read_logits(generator.logits(model, device)).await
}

/// The logits' values, read back from the device (asynchronously, as a browser requires).
async fn read_logits(logits: burn::prelude::Tensor<2>) -> Result<Vec<f32>, String> {
    logits
        .into_data_async()
        .await
        .map_err(|e| format!("reading the model's output failed: {e:?}"))?
        .try_to_vec::<f32>()
        .map_err(|e| format!("model output is not f32: {e:?}"))
}
