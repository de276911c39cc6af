//! `trainer-cli train`: the training loop with per-epoch checkpoints, metrics and plot.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, RmsPropConfig};
use burn::prelude::*;
use burn::tensor::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use motif::bundle::load_weights;
use motif::data::{Targets, Window, make_batch, windows};
use motif::model::MusicModel;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use crate::backend;
use crate::checkpoint::{
    EpochMetrics, MODEL_FILE, OPTIMIZER_FILE, Progress, RunDir, RunFile, epoch_name,
    interrupted_name, read_bytes,
};
use crate::cli::TrainArgs;
use crate::dataset;
use crate::fsutil::write_atomic;
use crate::plot::loss_svg;
use crate::recipe::{OptimizerKind, Recipe};

/// Folds several numbers into one RNG seed, so every epoch and batch has its own stream.
fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9e37_79b9_7f4a_7c15u64, |acc, &p| {
        let mut z = acc ^ p.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

pub fn make_optimizer(recipe: &Recipe) -> ModuleOptimizer {
    let clip = recipe.grad_clip.map(GradientClippingConfig::Norm);
    match recipe.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_grad_clipping(clip).init(),
        // Keras's RMSprop: rho 0.9, no momentum, epsilon 1e-7.
        OptimizerKind::Rmsprop => RmsPropConfig::new()
            .with_alpha(0.9)
            .with_momentum(0.0)
            .with_epsilon(1e-7)
            .with_weight_decay(None::<WeightDecayConfig>)
            .with_grad_clipping(clip)
            .init(),
    }
}

/// The batches of one epoch: a seeded cut and shuffle of the training windows.
pub fn epoch_batches(train: &[Vec<u32>], recipe: &Recipe, epoch: usize) -> Vec<Vec<Window>> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(&[recipe.seed, epoch as u64]));
    let offset = if recipe.stride > 1 {
        rng.random_range(0..recipe.stride)
    } else {
        0
    };
    let mut all = windows(train, recipe.seq_len, recipe.stride, offset);
    all.shuffle(&mut rng);
    let mut batches: Vec<Vec<Window>> = all
        .chunks(recipe.batch.max(1))
        .map(<[Window]>::to_vec)
        .collect();
    if let Some(max) = recipe.max_batches {
        batches.truncate(max);
    }
    batches
}

/// Mean loss of one batch (a scalar tensor, still attached to the graph) and its target count.
pub fn batch_loss(
    model: &MusicModel,
    pieces: &[Vec<u32>],
    windows: &[Window],
    (seq_len, kind): (usize, Targets),
    device: &Device,
) -> (Tensor<1>, usize) {
    let batch = make_batch(pieces, windows, seq_len, kind);
    let n = batch.size;
    let inputs = Tensor::<2, Int>::from_data(TensorData::new(batch.inputs, [n, seq_len]), device);
    let targets_len = batch.targets.len();
    let targets =
        Tensor::<1, Int>::from_data(TensorData::new(batch.targets, [targets_len]), device);
    let logits = match kind {
        Targets::EveryPosition => {
            let logits = model.forward(inputs);
            let [_, _, vocab] = logits.dims();
            logits.reshape([n * seq_len, vocab])
        }
        Targets::LastOnly => {
            let (features, _) = model.features(inputs, None);
            let [_, _, hidden] = features.dims();
            model.head(features.narrow(1, seq_len - 1, 1).reshape([n, hidden]))
        }
    };
    (
        CrossEntropyLossConfig::new()
            .init(device)
            .forward(logits, targets),
        targets_len,
    )
}

/// One optimizer step on one batch; returns the updated model, the batch's mean loss and its
/// target count.
pub fn train_step(
    model: MusicModel,
    optimizer: &mut ModuleOptimizer,
    pieces: &[Vec<u32>],
    windows: &[Window],
    recipe: &Recipe,
    device: &Device,
) -> (MusicModel, f64, usize) {
    let (loss, targets) = batch_loss(
        &model,
        pieces,
        windows,
        (recipe.seq_len, recipe.targets),
        device,
    );
    let value = loss.clone().into_scalar::<f64>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    (optimizer.step(recipe.lr, model, grads), value, targets)
}

/// Mean per-token negative log-likelihood (nats) on every position of non-overlapping windows
/// of the held-out pieces, the same measure for every preset. NaN when no piece is long enough.
pub fn validation_loss(
    model: &MusicModel,
    pieces: &[Vec<u32>],
    seq_len: usize,
    batch: usize,
    device: &Device,
) -> f64 {
    let all = windows(pieces, seq_len, seq_len, 0);
    let (mut sum, mut count) = (0.0, 0usize);
    for chunk in all.chunks(batch.max(1)) {
        let (loss, targets) = batch_loss(
            model,
            pieces,
            chunk,
            (seq_len, Targets::EveryPosition),
            device,
        );
        sum += loss.into_scalar::<f64>() * targets as f64;
        count += targets;
    }
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

pub fn run(args: &TrainArgs) -> Result<ExitCode> {
    let dir = RunDir::new(
        args.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&args.style)),
    );
    let (mut recipe, vocabulary, mut progress) = if args.resume {
        let run = dir
            .load_run()
            .with_context(|| format!("--resume: no run to continue in {}", dir.root.display()))?;
        let progress = dir.load_progress()?.unwrap_or_default();
        let mut recipe = run.recipe;
        recipe.epochs = args.epochs.unwrap_or(recipe.epochs);
        (recipe, Some(run.vocabulary), progress)
    } else {
        (Recipe::from_args(args), None, Progress::default())
    };
    dir.create(args.resume)?;
    let backend = backend::select(args.backend)?;
    eprintln!("backend: {}", backend.description);

    let data = dataset::prepare(
        &recipe.data,
        &recipe.tokenizer,
        vocabulary,
        recipe.min_count,
        recipe.validation_fraction,
        recipe.seed,
    )?;
    recipe.model.vocab_size = data.vocab.len();
    if windows(&data.train, recipe.seq_len, recipe.stride, 0).is_empty() {
        let longest = data.train.iter().map(Vec::len).max().unwrap_or(0);
        bail!(
            "too few tokens for one training window of {} (the longest training piece has {longest}); lower --seq-len or add files",
            recipe.seq_len
        );
    }
    let count = |pieces: &[Vec<u32>]| pieces.iter().map(Vec::len).sum::<usize>();
    let run_file = RunFile {
        recipe: recipe.clone(),
        vocabulary: data.vocab.clone(),
        files: data.files,
        rejected_files: data.rejected,
        train_files: data.train.len(),
        validation_files: data.validation.len(),
        train_tokens: count(&data.train),
        validation_tokens: count(&data.validation),
        device: backend.description.clone(),
    };
    dir.save_run(&run_file)?;
    eprintln!(
        "{}: {} training files ({} tokens), {} validation files ({} tokens), vocabulary {}, {} parameters",
        recipe.style,
        run_file.train_files,
        run_file.train_tokens,
        run_file.validation_files,
        run_file.validation_tokens,
        data.vocab.len(),
        recipe.model.parameter_count()
    );

    let train_device = backend.device.clone().autodiff();
    train_device.seed(recipe.seed);
    let mut model = recipe.model.init(&train_device);
    let mut optimizer = make_optimizer(&recipe);
    if let Some(name) = &progress.checkpoint {
        let folder = dir.checkpoint(name);
        model = load_weights(
            &recipe.model,
            read_bytes(&folder.join(MODEL_FILE))?,
            &train_device,
        )
        .with_context(|| format!("checkpoint {} is damaged", folder.display()))?;
        optimizer = optimizer
            .from_bytes(Bytes::from_bytes_vec(read_bytes(
                &folder.join(OPTIMIZER_FILE),
            )?))
            .map_err(|e| {
                anyhow::anyhow!("optimizer state in {} is damaged: {e}", folder.display())
            })?;
        eprintln!("resuming from {name}");
    }

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // A second handler cannot be installed (tests run several trainings in one process).
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }

    for epoch in progress.epochs_done + 1..=recipe.epochs {
        let batches = epoch_batches(&data.train, &recipe, epoch);
        let bar = ProgressBar::new(batches.len() as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} | {msg} | ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{}", recipe.epochs));
        bar.set_position(progress.batches_done as u64);
        let started = Instant::now();
        for (index, windows) in batches.iter().enumerate().skip(progress.batches_done) {
            train_device.seed(mix(&[recipe.seed, epoch as u64, index as u64]));
            let (next, value, targets) = train_step(
                model,
                &mut optimizer,
                &data.train,
                windows,
                &recipe,
                &train_device,
            );
            model = next;
            progress.batches_done = index + 1;
            progress.partial_loss_sum += value * targets as f64;
            progress.partial_targets += targets;
            progress.partial_tokens += windows.len() * recipe.seq_len;
            let seconds = progress.partial_seconds + started.elapsed().as_secs_f64();
            bar.set_message(format!(
                "loss {:.4} | {:.0} tokens/s",
                progress.partial_loss_sum / progress.partial_targets as f64,
                progress.partial_tokens as f64 / seconds
            ));
            bar.inc(1);
            if interrupted.load(Ordering::SeqCst) && progress.batches_done < batches.len() {
                bar.abandon();
                progress.partial_seconds += started.elapsed().as_secs_f64();
                let name = interrupted_name(epoch, progress.batches_done);
                progress.checkpoint = Some(name.clone());
                save(&dir, &name, &model, &optimizer, &progress)?;
                eprintln!(
                    "interrupted: saved {name}; continue with --resume --out {}",
                    dir.root.display()
                );
                return Ok(ExitCode::from(130));
            }
        }
        bar.finish_and_clear();
        let seconds = progress.partial_seconds + started.elapsed().as_secs_f64();
        let validation_loss = validation_loss(
            &model.valid(),
            &data.validation,
            recipe.seq_len,
            recipe.batch,
            &backend.device,
        );
        let metrics = EpochMetrics {
            epoch,
            train_loss: progress.partial_loss_sum / progress.partial_targets.max(1) as f64,
            validation_loss,
            tokens_per_second: progress.partial_tokens as f64 / seconds,
            seconds,
        };
        eprintln!(
            "epoch {epoch}/{}: train loss {:.4}, validation loss {:.4}, {:.0} tokens/s, {:.1} s",
            recipe.epochs,
            metrics.train_loss,
            metrics.validation_loss,
            metrics.tokens_per_second,
            metrics.seconds
        );
        let mut history = std::mem::take(&mut progress.history);
        history.push(metrics);
        progress = Progress {
            epochs_done: epoch,
            checkpoint: Some(epoch_name(epoch)),
            history,
            ..Progress::default()
        };
        save(&dir, &epoch_name(epoch), &model, &optimizer, &progress)?;
        dir.write_metrics(&progress.history)?;
        let svg = loss_svg(
            &format!(
                "{} ({} {}×{})",
                recipe.style, recipe.model.cell, recipe.model.layers, recipe.model.hidden
            ),
            &progress.history,
        )?;
        write_atomic(&dir.root.join("loss.svg"), svg.as_bytes())?;
        if interrupted.load(Ordering::SeqCst) {
            eprintln!(
                "interrupted: saved {}; continue with --resume --out {}",
                epoch_name(epoch),
                dir.root.display()
            );
            return Ok(ExitCode::from(130));
        }
    }
    eprintln!("done: {} epochs in {}", recipe.epochs, dir.root.display());
    Ok(ExitCode::SUCCESS)
}

fn save(
    dir: &RunDir,
    name: &str,
    model: &MusicModel,
    optimizer: &ModuleOptimizer,
    progress: &Progress,
) -> Result<()> {
    let weights = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let optim = optimizer.into_bytes().map_err(|e| anyhow::anyhow!("{e}"))?;
    dir.save_checkpoint(name, &weights, &optim, progress)
}
