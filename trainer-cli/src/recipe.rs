//! Presets and the fully resolved settings of a run, saved beside its checkpoints.

use std::path::PathBuf;

use clap::ValueEnum;
use motif::data::Targets;
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

/// Everything that determines a run. With the same recipe and data, training is reproducible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    pub style: String,
    pub data: PathBuf,
    pub preset: Preset,
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
    pub lr: f64,
    /// Gradient norm clip per parameter tensor; none for the seed preset, as in Keras.
    pub grad_clip: Option<f32>,
    pub seed: u64,
    pub min_count: u64,
    pub validation_fraction: f64,
    /// Stop each epoch after this many batches (quick runs and benchmarks).
    pub max_batches: Option<usize>,
}

impl Recipe {
    pub fn from_args(args: &TrainArgs) -> Recipe {
        let seed_preset = args.preset == Preset::Seed;
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
            .with_cell(args.cell.unwrap_or(CellKind::Lstm))
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
        Recipe {
            style: args.style.clone(),
            data: args.data.clone(),
            preset: args.preset,
            tokenizer: Tokenizer::new(tokenizer_kind),
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
            lr: args.lr.unwrap_or(match optimizer {
                OptimizerKind::Rmsprop => 1e-3,
                OptimizerKind::Adam => 2e-3,
            }),
            grad_clip: if seed_preset { None } else { Some(1.0) },
            seed: args.seed,
            min_count: args.min_count.unwrap_or(if seed_preset { 1 } else { 2 }),
            validation_fraction: args.validation_fraction,
            max_batches: args.max_batches,
        }
    }
}
