//! `train --init`: starting from a pretrained network (transfer learning, the report's own
//! suggestion), either a training run (its best epoch) or an exported bundle.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use motif::bundle::{MANIFEST_FILE, Manifest, load_weights};
use motif::model::{ModelConfig, MusicModel};
use motif::{Token, Tokenizer, Vocabulary};

use crate::checkpoint::{MODEL_FILE, RunDir, epoch_name, read_bytes};
use crate::cli::TrainArgs;
use crate::recipe::{disagreements, shape_flags};

/// What a fine-tuning run inherits.
pub struct Pretrained {
    /// Says where the weights came from, for run.json.
    pub source: String,
    pub tokenizer: Tokenizer,
    pub vocabulary: Vocabulary,
    pub model: ModelConfig,
    weights: Vec<u8>,
}

impl Pretrained {
    pub fn load(path: &Path) -> Result<Pretrained> {
        if path.join(MANIFEST_FILE).is_file() {
            let manifest_path = path.join(MANIFEST_FILE);
            let text = std::fs::read_to_string(&manifest_path)
                .with_context(|| format!("cannot read {}", manifest_path.display()))?;
            let manifest = Manifest::from_json(&text)
                .with_context(|| format!("--init {}", manifest_path.display()))?;
            let weights = read_bytes(&path.join(&manifest.weights.file))?;
            let weights = manifest
                .verify_weights(&weights)
                .and_then(|()| manifest.float_weights(weights))
                .with_context(|| format!("--init {}", path.display()))?;
            return Ok(Pretrained {
                source: format!(
                    "bundle {} (sha256 {})",
                    path.display(),
                    manifest.weights.sha256
                ),
                tokenizer: manifest.tokenizer,
                vocabulary: manifest.vocabulary,
                model: manifest.model,
                weights,
            });
        }
        let dir = RunDir::new(path.to_path_buf());
        if !dir.run_file().is_file() {
            bail!(
                "--init {}: neither a training run (run.json) nor a bundle ({MANIFEST_FILE})",
                path.display()
            );
        }
        let run = dir.load_run()?;
        let progress = dir.load_progress()?.unwrap_or_default();
        let best = progress
            .best_epoch()
            .with_context(|| format!("--init {}: the run has no finished epoch", path.display()))?;
        let checkpoint = dir.checkpoint(&epoch_name(best.epoch)).join(MODEL_FILE);
        Ok(Pretrained {
            source: format!("run {} epoch {}", path.display(), best.epoch),
            tokenizer: run.recipe.tokenizer,
            vocabulary: run.vocabulary,
            model: run.recipe.model,
            weights: read_bytes(&checkpoint)?,
        })
    }

    /// The pretrained network's shape and tokens win; flags that ask for another are an error.
    pub fn check_flags(&self, args: &TrainArgs) -> Result<()> {
        let mut flags = shape_flags(args, &self.model, &self.tokenizer);
        if self.adds_meter(args) {
            // Positions can be added: their embeddings start at zero, so the network starts
            // as the pretrained one.
            flags.retain(|(flag, ..)| *flag != "--meter");
        }
        let conflicts = disagreements(flags, "it");
        if !conflicts.is_empty() {
            bail!(
                "--init keeps the pretrained network's shape and tokens, which these flags would change: {}",
                conflicts.join(", ")
            );
        }
        Ok(())
    }

    /// Every token this corpus uses often enough to be in a vocabulary of its own (`wanted`)
    /// must be in the pretrained one; the error lists what is missing.
    pub fn check_coverage(&self, wanted: &Vocabulary) -> Result<()> {
        let missing: Vec<(&Token, u64)> = wanted
            .tokens()
            .iter()
            .zip(wanted.counts().iter().copied())
            .skip(1)
            .filter(|(token, _)| self.vocabulary.id(token) == motif::vocab::UNKNOWN_ID)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = missing
            .iter()
            .take(20)
            .map(|(token, count)| format!("{token} ({count}×)"))
            .collect();
        bail!(
            "--init {}: its vocabulary lacks {} token(s) this corpus uses: {}{}; pretrain on data that includes this corpus",
            self.source,
            missing.len(),
            listed.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        )
    }

    /// Whether `--meter on` asks for positions the pretrained network was trained without.
    pub fn adds_meter(&self, args: &TrainArgs) -> bool {
        args.meter == Some(true) && self.model.meter_steps_per_beat.is_none()
    }

    /// The pretrained network as `config`: its own shape, or that shape with metric-position
    /// embeddings added (at zero, so it computes what the pretrained network computes).
    pub fn model(&self, config: &ModelConfig, device: &Device) -> Result<MusicModel> {
        let loaded =
            if config.meter_steps_per_beat.is_some() && self.model.meter_steps_per_beat.is_none() {
                ModuleRecord::from_bytes(Bytes::from_bytes_vec(self.weights.clone()))
                    .map(|record| record.cast_to_module_dtype().allow_partial(true))
                    .and_then(|record| config.init(device).try_load_record(record))
                    .map_err(|e| anyhow::anyhow!("{e}"))
            } else {
                // `config`, not the pretrained run's own: its dropout is the fine-tune's.
                load_weights(config, self.weights.clone(), device).map_err(Into::into)
            };
        loaded.with_context(|| format!("--init {}", self.source))
    }
}
