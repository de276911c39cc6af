//! `trainer-cli export`: a checkpoint → a bundle the page and `generate` load, and the index
//! of bundles beside it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use motif::Tokenizer;
use motif::bundle::{
    INDEX_FILE, Index, IndexEntry, MANIFEST_FILE, Manifest, Prime, SCHEMA_VERSION, Snapshot,
    StyleInfo, TrainingFacts, WEIGHTS_FILE, WeightsInfo, load_weights, sha256_hex,
};
use motif::stats::PieceStats;

use crate::average::average;
use crate::checkpoint::{MODEL_FILE, RunDir, epoch_name, read_bytes};
use crate::cli::ExportArgs;
use crate::dataset::{self, Prepared};
use crate::fsutil::{read_json, write_atomic, write_json};
use crate::train::validation_loss;

/// Primes shipped per bundle, and their length in tokens.
const PRIMES: usize = 8;
const PRIME_TOKENS: usize = 48;

pub fn run(args: &ExportArgs) -> Result<()> {
    let (run_dir, chosen_epoch) = match (&args.checkpoint, &args.run) {
        (Some(checkpoint), _) => {
            let name = checkpoint
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let epoch = name
                .strip_prefix("epoch-")
                .and_then(|n| n.parse::<usize>().ok())
                .with_context(|| {
                    format!(
                        "{} is not an epoch checkpoint (RUN/checkpoints/epoch-NNNN)",
                        checkpoint.display()
                    )
                })?;
            let run = checkpoint
                .parent()
                .and_then(Path::parent)
                .context("checkpoint folder has no run above it")?;
            (run.to_path_buf(), Some(epoch))
        }
        (None, Some(run)) => (run.clone(), args.epoch),
        (None, None) => bail!("give --run (with --epoch) or --checkpoint"),
    };
    let dir = RunDir::new(run_dir);
    let run = dir
        .load_run()
        .with_context(|| format!("{} is not a training run", dir.root.display()))?;
    let progress = dir
        .load_progress()?
        .context("the run has no checkpoint yet")?;
    let history = &progress.history;
    let epoch = match chosen_epoch {
        Some(epoch) => epoch,
        None => progress
            .best_epoch()
            .map(|m| m.epoch)
            .context("the run has no finished epoch yet")?,
    };
    let metrics = history.iter().find(|m| m.epoch == epoch).with_context(|| {
        format!(
            "epoch {epoch} was not trained (the run has {} epochs)",
            history.len()
        )
    })?;
    let averaged = usize::from(args.average);
    if averaged > epoch {
        bail!("--average {averaged} needs {averaged} epochs up to epoch {epoch}");
    }
    let device = Device::flex();
    let models = (epoch + 1 - averaged..=epoch)
        .map(|e| {
            let checkpoint = dir.checkpoint(&epoch_name(e)).join(MODEL_FILE);
            if !checkpoint.exists() {
                bail!("checkpoint {} is missing", checkpoint.display());
            }
            load_weights(&run.recipe.model, read_bytes(&checkpoint)?, &device)
                .with_context(|| format!("checkpoint {} is damaged", checkpoint.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let network = average(models);

    // A snapshot joins the bundle its run made: same vocabulary, style and sampling.
    let parent = match &args.snapshot_of {
        Some(bundle) => {
            let manifest: Manifest = read_json(&bundle.join(MANIFEST_FILE))
                .with_context(|| format!("{} is not a bundle", bundle.display()))?;
            if manifest.vocabulary != run.vocabulary {
                bail!(
                    "{} was not made by the run in {}: their vocabularies differ",
                    bundle.display(),
                    dir.root.display()
                );
            }
            Some((bundle, manifest))
        }
        None => None,
    };

    let recipe = &run.recipe;
    let data = dataset::prepare(recipe, Some(run.vocabulary.clone()))?;
    let primes = pick_primes(&data, &recipe.tokenizer);
    // An averaged network was never scored by training: score it on the same held-out pieces.
    let validation_loss = if averaged > 1 {
        validation_loss(
            &network,
            &data.validation,
            recipe.seq_len,
            recipe.batch,
            &device,
        )
    } else {
        metrics.validation_loss
    };
    let weights = args.dtype.encode(network)?;

    let style = args.style.clone().unwrap_or_else(|| recipe.style.clone());
    let out = match (&parent, &args.out) {
        (Some((bundle, _)), _) => bundle.join(snapshot_folder(epoch)),
        (None, Some(out)) => out.clone(),
        (None, None) => bail!("give --out (or --snapshot-of)"),
    };
    let out = &out;
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create {} (is it writable?)", out.display()))?;
    if parent.is_none() {
        remove_old_snapshots(out)?;
    }
    let loss_plot = dir.root.join("loss.svg");
    let loss_plot = if parent.is_none() && loss_plot.exists() {
        write_atomic(&out.join("loss.svg"), &std::fs::read(&loss_plot)?)?;
        Some("loss.svg".to_string())
    } else {
        None
    };
    let mut manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        style: StyleInfo {
            id: style.clone(),
            display_name: args
                .display_name
                .clone()
                .unwrap_or_else(|| title_case(&style)),
            description: args.description.clone().unwrap_or_default(),
        },
        tokenizer: recipe.tokenizer.clone(),
        vocabulary: run.vocabulary.clone(),
        model: recipe.model.clone(),
        weights: WeightsInfo {
            file: WEIGHTS_FILE.into(),
            dtype: args.dtype.name().to_string(),
            bytes: weights.len() as u64,
            sha256: sha256_hex(&weights),
            parameters: recipe.model.parameter_count(),
        },
        training: TrainingFacts {
            corpus: recipe
                .data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            preset: format!("{:?}", recipe.preset).to_lowercase(),
            files: run.files,
            train_files: run.train_files,
            validation_files: run.validation_files,
            rejected_files: run.rejected_files,
            train_tokens: run.train_tokens,
            validation_tokens: run.validation_tokens,
            epochs: epoch,
            seq_len: recipe.seq_len,
            batch: recipe.batch,
            seed: recipe.seed,
            train_loss: metrics.train_loss,
            validation_loss,
            averaged_epochs: averaged,
            tokens_per_second: metrics.tokens_per_second,
            seconds: history
                .iter()
                .take_while(|m| m.epoch <= epoch)
                .map(|m| m.seconds)
                .sum(),
            device: run.device.clone(),
            validation_pieces: data.validation_names.clone(),
            sustain_pedal: recipe.sustain_pedal,
            transpose: recipe.transpose,
            date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        },
        loss_plot,
        primes,
        sampling: None,
        snapshots: Vec::new(),
    };
    if let Some((_, parent)) = &parent {
        manifest.style = parent.style.clone();
        manifest.sampling = parent.sampling.clone();
    }
    write_atomic(&out.join(WEIGHTS_FILE), &weights)?;
    write_json(&out.join(MANIFEST_FILE), &manifest)?;
    match parent {
        Some((bundle, mut parent)) => {
            parent.snapshots.retain(|s| s.epoch != epoch);
            parent.snapshots.push(Snapshot {
                epoch,
                path: format!("{}/", snapshot_folder(epoch)),
                validation_loss,
                dtype: args.dtype.name().to_string(),
                bytes: weights.len() as u64,
            });
            parent.snapshots.sort_by_key(|s| s.epoch);
            write_json(&bundle.join(MANIFEST_FILE), &parent)?;
        }
        None => update_index(out, &manifest)?,
    }
    eprintln!(
        "exported {} epoch {epoch} (validation loss {:.4}) to {}: {} bytes of {} weights",
        style,
        validation_loss,
        out.display(),
        weights.len(),
        args.dtype.name()
    );
    Ok(())
}

fn snapshot_folder(epoch: usize) -> String {
    format!("epoch-{epoch}")
}

/// A new bundle starts with no snapshots (they are exported after it, with --snapshot-of), so
/// snapshot folders an earlier export left in `out` belong to another run: they go, rather than
/// ship unlisted beside the new model.
fn remove_old_snapshots(out: &Path) -> Result<()> {
    for entry in std::fs::read_dir(out)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let snapshot = name
            .strip_prefix("epoch-")
            .is_some_and(|n| n.parse::<usize>().is_ok());
        if snapshot && path.join(MANIFEST_FILE).is_file() {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
            eprintln!(
                "removed {}: a snapshot of an earlier export",
                path.display()
            );
        }
    }
    Ok(())
}

fn title_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Openings of a few training pieces that span the corpus's range of pace: one from each of
/// `PRIMES` slices of the eligible pieces sorted by mean note length, so that the openings' mean
/// pace is near the corpus's (see [`spread_of`]). A network keeps the pace of the opening it
/// continues: 8 openings drawn at random made Beethoven hurried (their pieces average 0.50
/// beats a note where the corpus's average 0.61, and the generated notes were 0.49).
fn pick_primes(data: &Prepared, tokenizer: &Tokenizer) -> Vec<Prime> {
    let eligible: Vec<usize> = (0..data.train.len())
        .filter(|&i| data.train_token_len(i) >= PRIME_TOKENS)
        .collect();
    let paces: Vec<f64> = eligible
        .iter()
        .map(|&i| {
            let notes = tokenizer.decode(&data.train_tokens(i, usize::MAX));
            PieceStats::of(&notes).mean_duration
        })
        .collect();
    spread_of(&paces, PRIMES)
        .into_iter()
        .map(|k| eligible[k])
        .map(|i| Prime {
            source: data.train_names[i].clone(),
            tokens: data.train_tokens(i, PRIME_TOKENS),
            time_signature: data.train_clock(i).signature(),
            start_step: data.train_clock(i).time(),
        })
        .collect()
}

/// `count` indices into `values`, one per equal slice of them in sorted order, each chosen so
/// the mean of those chosen so far stays nearest the mean of their slices: they span the range,
/// and their mean is the mean of all (a skewed tail, Beethoven's few slow pieces, included).
fn spread_of(values: &[f64], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let slices = count.min(order.len());
    let (mut target, mut chosen) = (0.0, 0.0);
    (0..slices)
        .filter_map(|k| {
            let slice = &order[k * order.len() / slices..(k + 1) * order.len() / slices];
            target += slice.iter().map(|&i| values[i]).sum::<f64>() / slice.len() as f64;
            let pick = slice.iter().copied().min_by(|&a, &b| {
                let miss = |i: usize| (chosen + values[i] - target).abs();
                miss(a).total_cmp(&miss(b))
            })?;
            chosen += values[pick];
            Some(pick)
        })
        .collect()
}

/// Adds or replaces this bundle in the `index.json` of the folder above it.
fn update_index(bundle: &Path, manifest: &Manifest) -> Result<()> {
    let bundle = bundle.canonicalize()?;
    let parent: PathBuf = bundle
        .parent()
        .context("bundle folder has no parent")?
        .to_path_buf();
    let index_path = parent.join(INDEX_FILE);
    let mut index: Index = if index_path.exists() {
        read_json(&index_path)?
    } else {
        Index::default()
    };
    index.schema_version = SCHEMA_VERSION;
    let folder = bundle
        .file_name()
        .context("bundle folder has no name")?
        .to_string_lossy()
        .into_owned();
    index.styles.retain(|s| s.id != manifest.style.id);
    index.styles.push(IndexEntry {
        id: manifest.style.id.clone(),
        display_name: manifest.style.display_name.clone(),
        description: manifest.style.description.clone(),
        path: format!("{folder}/"),
        cell: manifest.model.cell.to_string(),
        parameters: manifest.weights.parameters,
        bytes: manifest.weights.bytes,
    });
    index.styles.sort_by(|a, b| a.id.cmp(&b.id));
    write_json(&index_path, &index)
}

#[cfg(test)]
mod tests {
    use super::spread_of;

    #[test]
    fn openings_span_the_range_and_keep_the_mean() {
        // A skewed corpus: many quick pieces, a few slow ones (Beethoven's shape).
        let paces = [
            0.30, 0.33, 0.36, 0.37, 0.37, 0.41, 0.43, 0.45, 0.46, 0.48, 0.49, 0.49, 0.51, 0.54,
            0.57, 0.60, 0.77, 0.86, 0.95, 1.35, 1.38,
        ];
        let picked = spread_of(&paces, 7);
        assert_eq!(picked.len(), 7);
        let chosen: Vec<f64> = picked.iter().map(|&i| paces[i]).collect();
        assert!(chosen.windows(2).all(|w| w[0] <= w[1]), "{chosen:?}");
        assert!(
            chosen[0] < 0.4 && chosen[6] > 1.0,
            "the slowest and quickest are heard: {chosen:?}"
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&chosen) - mean(&paces)).abs() < 0.03, "{chosen:?}");
        assert_eq!(
            spread_of(&paces[..3], 8).len(),
            3,
            "never more than there are"
        );
    }
}
