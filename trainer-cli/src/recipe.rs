//! Presets and the fully resolved settings of a run, saved beside its checkpoints.

use std::path::PathBuf;

use clap::ValueEnum;
use motif::data::{Split, Targets};
use motif::midi::ReadOptions;
use motif::model::{CellKind, ModelConfig};
use motif::{Tokenizer, TokenizerKind};
use serde::{Deserialize, Serialize};

use crate::cli::TrainArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The report's recipe: `seed` tokens, 3 LSTM layers of 512, dropout 0.3, dense 256,
    /// RMSprop (Keras defaults), windows of 100 every token apart, batch 64, one target per
    /// window (the token after it).
    Seed,
    /// Ours: `timed` tokens, a loss on every position of each window, held-out validation,
    /// Adam with gradient clipping, and a network sized for a ≤ 4 MB bundle.
    Default,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Adam,
    Rmsprop,
}

/// Every optimizer constant, written out so run.json says exactly how a run trained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerSettings {
    Adam {
        beta_1: f32,
        beta_2: f32,
        epsilon: f32,
    },
    /// Keras's RMSprop: rho 0.9, no momentum, epsilon 1e-7.
    Rmsprop {
        rho: f32,
        momentum: f32,
        epsilon: f32,
    },
}

impl OptimizerSettings {
    pub fn defaults(kind: OptimizerKind) -> Self {
        match kind {
            // burn's AdamConfig defaults.
            OptimizerKind::Adam => OptimizerSettings::Adam {
                beta_1: 0.9,
                beta_2: 0.999,
                epsilon: 1e-5,
            },
            OptimizerKind::Rmsprop => OptimizerSettings::Rmsprop {
                rho: 0.9,
                momentum: 0.0,
                epsilon: 1e-7,
            },
        }
    }
}

/// Everything that determines a run. With the same recipe and data, training is reproducible.
/// Fields added after the first runs have defaults that describe how those runs trained, so
/// their run.json still resumes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub style: String,
    pub data: PathBuf,
    pub preset: Preset,
    /// Read the sustain pedal (CC64): released keys sound until it lifts.
    #[serde(default)]
    pub sustain_pedal: bool,
    pub tokenizer: Tokenizer,
    /// `vocab_size` is filled in from the data.
    pub model: ModelConfig,
    pub epochs: usize,
    pub batch: usize,
    pub seq_len: usize,
    /// Distance between window starts (`seq_len` = no overlap, 1 = every position).
    pub stride: usize,
    pub targets: Targets,
    pub optimizer: OptimizerKind,
    /// `None` in runs from before it was written: the defaults for `optimizer`.
    #[serde(default)]
    pub optimizer_settings: Option<OptimizerSettings>,
    pub lr: f64,
    /// The learning rate is multiplied by this after every epoch whose held-out loss is no
    /// better than the best so far (1 = constant).
    #[serde(default = "constant_rate")]
    pub lr_decay: f64,
    /// Stop after this many epochs without a better held-out loss.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Training windows are transposed by a shift drawn from this range (semitones, inclusive)
    /// each epoch; [0, 0] trains on the files as written. Validation files never are.
    #[serde(default)]
    pub transpose: [i8; 2],
    /// Gradient norm clip per parameter tensor; none for the seed preset, as in Keras.
    pub grad_clip: Option<f32>,
    pub seed: u64,
    pub min_count: u64,
    pub validation_fraction: f64,
    #[serde(default)]
    pub split: Split,
    /// Where the starting weights came from (`train --init`), if not from a random start.
    #[serde(default)]
    pub init: Option<String>,
    /// Feed each piece's windows in order and carry the recurrent state from one window to the
    /// next (truncated backpropagation through time) instead of starting every window at zero.
    #[serde(default)]
    pub stateful: bool,
    /// Stop each epoch after this many batches (quick runs and benchmarks).
    pub max_batches: Option<usize>,
}

/// `(flag, value given, value already fixed)` for the flags that set the network's shape and
/// tokens: what `--resume` (against the saved recipe) and `--init` (against the pretrained
/// network) must not let a flag change.
pub fn shape_flags(
    args: &TrainArgs,
    model: &ModelConfig,
    tokenizer: &Tokenizer,
) -> Vec<(&'static str, Option<String>, String)> {
    let given = |v: Option<usize>| v.map(|v| v.to_string());
    vec![
        (
            "--tokenizer",
            args.tokenizer.map(|v| v.to_string()),
            tokenizer.kind().to_string(),
        ),
        (
            "--velocity-buckets",
            args.velocity_buckets.map(|v| v.to_string()),
            match tokenizer {
                Tokenizer::Timed(c) => c.velocity_buckets.to_string(),
                Tokenizer::Seed(_) => "none (seed tokens)".into(),
            },
        ),
        (
            "--cell",
            args.cell.map(|v| v.to_string()),
            model.cell.to_string(),
        ),
        ("--layers", given(args.layers), model.layers.to_string()),
        ("--hidden", given(args.hidden), model.hidden.to_string()),
        (
            "--embedding",
            given(args.embedding),
            model.embedding.to_string(),
        ),
        ("--dense", given(args.dense), model.dense.to_string()),
        (
            "--meter",
            args.meter.map(on_off),
            on_off(model.meter_steps_per_beat.is_some()).to_string(),
        ),
    ]
}

/// The flags of `pairs` given with a value other than the fixed one, as "FLAG GIVEN (OWNER
/// has FIXED)".
pub fn disagreements(
    pairs: Vec<(&'static str, Option<String>, String)>,
    owner: &str,
) -> Vec<String> {
    pairs
        .into_iter()
        .filter_map(|(flag, given, fixed)| {
            given
                .filter(|g| *g != fixed)
                .map(|g| format!("{flag} {g} ({owner} has {fixed})"))
        })
        .collect()
}

fn on_off(value: bool) -> String {
    if value { "on" } else { "off" }.to_string()
}

fn constant_rate() -> f64 {
    1.0
}

/// `-5..6`, `0` or `none` → an inclusive range of semitones that holds 0.
pub fn parse_transpose(text: &str) -> Result<[i8; 2], String> {
    let bad = || {
        format!(
            "'{text}' is not a transposition range (expected MIN..MAX in semitones, e.g. -5..6, or none)"
        )
    };
    if text == "none" || text == "0" {
        return Ok([0, 0]);
    }
    let (low, high) = text.split_once("..").ok_or_else(bad)?;
    let low: i8 = low.trim().parse().map_err(|_| bad())?;
    let high: i8 = high.trim().parse().map_err(|_| bad())?;
    if low > 0 || high < 0 || low < -24 || high > 24 {
        return Err(format!(
            "--transpose {text}: the range must hold 0 and stay within two octaves (-24..24)"
        ));
    }
    Ok([low, high])
}

impl Recipe {
    pub fn optimizer_settings(&self) -> OptimizerSettings {
        self.optimizer_settings
            .clone()
            .unwrap_or_else(|| OptimizerSettings::defaults(self.optimizer))
    }

    pub fn transpose_range(&self) -> std::ops::RangeInclusive<i8> {
        self.transpose[0]..=self.transpose[1]
    }

    /// The read options training used, so eval and priming read files the same way.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            sustain_pedal: self.sustain_pedal,
            ..ReadOptions::default()
        }
    }

    pub fn from_args(args: &TrainArgs) -> Recipe {
        let preset = args.preset.unwrap_or(Preset::Default);
        let seed_preset = preset == Preset::Seed;
        let pick = |value: Option<usize>, seed: usize, default: usize| {
            value.unwrap_or(if seed_preset { seed } else { default })
        };
        let seq_len = pick(args.seq_len, 100, 100);
        let tokenizer_kind = args.tokenizer.unwrap_or(if seed_preset {
            TokenizerKind::Seed
        } else {
            TokenizerKind::Timed
        });
        let model = ModelConfig::new(0)
            .with_cell(args.cell.unwrap_or(if seed_preset {
                CellKind::Lstm
            } else {
                // Lower held-out loss than the LSTM at every epoch measured (EXPERIMENTS.md).
                CellKind::Gru
            }))
            .with_layers(pick(args.layers, 3, 2))
            .with_hidden(pick(args.hidden, 512, 256))
            .with_embedding(pick(args.embedding, 64, 64))
            .with_dense(pick(args.dense, 256, 256))
            .with_dropout(args.dropout.unwrap_or(0.3));
        let optimizer = args.optimizer.unwrap_or(if seed_preset {
            OptimizerKind::Rmsprop
        } else {
            OptimizerKind::Adam
        });
        let mut tokenizer = Tokenizer::new(tokenizer_kind);
        if let (Tokenizer::Timed(config), Some(buckets)) = (&mut tokenizer, args.velocity_buckets) {
            config.velocity_buckets = buckets;
        }
        let meter = args.meter.unwrap_or(tokenizer_kind == TokenizerKind::Timed);
        let model =
            model.with_meter_steps_per_beat(meter.then(|| usize::from(tokenizer.steps_per_beat())));
        Recipe {
            style: args.style.clone(),
            data: args.data.clone(),
            preset,
            sustain_pedal: !args.no_pedal,
            tokenizer,
            model,
            epochs: args.epochs.unwrap_or(if seed_preset { 200 } else { 30 }),
            batch: args.batch.unwrap_or(64),
            seq_len,
            stride: args.stride.unwrap_or(if seed_preset { 1 } else { seq_len }),
            targets: if seed_preset {
                Targets::LastOnly
            } else {
                Targets::EveryPosition
            },
            optimizer,
            optimizer_settings: Some(OptimizerSettings::defaults(optimizer)),
            lr: args.lr.unwrap_or(match optimizer {
                OptimizerKind::Rmsprop => 1e-3,
                OptimizerKind::Adam => 2e-3,
            }),
            lr_decay: args.lr_decay.unwrap_or(if seed_preset { 1.0 } else { 0.5 }),
            patience: args
                .patience
                .map(|p| Some(p).filter(|p| *p > 0))
                .unwrap_or(if seed_preset { None } else { Some(3) }),
            transpose: args
                .transpose
                .unwrap_or(if seed_preset { [0, 0] } else { [-5, 6] }),
            grad_clip: if seed_preset { None } else { Some(1.0) },
            seed: args.seed.unwrap_or(1),
            min_count: args.min_count.unwrap_or(if seed_preset { 1 } else { 2 }),
            validation_fraction: args.validation_fraction.unwrap_or(0.1),
            split: args.split.map_or(Split::Content, Split::from),
            init: None,
            stateful: args.stateful,
            max_batches: args.max_batches,
        }
    }
}
