//! `trainer-cli train`: the training loop with per-epoch checkpoints, metrics and plot.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{
    AdamConfig, GradientsParams, ModuleOptimizer, MultiGradientsParams, RmsPropConfig,
};
use burn::prelude::*;
use burn::tensor::Bytes;
use burn::tensor::activation::log_softmax;
use indicatif::{ProgressBar, ProgressStyle};
use motif::bundle::load_weights;
use motif::data::{
    Batch, GOLDEN_GAMMA, Pieces, Targets, Transposer, Window, make_batch, splitmix64,
    stream_batches, windows,
};
use motif::model::{ModelConfig, MusicModel, State};
use motif::vocab::UNKNOWN_ID;
use motif::{TokenizerKind, Vocabulary};
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
use crate::init::Pretrained;
use crate::plot::loss_svg;
use crate::recipe::{OptimizerSettings, Preset, Recipe, disagreements, shape_flags};

/// Folds several numbers into one RNG seed, so every epoch and batch has its own stream.
fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(GOLDEN_GAMMA, |acc, &p| {
        splitmix64(acc ^ p.wrapping_add(GOLDEN_GAMMA))
    })
}

pub fn make_optimizer(recipe: &Recipe) -> ModuleOptimizer {
    let clip = recipe.grad_clip.map(GradientClippingConfig::Norm);
    match recipe.optimizer_settings() {
        OptimizerSettings::Adam {
            beta_1,
            beta_2,
            epsilon,
        } => AdamConfig::new()
            .with_beta_1(beta_1)
            .with_beta_2(beta_2)
            .with_epsilon(epsilon)
            .with_grad_clipping(clip)
            .init(),
        OptimizerSettings::Rmsprop {
            rho,
            momentum,
            epsilon,
        } => RmsPropConfig::new()
            .with_alpha(rho)
            .with_momentum(momentum)
            .with_epsilon(epsilon)
            .with_weight_decay(None::<WeightDecayConfig>)
            .with_grad_clipping(clip)
            .init(),
    }
}

/// The transposition table when the recipe augments, built once per run.
pub fn transposer(recipe: &Recipe, vocab: &Vocabulary) -> Option<Transposer> {
    (recipe.transpose != [0, 0]).then(|| Transposer::new(vocab, recipe.transpose_range()))
}

/// One epoch's batches in training order.
pub struct EpochPlan {
    pub batches: Vec<Vec<Window>>,
    /// Stateful runs: per batch and row, whether the row continues the previous batch's row
    /// (so the state is carried) or starts a segment (from zero).
    pub continues: Option<Vec<Vec<bool>>>,
}

/// The batches of one epoch: a seeded cut and shuffle of the training windows, each with a
/// fresh seeded transposition when the recipe augments (the epoch costs the same as without);
/// or, for a stateful recipe, rows that play segments of pieces in order.
pub fn epoch_batches(
    train: &[Vec<u32>],
    recipe: &Recipe,
    transposer: Option<&Transposer>,
    epoch: usize,
) -> EpochPlan {
    let mut rng = ChaCha8Rng::seed_from_u64(mix(&[recipe.seed, epoch as u64]));
    let mut plan = if recipe.stateful {
        let offset = rng.random_range(0..recipe.seq_len.max(1));
        let (batches, continues) = stream_batches(
            train,
            recipe.seq_len,
            recipe.batch,
            offset,
            transposer,
            &mut rng,
        );
        EpochPlan {
            batches,
            continues: Some(continues),
        }
    } else {
        let offset = if recipe.stride > 1 {
            rng.random_range(0..recipe.stride)
        } else {
            0
        };
        let mut all = windows(train, recipe.seq_len, recipe.stride, offset);
        all.shuffle(&mut rng);
        if let Some(transposer) = transposer {
            transposer.draw(&mut all, train, recipe.seq_len, &mut rng);
        }
        EpochPlan {
            batches: all
                .chunks(recipe.batch.max(1))
                .map(<[Window]>::to_vec)
                .collect(),
            continues: None,
        }
    };
    if let Some(max) = recipe.max_batches {
        plan.batches.truncate(max);
        if let Some(continues) = &mut plan.continues {
            continues.truncate(max);
        }
    }
    plan
}

/// Logits [targets, vocab] for a batch (from `state`, or zero), the targets they predict, and
/// the state after the batch.
fn batch_logits(
    model: &MusicModel,
    batch: Batch,
    (kind, state): (Targets, Option<State>),
    device: &Device,
) -> (Tensor<2>, Tensor<1, Int>, State) {
    let (n, seq_len, count) = (batch.size, batch.seq_len, batch.targets.len());
    let inputs = Tensor::<2, Int>::from_data(TensorData::new(batch.inputs, [n, seq_len]), device);
    let meter = (!batch.meter.is_empty())
        .then(|| Tensor::<2, Int>::from_data(TensorData::new(batch.meter, [n, seq_len]), device));
    let targets = Tensor::<1, Int>::from_data(TensorData::new(batch.targets, [count]), device);
    let (features, state) = model.features(inputs, meter, state);
    let logits = match kind {
        Targets::EveryPosition => {
            let logits = model.head(features);
            let [_, _, vocab] = logits.dims();
            logits.reshape([n * seq_len, vocab])
        }
        Targets::LastOnly => {
            let [_, _, hidden] = features.dims();
            model.head(features.narrow(1, seq_len - 1, 1).reshape([n, hidden]))
        }
    };
    (logits, targets, state)
}

/// Negative log-likelihood of each target [targets] (nats), still attached to the graph.
fn target_nll(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    let count = targets.dims()[0];
    log_softmax(logits, 1)
        .gather(1, targets.reshape([count, 1]))
        .reshape([count])
        .neg()
}

/// Targets of `batch` that count in the loss: `<unk>` targets are masked out, since the model is
/// never taught to predict "something it has no word for".
fn known_targets(batch: &Batch) -> usize {
    batch.targets.iter().filter(|&&t| is_known(t)).count()
}

fn is_known(target: i64) -> bool {
    target != i64::from(UNKNOWN_ID)
}

/// Summed loss of one batch over its known targets, divided by `per` (the whole step's known
/// targets: a scalar tensor, still attached to the graph), and the recurrent state after it.
fn batch_loss(
    model: &MusicModel,
    batch: Batch,
    (kind, state, per): (Targets, Option<State>, usize),
    device: &Device,
) -> (Tensor<1>, State) {
    let mask: Vec<f32> = batch
        .targets
        .iter()
        .map(|&t| f32::from(u8::from(is_known(t))))
        .collect();
    let mask = Tensor::<1>::from_data(TensorData::new(mask, [batch.targets.len()]), device);
    let (logits, targets, state) = batch_logits(model, batch, (kind, state), device);
    let loss = (target_nll(logits, targets) * mask)
        .sum()
        .div_scalar(per.max(1) as f64);
    (loss, state)
}

/// What one training step produced.
pub struct Step {
    pub model: MusicModel,
    /// The batch's mean loss and its (known) target count.
    pub loss: f64,
    pub targets: usize,
    /// The state after the batch, cut from the graph, for a stateful run's next batch.
    pub state: State,
}

/// One optimizer step on one batch, starting from `state` (stateful runs) or zero.
///
/// With several devices (`train --devices N`) the batch is cut into one shard of windows per
/// device: each shard's forward and backward pass run on its own thread and device, and burn's
/// `step_multi` sums the shards' gradients (data parallelism). Every shard's loss is divided by
/// the whole batch's target count, so the sum is the one-device gradient. The forward passes
/// start in shard order, so dropout draws from the device's seeded stream in a fixed order and
/// a seed still names the run; the backward passes overlap.
pub fn train_step(
    model: MusicModel,
    optimizer: &mut ModuleOptimizer,
    (pieces, windows, state): (&Pieces, &[Window], Option<State>),
    (recipe, transposer, lr): (&Recipe, Option<&Transposer>, f64),
    devices: &[Device],
) -> Step {
    let kind = recipe.targets;
    let shard_len = windows.len().div_ceil(devices.len().max(1)).max(1);
    let batches: Vec<Batch> = windows
        .chunks(shard_len)
        .map(|shard| make_batch(pieces, shard, recipe.seq_len, kind, transposer))
        .collect();
    let targets: usize = batches.iter().map(known_targets).sum();
    if batches.len() == 1 {
        let batch = batches.into_iter().next().expect("one shard");
        let (loss, state) = batch_loss(&model, batch, (kind, state, targets), &devices[0]);
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        return Step {
            model: optimizer.step(lr, model, grads),
            loss: value,
            targets,
            state: state.detach(),
        };
    }
    let mut starts = Vec::with_capacity(batches.len());
    let mut start = 0;
    for batch in &batches {
        starts.push(start);
        start += batch.size;
    }
    let turn = (Mutex::new(0usize), Condvar::new());
    let shards: Vec<(f64, GradientsParams, State, Device)> = std::thread::scope(|scope| {
        let handles: Vec<_> = batches
            .into_iter()
            .zip(starts)
            .zip(devices)
            .enumerate()
            .map(|(index, ((batch, start), device))| {
                let model = model.clone().fork(device);
                let state = state
                    .as_ref()
                    .map(|s| s.rows(start, batch.size).to_device(device));
                let turn = &turn;
                scope.spawn(move || {
                    let (loss, state) = {
                        let (next, started) = turn;
                        let mut next = started
                            .wait_while(next.lock().expect("shard order"), |n| *n != index)
                            .expect("shard order");
                        let forward = batch_loss(&model, batch, (kind, state, targets), device);
                        *next += 1;
                        started.notify_all();
                        forward
                    };
                    let value = loss.clone().into_scalar::<f64>();
                    let grads = GradientsParams::from_grads(loss.backward(), &model);
                    (value, grads, state.detach(), device.clone())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a training shard panicked"))
            .collect()
    });
    let loss = shards.iter().map(|(value, ..)| value).sum();
    let mut states = Vec::with_capacity(shards.len());
    let mut grads = MultiGradientsParams::default();
    for (_, shard_grads, state, device) in shards {
        states.push(state);
        grads.grads.push((shard_grads, device));
    }
    Step {
        model: optimizer.step_multi(lr, model, grads),
        loss,
        targets,
        state: State::cat_rows(states, &devices[0]),
    }
}

/// (target id, negative log-likelihood in nats) for every position of non-overlapping windows
/// of `pieces`: the one measure behind the held-out loss, whatever the preset, and behind
/// `eval`'s losses per token kind.
pub fn held_out_nll(
    model: &MusicModel,
    pieces: &Pieces,
    seq_len: usize,
    batch: usize,
    device: &Device,
) -> Vec<(u32, f32)> {
    let all = windows(&pieces.ids, seq_len, seq_len, 0);
    let mut out = Vec::new();
    for chunk in all.chunks(batch.max(1)) {
        score_windows(model, pieces, chunk, (seq_len, None), device, &mut out);
    }
    out
}

/// Appends (target id, nll) for every position of `windows`, run from `state` (or zero);
/// returns the state after them.
fn score_windows(
    model: &MusicModel,
    pieces: &Pieces,
    windows: &[Window],
    (seq_len, state): (usize, Option<State>),
    device: &Device,
    out: &mut Vec<(u32, f32)>,
) -> State {
    let batch = make_batch(pieces, windows, seq_len, Targets::EveryPosition, None);
    let ids: Vec<u32> = batch.targets.iter().map(|&t| t as u32).collect();
    let (logits, targets, state) =
        batch_logits(model, batch, (Targets::EveryPosition, state), device);
    let nll = target_nll(logits, targets)
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap_or_default();
    out.extend(ids.into_iter().zip(nll));
    state
}

/// Over the held-out windows (fresh state: the targets, batches and order of
/// [`held_out_nll`] at batch 32), each target id with the network's log-probabilities for it.
/// `-row[target]` is exactly the nll [`held_out_nll`] gives.
pub fn visit_held_out(
    model: &MusicModel,
    pieces: &Pieces,
    seq_len: usize,
    device: &Device,
    mut visit: impl FnMut(u32, &[f32]),
) {
    for chunk in windows(&pieces.ids, seq_len, seq_len, 0).chunks(32) {
        let batch = make_batch(pieces, chunk, seq_len, Targets::EveryPosition, None);
        let targets: Vec<u32> = batch.targets.iter().map(|&t| t as u32).collect();
        let (logits, _, _) = batch_logits(model, batch, (Targets::EveryPosition, None), device);
        let [_, width] = logits.dims();
        let log_probabilities = log_softmax(logits, 1)
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for (row, &target) in log_probabilities.chunks(width).zip(&targets) {
            visit(target, row);
        }
    }
}

/// As [`held_out_nll`] (the same windows, the same targets), but each piece's windows are fed in
/// order and the recurrent state is carried from one window into the next, as generation carries
/// it through a piece. Only the first window of a piece starts from zero: this is the measure
/// for networks trained with `--stateful`, and what any network meets when it generates.
pub fn held_out_nll_carried(
    model: &MusicModel,
    pieces: &Pieces,
    seq_len: usize,
    device: &Device,
) -> Vec<(u32, f32)> {
    let mut by_piece: Vec<Vec<Window>> = vec![Vec::new(); pieces.ids.len()];
    for window in windows(&pieces.ids, seq_len, seq_len, 0) {
        by_piece[window.piece].push(window);
    }
    // Longest first, so the pieces still playing at any window index are the first rows.
    by_piece.retain(|w| !w.is_empty());
    by_piece.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut state: Option<State> = None;
    let mut out = Vec::new();
    for index in 0..by_piece.first().map_or(0, Vec::len) {
        let rows: Vec<Window> = by_piece
            .iter()
            .take_while(|w| w.len() > index)
            .map(|w| w[index])
            .collect();
        let carried = state.map(|s| s.rows(0, rows.len()));
        state = Some(score_windows(
            model,
            pieces,
            &rows,
            (seq_len, carried),
            device,
            &mut out,
        ));
    }
    out
}

/// Mean per-token negative log-likelihood (nats) of the known (non-`<unk>`) targets of the
/// held-out pieces. NaN when no piece is long enough.
pub fn validation_loss(
    model: &MusicModel,
    pieces: &Pieces,
    seq_len: usize,
    batch: usize,
    device: &Device,
) -> f64 {
    let (sum, count) = held_out_nll(model, pieces, seq_len, batch, device)
        .into_iter()
        .filter(|(target, _)| *target != UNKNOWN_ID)
        .fold((0.0, 0usize), |(s, c), (_, nll)| {
            (s + f64::from(nll), c + 1)
        });
    if count == 0 {
        f64::NAN
    } else {
        sum / count as f64
    }
}

/// Where the schedule stands after `history`: the learning-rate factor (one decay per epoch
/// that did not beat the best held-out loss before it) and the epochs since the best. Derived
/// from the saved metrics alone, so a resumed run continues the same schedule.
pub fn schedule(history: &[EpochMetrics], lr_decay: f64) -> (f64, usize) {
    let mut best = f64::INFINITY;
    let (mut factor, mut since_best) = (1.0, 0);
    for m in history {
        if m.validation_loss.is_nan() || m.validation_loss < best {
            best = best.min(m.validation_loss);
            since_best = 0;
        } else {
            factor *= lr_decay;
            since_best += 1;
        }
    }
    (factor, since_best)
}

/// Recipe flags given with --resume must agree with the saved recipe: a silently ignored flag
/// would train something other than what the user asked for.
fn check_resume(saved: &Recipe, args: &TrainArgs) -> Result<()> {
    let text = |value: &dyn std::fmt::Debug| format!("{value:?}").to_lowercase();
    let mut pairs = shape_flags(args, &saved.model, &saved.tokenizer);
    pairs.extend([
        (
            "--preset",
            args.preset.map(|v| text(&v)),
            text(&saved.preset),
        ),
        (
            "--no-pedal",
            args.no_pedal.then(|| "given".to_string()),
            if saved.sustain_pedal {
                "not given"
            } else {
                "given"
            }
            .into(),
        ),
        (
            "--transpose",
            args.transpose.map(|v| text(&v)),
            text(&saved.transpose),
        ),
        (
            "--dropout",
            args.dropout.map(|v| v.to_string()),
            saved.model.dropout.to_string(),
        ),
        (
            "--batch",
            args.batch.map(|v| v.to_string()),
            saved.batch.to_string(),
        ),
        (
            "--seq-len",
            args.seq_len.map(|v| v.to_string()),
            saved.seq_len.to_string(),
        ),
        (
            "--stride",
            args.stride.map(|v| v.to_string()),
            saved.stride.to_string(),
        ),
        (
            "--optimizer",
            args.optimizer.map(|v| text(&v)),
            text(&saved.optimizer),
        ),
        ("--lr", args.lr.map(|v| v.to_string()), saved.lr.to_string()),
        (
            "--lr-decay",
            args.lr_decay.map(|v| v.to_string()),
            saved.lr_decay.to_string(),
        ),
        (
            "--seed",
            args.seed.map(|v| v.to_string()),
            saved.seed.to_string(),
        ),
        (
            "--stateful",
            args.stateful.then(|| "given".to_string()),
            if saved.stateful { "given" } else { "not given" }.into(),
        ),
        (
            "--min-count",
            args.min_count.map(|v| v.to_string()),
            saved.min_count.to_string(),
        ),
        (
            "--validation-fraction",
            args.validation_fraction.map(|v| v.to_string()),
            saved.validation_fraction.to_string(),
        ),
        (
            "--split",
            args.split.map(|v| text(&motif::data::Split::from(v))),
            text(&saved.split),
        ),
        (
            "--init",
            args.init.as_ref().map(|_| "given".to_string()),
            if saved.init.is_some() {
                "given"
            } else {
                "not given"
            }
            .into(),
        ),
        (
            "--max-batches",
            args.max_batches.map(|v| v.to_string()),
            saved
                .max_batches
                .map_or_else(|| "none".to_string(), |v| v.to_string()),
        ),
    ]);
    let changed = disagreements(pairs, "the run");
    if !changed.is_empty() {
        bail!(
            "--resume continues the saved recipe, which these flags would change: {}; start a new run (another --out) to train differently",
            changed.join(", ")
        );
    }
    Ok(())
}

pub fn run(args: &TrainArgs) -> Result<ExitCode> {
    if args.meter == Some(true)
        && (args.tokenizer == Some(TokenizerKind::Seed)
            || (args.tokenizer.is_none() && args.preset == Some(Preset::Seed)))
    {
        bail!(
            "--meter on needs timed tokens: seed tokens place every onset 0.5 beat apart and carry no time to count"
        );
    }
    let dir = RunDir::new(
        args.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("runs").join(&args.style)),
    );
    let (mut recipe, saved, mut progress) = if args.resume {
        let run = dir
            .load_run()
            .with_context(|| format!("--resume: no run to continue in {}", dir.root.display()))?;
        check_resume(&run.recipe, args)?;
        let progress = dir.load_progress()?.unwrap_or_default();
        let mut recipe = run.recipe.clone();
        recipe.epochs = args.epochs.unwrap_or(recipe.epochs);
        if let Some(patience) = args.patience {
            recipe.patience = Some(patience).filter(|p| *p > 0);
        }
        // The folder may have moved; its contents are checked below.
        recipe.data = args.data.clone();
        (recipe, Some(run), progress)
    } else {
        (Recipe::from_args(args), None, Progress::default())
    };
    let pretrained = match (&args.init, args.resume) {
        (Some(path), false) => Some(Pretrained::load(path)?),
        _ => None,
    };
    if let Some(pretrained) = &pretrained {
        pretrained.check_flags(args)?;
        recipe.tokenizer = pretrained.tokenizer.clone();
        recipe.model = ModelConfig {
            dropout: recipe.model.dropout,
            meter_steps_per_beat: if pretrained.adds_meter(args) {
                recipe.model.meter_steps_per_beat
            } else {
                pretrained.model.meter_steps_per_beat
            },
            ..pretrained.model.clone()
        };
        recipe.init = Some(pretrained.source.clone());
    }
    dir.create(args.resume)?;
    let backend = backend::select(args.backend)?;
    eprintln!("backend: {}", backend.description);

    let known_vocabulary = saved
        .as_ref()
        .map(|run| run.vocabulary.clone())
        .or_else(|| pretrained.as_ref().map(|p| p.vocabulary.clone()));
    let data = dataset::prepare(&recipe, known_vocabulary)?;
    if let Some(pretrained) = &pretrained {
        pretrained.check_coverage(&Vocabulary::from_counts(
            data.train_token_counts(),
            recipe.min_count,
            0..=0,
        ))?;
        eprintln!("starting from {}", pretrained.source);
    }
    if let Some(expected) = saved.as_ref().and_then(|run| run.data_fingerprint.as_ref())
        && *expected != data.fingerprint
    {
        bail!(
            "--resume: {} does not hold the files this run trained on (their fingerprint differs: files added, removed or changed); resume with the original folder, or start a new run",
            recipe.data.display()
        );
    }
    recipe.model.vocab_size = data.vocab.len();
    if windows(&data.train.ids, recipe.seq_len, recipe.stride, 0).is_empty() {
        let longest = data.train.ids.iter().map(Vec::len).max().unwrap_or(0);
        bail!(
            "too few tokens for one training window of {} (the longest training piece has {longest}); lower --seq-len or add files",
            recipe.seq_len
        );
    }
    let run_file = RunFile {
        recipe: recipe.clone(),
        vocabulary: data.vocab.clone(),
        files: data.files,
        rejected_files: data.rejected,
        train_files: data.train.len(),
        validation_files: data.validation.len(),
        train_tokens: data.train.tokens(),
        validation_tokens: data.validation.tokens(),
        device: backend.training_description(args.devices),
        data_fingerprint: Some(data.fingerprint.clone()),
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

    let devices = backend.training_devices(args.devices.into())?;
    let train_device = devices[0].clone();
    train_device.seed(recipe.seed);
    let mut model = match &pretrained {
        Some(pretrained) => pretrained.model(&recipe.model, &train_device)?,
        None => recipe.model.init(&train_device),
    };
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

    let transposer = transposer(&recipe, &data.vocab);
    for epoch in progress.epochs_done + 1..=recipe.epochs {
        let (lr_factor, since_best) = schedule(&progress.history, recipe.lr_decay);
        if let Some(patience) = recipe.patience
            && since_best >= patience
        {
            eprintln!(
                "stopped early: no better held-out loss for {since_best} epochs (--patience {patience}); the best is epoch {}",
                epoch - 1 - since_best
            );
            break;
        }
        let lr = recipe.lr * lr_factor;
        if lr_factor < 1.0 {
            eprintln!("epoch {epoch}: learning rate {lr:.2e}");
        }
        let plan = epoch_batches(&data.train.ids, &recipe, transposer.as_ref(), epoch);
        let batches = &plan.batches;
        // A stateful run resumed mid-epoch restarts its carried state at zero.
        let mut carried: Option<State> = None;
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
            for device in &devices {
                device.seed(mix(&[recipe.seed, epoch as u64, index as u64]));
            }
            let state = match (&plan.continues, carried.take()) {
                (Some(continues), Some(state)) => Some(state.keep_rows(&continues[index])),
                _ => None,
            };
            let step = train_step(
                model,
                &mut optimizer,
                (&data.train, windows, state),
                (&recipe, transposer.as_ref(), lr),
                &devices,
            );
            model = step.model;
            carried = plan.continues.is_some().then_some(step.state);
            let (value, targets) = (step.loss, step.targets);
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
        if let Some(target) = args.to_loss
            && let Some((reached, seconds)) = progress.reached(target)
        {
            eprintln!(
                "reached held-out loss {:.4} ≤ {target} at epoch {} after {seconds:.1} s of training",
                reached.validation_loss, reached.epoch
            );
            break;
        }
        if interrupted.load(Ordering::SeqCst) {
            eprintln!(
                "interrupted: saved {}; continue with --resume --out {}",
                epoch_name(epoch),
                dir.root.display()
            );
            return Ok(ExitCode::from(130));
        }
    }
    eprintln!(
        "done: {} epochs in {}",
        progress.epochs_done,
        dir.root.display()
    );
    if let Some(target) = args.to_loss
        && progress.reached(target).is_none()
    {
        eprintln!(
            "held-out loss {target} not reached in {} epochs ({:.1} s of training)",
            progress.epochs_done,
            progress.history.iter().map(|m| m.seconds).sum::<f64>()
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_decays_after_each_epoch_without_a_new_best() {
        let history: Vec<EpochMetrics> = [3.0, 2.5, 2.6, 2.4, 2.45, 2.5]
            .iter()
            .enumerate()
            .map(|(i, &loss)| EpochMetrics {
                epoch: i + 1,
                validation_loss: loss,
                ..EpochMetrics::default()
            })
            .collect();
        assert_eq!(schedule(&history[..2], 0.5), (1.0, 0));
        assert_eq!(schedule(&history[..3], 0.5), (0.5, 1));
        assert_eq!(schedule(&history, 0.5), (0.125, 2));
        assert_eq!(schedule(&history, 1.0), (1.0, 2));
        // No held-out files (NaN): never decays, never stops.
        let blind = vec![
            EpochMetrics {
                validation_loss: f64::NAN,
                ..EpochMetrics::default()
            };
            4
        ];
        assert_eq!(schedule(&blind, 0.5), (1.0, 0));
    }

    #[test]
    fn carried_state_changes_only_the_windows_after_a_piece_starts() {
        let device = Device::flex();
        device.seed(2);
        let model = ModelConfig::new(20)
            .with_cell(motif::model::CellKind::Lstm)
            .with_layers(1)
            .with_hidden(8)
            .with_embedding(4)
            .with_dense(8)
            .init(&device);
        let seq_len = 6;
        let piece = |len: usize, step: u32| (0..len as u32).map(|i| 1 + (i * step) % 19).collect();
        // Three windows of one piece, one of another.
        let pieces = Pieces {
            ids: vec![piece(3 * seq_len + 1, 7), piece(seq_len + 1, 5)],
            meter: Vec::new(),
        };
        let fresh = held_out_nll(&model, &pieces, seq_len, 8, &device);
        let carried = held_out_nll_carried(&model, &pieces, seq_len, &device);
        assert_eq!(fresh.len(), 4 * seq_len);
        assert_eq!(carried.len(), fresh.len());
        let close = |a: &[(u32, f32)], b: &[(u32, f32)]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-5)
        };
        // Carried order: both first windows (from zero, as fresh), then the long piece's rest.
        assert!(close(&carried[..seq_len], &fresh[..seq_len]));
        assert!(close(&carried[seq_len..2 * seq_len], &fresh[3 * seq_len..]));
        let (rest_carried, rest_fresh) = (&carried[2 * seq_len..], &fresh[seq_len..3 * seq_len]);
        assert!(rest_carried.iter().zip(rest_fresh).all(|(x, y)| x.0 == y.0));
        assert!(
            !close(rest_carried, rest_fresh),
            "the carried state changes them"
        );
    }
}
