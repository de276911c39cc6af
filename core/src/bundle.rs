//! A trained style as shipped: `manifest.json` (everything needed to use the weights) and the
//! weights file. Loading verifies schema, checksum and shape, so a broken bundle is a clear
//! error, never garbage music.

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::{Device, Tensor};
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use burn::tensor::DType;
use burn::tensor::quantization::{QuantScheme, QuantValue, ScaleDtype};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::meter::TimeSignature;
use crate::midi::ReadOptions;
use crate::model::{ModelConfig, MusicModel};
use crate::sample::SamplingConfig;
use crate::tokens::{Token, Tokenizer};
use crate::vocab::Vocabulary;

/// Bumped whenever a manifest field changes meaning; older readers refuse newer bundles.
pub const SCHEMA_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const WEIGHTS_FILE: &str = "weights.bpk";
pub const INDEX_FILE: &str = "index.json";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub style: StyleInfo,
    pub tokenizer: Tokenizer,
    pub vocabulary: Vocabulary,
    pub model: ModelConfig,
    pub weights: WeightsInfo,
    pub training: TrainingFacts,
    /// Loss curve image beside the manifest, if exported.
    pub loss_plot: Option<String>,
    /// Short openings from the corpus for the page's "random start".
    pub primes: Vec<Prime>,
    /// Sampling settings chosen for this style from measured generation statistics
    /// (`trainer-cli tune`); the page and `generate` start from them.
    #[serde(default)]
    pub sampling: Option<SamplingConfig>,
    /// Earlier epochs of the same run, exported into folders beside this bundle's files, so a
    /// listener can hear the network learn. They share this bundle's vocabulary and settings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<Snapshot>,
}

/// One earlier epoch of a bundle's run, itself a complete bundle in `path`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub epoch: usize,
    /// Folder relative to the bundle's own, ending in `/`.
    pub path: String,
    pub validation_loss: f64,
    pub dtype: String,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleInfo {
    pub id: String,
    pub display_name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightsInfo {
    pub file: String,
    /// `f16`, `f32` or `int8` ([`WeightStorage`]): how the numbers are stored (they are used
    /// as f32).
    pub dtype: String,
    pub bytes: u64,
    pub sha256: String,
    pub parameters: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingFacts {
    pub corpus: String,
    pub preset: String,
    pub files: usize,
    pub train_files: usize,
    pub validation_files: usize,
    pub rejected_files: usize,
    pub train_tokens: usize,
    pub validation_tokens: usize,
    pub epochs: usize,
    pub seq_len: usize,
    pub batch: usize,
    pub seed: u64,
    pub train_loss: f64,
    /// Of the network as shipped (the averaged one where epochs were averaged).
    pub validation_loss: f64,
    /// Epochs whose weights were averaged into this network, the last being `epochs` (1: that
    /// epoch alone, as in bundles from before averaging).
    #[serde(default = "one")]
    pub averaged_epochs: usize,
    pub tokens_per_second: f64,
    pub seconds: f64,
    pub device: String,
    pub date: String,
    /// Files held out from training (paths relative to the corpus folder).
    pub validation_pieces: Vec<String>,
    /// Whether the corpus was read with the sustain pedal (absent in bundles from before it
    /// was read: they were not). `eval` reads files the same way.
    #[serde(default)]
    pub sustain_pedal: bool,
    /// Semitone range training windows were transposed over ([0, 0]: none).
    #[serde(default)]
    pub transpose: [i8; 2],
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Prime {
    /// The corpus file it was cut from.
    pub source: String,
    pub tokens: Vec<Token>,
    /// Where the excerpt starts: the piece's meter and the first onset's grid step, so a network
    /// that takes metric positions is primed in the right place of the bar.
    #[serde(default)]
    pub time_signature: TimeSignature,
    #[serde(default)]
    pub start_step: u64,
}

/// The list of bundles the page offers (`public/models/index.json`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub schema_version: u32,
    pub styles: Vec<IndexEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: String,
    pub display_name: String,
    pub description: String,
    /// Folder of the bundle, relative to the index.
    pub path: String,
    pub cell: String,
    pub parameters: usize,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("manifest is not valid: {0}")]
    Manifest(String),
    #[error("bundle has schema version {found}; this build reads version {SCHEMA_VERSION}")]
    Schema { found: u32 },
    #[error("weights are {found} bytes, the manifest says {expected}: the download is incomplete")]
    Size { expected: u64, found: u64 },
    #[error(
        "weights checksum {found} does not match the manifest's {expected}: the file is corrupt"
    )]
    Checksum { expected: String, found: String },
    #[error("vocabulary has {vocabulary} tokens but the model expects {model}")]
    VocabularySize { vocabulary: usize, model: usize },
    #[error("weights do not fit the model config: {0}")]
    Weights(String),
}

fn one() -> usize {
    1
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    /// The style's chosen sampling settings, or the page's general defaults for a bundle that
    /// was never tuned.
    pub fn default_sampling(&self) -> SamplingConfig {
        self.sampling.clone().unwrap_or(SamplingConfig {
            temperature: 1.0,
            top_k: 0,
            top_p: 0.95,
            ..SamplingConfig::default()
        })
    }

    pub fn from_json(text: &str) -> Result<Self, BundleError> {
        // Read the version first so a newer bundle gets the precise complaint.
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let version: Version =
            serde_json::from_str(text).map_err(|e| BundleError::Manifest(e.to_string()))?;
        if version.schema_version != SCHEMA_VERSION {
            return Err(BundleError::Schema {
                found: version.schema_version,
            });
        }
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| BundleError::Manifest(e.to_string()))?;
        if manifest.vocabulary.len() != manifest.model.vocab_size {
            return Err(BundleError::VocabularySize {
                vocabulary: manifest.vocabulary.len(),
                model: manifest.model.vocab_size,
            });
        }
        Ok(manifest)
    }

    /// Size and checksum of the weights bytes against the manifest.
    pub fn verify_weights(&self, weights: &[u8]) -> Result<(), BundleError> {
        let found = weights.len() as u64;
        if found != self.weights.bytes {
            return Err(BundleError::Size {
                expected: self.weights.bytes,
                found,
            });
        }
        let found = sha256_hex(weights);
        if found != self.weights.sha256 {
            return Err(BundleError::Checksum {
                expected: self.weights.sha256.clone(),
                found,
            });
        }
        Ok(())
    }

    /// Verifies the weights and builds the model on `device`.
    pub fn load_model(&self, weights: Vec<u8>, device: &Device) -> Result<MusicModel, BundleError> {
        self.verify_weights(&weights)?;
        load_weights(&self.model, self.float_weights(weights)?, device)
    }

    /// How the model's corpus was read, so files scored or compared against it read the same.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            sustain_pedal: self.training.sustain_pedal,
            ..ReadOptions::default()
        }
    }

    /// The weights as floats (int8 ones dequantised, see [`dequantize`]).
    pub fn float_weights(&self, weights: Vec<u8>) -> Result<Vec<u8>, BundleError> {
        if self.weights.dtype == WeightStorage::Int8.name() {
            dequantize(&self.model, weights)
        } else {
            Ok(weights)
        }
    }
}

/// How a bundle stores its weights. Whatever the storage, loading turns them into f32 once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightStorage {
    F32,
    /// Half the download of f32, no measurable loss.
    F16,
    /// 8-bit integers with one f32 scale per block of [`INT8_BLOCK`] values of a matrix row
    /// (about 1.1 bytes per weight): a 2×512 network fits where a 2×256 one did in f16.
    /// Matrices whose rows do not divide into blocks, and vectors, stay f16.
    Int8,
}

/// Values per int8 scale: finer than one scale per row, so one large weight costs only its
/// block's precision.
pub const INT8_BLOCK: u8 = 32;

impl std::str::FromStr for WeightStorage {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "f32" => Ok(WeightStorage::F32),
            "f16" => Ok(WeightStorage::F16),
            "int8" => Ok(WeightStorage::Int8),
            other => Err(format!(
                "unknown weight storage '{other}' (expected f16, f32 or int8)"
            )),
        }
    }
}

impl WeightStorage {
    pub fn name(self) -> &'static str {
        match self {
            WeightStorage::F32 => "f32",
            WeightStorage::F16 => "f16",
            WeightStorage::Int8 => "int8",
        }
    }

    /// The weights file's bytes for `model`.
    pub fn encode(self, model: MusicModel) -> Result<Vec<u8>, BundleError> {
        let mut storage = StoreAs(self);
        model
            .map(&mut storage)
            .into_record()
            .into_bytes()
            .map(|bytes| bytes.to_vec())
            .map_err(|e| BundleError::Weights(e.to_string()))
    }
}

struct StoreAs(WeightStorage);

impl ModuleMapper for StoreAs {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let storage = self.0;
        param.map(|tensor| {
            let row = tensor.dims()[D - 1];
            match storage {
                // A loaded int8 tensor stays quantised until dequantised.
                WeightStorage::F32 => tensor.dequantize().cast(DType::F32),
                WeightStorage::Int8 if D == 2 && row % usize::from(INT8_BLOCK) == 0 => {
                    let scheme = QuantScheme::default()
                        .with_value(QuantValue::Q8S)
                        .per_block([1, INT8_BLOCK], ScaleDtype::F32);
                    tensor.cast(DType::F32).quantize_dynamic(&scheme)
                }
                WeightStorage::F16 | WeightStorage::Int8 => tensor.cast(DType::F16),
            }
        })
    }
}

/// Int8 weights as f32 weights, dequantised once on the CPU: not every GPU backend reads
/// quantised tensors (wgpu does not).
pub fn dequantize(config: &ModelConfig, weights: Vec<u8>) -> Result<Vec<u8>, BundleError> {
    WeightStorage::F32.encode(load_weights(config, weights, &Device::flex())?)
}

/// Builds a model of `config` and loads weights (any stored float type) into it. Int8 weights
/// load on the CPU only; [`Manifest::load_model`] dequantises them for any device.
pub fn load_weights(
    config: &ModelConfig,
    weights: Vec<u8>,
    device: &Device,
) -> Result<MusicModel, BundleError> {
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| BundleError::Weights(e.to_string()))?
        .cast_to_module_dtype();
    MusicModel::zeros(config, device)
        .try_load_record(record)
        .map_err(|e| BundleError::Weights(e.to_string()))
}
