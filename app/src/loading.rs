//! A style's bundle in the engine worker: fetched, verified (schema, size, checksum, config
//! fit), built on the chosen device and warmed up. A broken bundle is an error for that style
//! only.

use burn::prelude::*;
use motif::bundle::{MANIFEST_FILE, Manifest, load_weights};
use motif::model::{MusicModel, PackedModel};
use motif::piece::{PieceRequest, Start};

use crate::backend::Backend;
use crate::bundles::MODELS_DIR;
use crate::generation::device_logits;
use crate::protocol::{BackendKind, StyleInfo};
use crate::web::{fetch_bytes, fetch_text, now_ms, yield_now};

pub struct LoadedStyle {
    /// What the page is told of it (the manifest, sizes, timings, which engine generates).
    pub info: StyleInfo,
    pub model: MusicModel,
    /// On the CPU: the network's packed copy, which steps a token without tensors; when set,
    /// it generates rather than the model on WebGPU.
    pub packed: Option<PackedModel>,
}

/// Fetches, verifies (schema, size, checksum, config fit) and warms up one style's bundle.
pub async fn load_style(path: &str, backend: &Backend) -> Result<LoadedStyle, String> {
    let device = &backend.device;
    let cpu = backend.kind == BackendKind::Cpu;
    let started = now_ms();
    let folder = format!("{MODELS_DIR}/{path}");
    let manifest_text = fetch_text(&format!("{folder}/{MANIFEST_FILE}")).await?;
    let manifest = Manifest::from_json(&manifest_text)
        .map_err(|e| format!("{folder}/{MANIFEST_FILE}: {e}"))?;
    let weights_url = format!("{folder}/{}", manifest.weights.file);
    let weights = fetch_bytes(&weights_url).await?;
    let download_bytes = manifest_text.len() + weights.len();
    let cpu_copy = (backend.measure && !cpu).then(|| weights.clone());
    let model = build_model(&manifest, weights, device, &weights_url).await?;
    let loaded = now_ms();
    let prime = manifest
        .primes
        .first()
        .map(|p| manifest.vocabulary.encode(&p.tokens))
        .unwrap_or_default();
    let mut measured = None;
    let packed = if cpu {
        // Nothing to compile: the packed copy is ready once its weights are copied.
        let packed = PackedModel::new(&model);
        yield_now().await;
        Some(packed)
    } else {
        warm_up(&model, device, &prime).await?;
        match cpu_copy {
            Some(weights) => {
                let on_cpu = build_model(&manifest, weights, &Device::flex(), &weights_url).await?;
                let packed = PackedModel::new(&on_cpu);
                yield_now().await;
                let (cpu_ms, gpu_ms) = time_both(&manifest, &packed, &model, device).await?;
                let faster = if cpu_ms <= gpu_ms { "CPU" } else { "WebGPU" };
                measured = Some(format!(
                    "measured: {cpu_ms:.2} ms a token on the CPU, {gpu_ms:.2} on WebGPU; the {faster} generates"
                ));
                (cpu_ms <= gpu_ms).then_some(packed)
            }
            None => None,
        }
    };
    let loss_plot = manifest
        .loss_plot
        .as_ref()
        .map(|file| format!("{folder}/{file}"));
    Ok(LoadedStyle {
        info: StyleInfo {
            download_bytes,
            load_ms: loaded - started,
            warmup_ms: now_ms() - loaded,
            loss_plot,
            runs_on: if packed.is_some() {
                BackendKind::Cpu
            } else {
                BackendKind::WebGpu
            },
            measured,
            manifest,
        },
        model,
        packed,
    })
}

/// Verifies the weights and builds the model as [`Manifest::load_model`] does, yielding to the
/// browser between the checksum, the conversion to floats and the build, so that no one step
/// holds the page's main thread for long (the page keeps painting and answering while a style
/// loads).
async fn build_model(
    manifest: &Manifest,
    weights: Vec<u8>,
    device: &Device,
    url: &str,
) -> Result<MusicModel, String> {
    let failed = |e: motif::bundle::BundleError| format!("{url}: {e}");
    manifest.verify_weights(&weights).map_err(failed)?;
    yield_now().await;
    let floats = manifest.float_weights(weights).map_err(failed)?;
    yield_now().await;
    let model = load_weights(&manifest.model, floats, device).map_err(failed)?;
    yield_now().await;
    Ok(model)
}

/// Milliseconds per token on the CPU (the packed copy) and on WebGPU (a step and the read-back
/// of its logits, as generation does it), after one untimed step each. WebGPU stops early once
/// it has clearly lost: a software adapter takes a second for what the CPU does in milliseconds.
async fn time_both(
    manifest: &Manifest,
    packed: &PackedModel,
    model: &MusicModel,
    device: &Device,
) -> Result<(f64, f64), String> {
    const STEPS: usize = 16;
    let request = PieceRequest {
        notes: STEPS,
        sampling: manifest.default_sampling(),
        seed: 0,
        variation: 0,
        start: Start::CorpusExcerpt,
        bpm: 120.0,
    };
    let mut values = Vec::new();
    let mut generator = request.generator(manifest);
    let mut started = 0.0;
    for step in 0..=STEPS {
        if step == 1 {
            started = now_ms();
        }
        generator.packed_logits(packed, &mut values);
        generator.accept(&values);
    }
    let cpu_ms = (now_ms() - started) / STEPS as f64;
    yield_now().await;

    let mut generator = request.generator(manifest);
    let mut timed = 0;
    for step in 0..=STEPS {
        if step == 1 {
            started = now_ms();
        }
        values = device_logits(&mut generator, model, device).await?;
        generator.accept(&values);
        timed = step;
        if step >= 2 && now_ms() - started > 1000.0 {
            break;
        }
    }
    let gpu_ms = (now_ms() - started) / timed.max(1) as f64;
    Ok((cpu_ms, gpu_ms))
}

/// A prime-length forward, one step and their reads, so WebGPU compiles its pipelines now (its
/// pipeline creation blocks the page) rather than on the first click.
async fn warm_up(model: &MusicModel, device: &Device, prime: &[u32]) -> Result<(), String> {
    let mut ids: Vec<i64> = prime.iter().map(|&id| i64::from(id)).collect();
    if ids.is_empty() {
        ids = vec![1, 1];
    }
    let len = ids.len();
    let input = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, len]), device);
    let (logits, state) = model.forward_with_state(input, None, None);
    logits
        .into_data_async()
        .await
        .map_err(|e| format!("warm-up failed: {e:?}"))?;
    let input = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64], [1, 1]), device);
    let (logits, _) = model.forward_with_state(input, None, Some(state));
    logits
        .into_data_async()
        .await
        .map_err(|e| format!("warm-up failed: {e:?}"))?;
    Ok(())
}
