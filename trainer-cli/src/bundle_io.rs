//! Reading a bundle folder from disk.

use std::path::Path;

use anyhow::{Context, Result};
use burn::prelude::Device;
use motif::bundle::{MANIFEST_FILE, Manifest};
use motif::model::MusicModel;

pub fn load(dir: &Path, device: &Device) -> Result<(Manifest, MusicModel)> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "{} is not a model bundle (no {MANIFEST_FILE}); export one with `trainer-cli export`",
            dir.display()
        )
    })?;
    let manifest =
        Manifest::from_json(&text).with_context(|| format!("{}", manifest_path.display()))?;
    let weights_path = dir.join(&manifest.weights.file);
    let weights = std::fs::read(&weights_path)
        .with_context(|| format!("cannot read {}", weights_path.display()))?;
    let model = manifest
        .load_model(weights, device)
        .with_context(|| format!("{}", weights_path.display()))?;
    Ok((manifest, model))
}
