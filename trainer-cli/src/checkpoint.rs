//! A run folder: `run.json` (recipe + vocabulary), `progress.json` (the commit point: which
//! checkpoint is current and the metrics so far), `checkpoints/<name>/` (weights, optimizer
//! state), `metrics.csv` and `loss.svg`.
//!
//! A checkpoint folder is written under a temporary name and renamed into place, then
//! `progress.json` is replaced atomically: a run killed at any moment resumes from the last
//! complete checkpoint.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use motif::Vocabulary;
use serde::{Deserialize, Serialize};

use crate::fsutil::{read_json, write_atomic, write_json};
use crate::recipe::Recipe;

pub const MODEL_FILE: &str = "model.bpk";
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFile {
    pub recipe: Recipe,
    pub vocabulary: Vocabulary,
    pub files: usize,
    pub rejected_files: usize,
    pub train_files: usize,
    pub validation_files: usize,
    pub train_tokens: usize,
    pub validation_tokens: usize,
    pub device: String,
    /// The data folder's contents (see `dataset::Prepared::fingerprint`): --resume refuses
    /// another. Absent in runs from before it was recorded.
    #[serde(default)]
    pub data_fingerprint: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_loss: f64,
    pub validation_loss: f64,
    /// Input tokens (time steps) per second, forward + backward + update.
    pub tokens_per_second: f64,
    pub seconds: f64,
}

/// Where a run stands. `batches_done > 0` means it was interrupted inside epoch
/// `epochs_done + 1`, with `partial_*` summing that epoch so far.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    pub epochs_done: usize,
    pub batches_done: usize,
    pub partial_loss_sum: f64,
    pub partial_targets: usize,
    pub partial_tokens: usize,
    pub partial_seconds: f64,
    pub checkpoint: Option<String>,
    pub history: Vec<EpochMetrics>,
}

impl Progress {
    /// The epoch that generalizes best (lowest held-out loss), not the one that memorized the
    /// most; the last one when none has a held-out loss.
    pub fn best_epoch(&self) -> Option<&EpochMetrics> {
        self.history
            .iter()
            .filter(|m| m.validation_loss.is_finite())
            .min_by(|a, b| a.validation_loss.total_cmp(&b.validation_loss))
            .or(self.history.last())
    }

    /// Time to quality: the first epoch whose held-out loss is at most `target`, with the
    /// training seconds spent up to and including it.
    pub fn reached(&self, target: f64) -> Option<(&EpochMetrics, f64)> {
        let mut seconds = 0.0;
        self.history.iter().find_map(|m| {
            seconds += m.seconds;
            (m.validation_loss <= target).then_some((m, seconds))
        })
    }
}

pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn new(root: PathBuf) -> Self {
        RunDir { root }
    }

    pub fn run_file(&self) -> PathBuf {
        self.root.join("run.json")
    }

    fn progress_file(&self) -> PathBuf {
        self.root.join("progress.json")
    }

    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    pub fn checkpoint(&self, name: &str) -> PathBuf {
        self.checkpoints().join(name)
    }

    /// Refuses to start over an existing run unless resuming, so nothing is lost by mistake.
    pub fn create(&self, resume: bool) -> Result<()> {
        if !resume && self.progress_file().exists() {
            bail!(
                "{} already holds a run; add --resume to continue it, or pick another --out",
                self.root.display()
            );
        }
        std::fs::create_dir_all(self.checkpoints()).with_context(|| {
            format!(
                "cannot create run folder {} (is it writable?)",
                self.root.display()
            )
        })
    }

    pub fn load_run(&self) -> Result<RunFile> {
        read_json(&self.run_file())
    }

    pub fn save_run(&self, run: &RunFile) -> Result<()> {
        write_json(&self.run_file(), run)
    }

    pub fn load_progress(&self) -> Result<Option<Progress>> {
        let path = self.progress_file();
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// Writes a checkpoint folder atomically, then makes it current.
    pub fn save_checkpoint(
        &self,
        name: &str,
        model: &[u8],
        optimizer: &[u8],
        progress: &Progress,
    ) -> Result<()> {
        let staging = self.checkpoints().join(format!(".{name}.tmp"));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        std::fs::write(staging.join(MODEL_FILE), model)?;
        std::fs::write(staging.join(OPTIMIZER_FILE), optimizer)?;
        let target = self.checkpoint(name);
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        std::fs::rename(&staging, &target)
            .with_context(|| format!("cannot write checkpoint {}", target.display()))?;
        let previous = self.load_progress()?.and_then(|p| p.checkpoint);
        write_json(&self.progress_file(), progress)?;
        // Optimizer state is only needed to resume: keep it for the current checkpoint alone.
        if let Some(previous) = previous.filter(|p| p != name) {
            let _ = std::fs::remove_file(self.checkpoint(&previous).join(OPTIMIZER_FILE));
            if previous.contains("-batch-") {
                let _ = std::fs::remove_dir_all(self.checkpoint(&previous));
            }
        }
        Ok(())
    }

    pub fn write_metrics(&self, history: &[EpochMetrics]) -> Result<()> {
        let mut csv = String::from("epoch,train_loss,validation_loss,tokens_per_second,seconds\n");
        for m in history {
            csv += &format!(
                "{},{:.6},{:.6},{:.1},{:.2}\n",
                m.epoch, m.train_loss, m.validation_loss, m.tokens_per_second, m.seconds
            );
        }
        write_atomic(&self.root.join("metrics.csv"), csv.as_bytes())
    }
}

pub fn epoch_name(epoch: usize) -> String {
    format!("epoch-{epoch:04}")
}

pub fn interrupted_name(epoch: usize, batches: usize) -> String {
    format!("epoch-{epoch:04}-batch-{batches:06}")
}

pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
