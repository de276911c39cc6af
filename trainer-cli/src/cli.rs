//! Command-line interface definitions; each subcommand's logic lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use motif::TokenizerKind;
use motif::model::CellKind;

use crate::backend::BackendChoice;
use crate::recipe::{OptimizerKind, Preset, parse_transpose};

#[derive(Parser, Debug)]
#[command(
    name = "trainer-cli",
    version,
    about = "Learn a musical style from MIDI files"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Read MIDI files and report what each holds and how it tokenizes.
    ///
    /// Exit status: 0 when every file was read, 1 when any was rejected (each rejected file
    /// gets one `path: reason` line on stderr), 2 on a usage or I/O error.
    Inspect(InspectArgs),
    /// Train a style model on a folder of MIDI files, checkpointing every epoch.
    ///
    /// Writes into --out: run.json (the resolved recipe and vocabulary), checkpoints/,
    /// metrics.csv and loss.svg. Ctrl-C finishes the current batch and saves; --resume carries
    /// on from the last checkpoint (also after a crash), with the same losses as an
    /// uninterrupted run.
    Train(TrainArgs),
    /// Export a training run's checkpoint as a bundle (weights + manifest.json) for the page
    /// and for `generate`, and list it in index.json beside the bundle folder.
    Export(ExportArgs),
    /// Generate a MIDI file with an exported bundle.
    Generate(GenerateArgs),
    /// Held-out loss and perplexity, and generated pieces' statistics next to the corpus's.
    Eval(EvalArgs),
    /// Choose a bundle's default sampling settings (temperature, top-p) from the statistics of
    /// pieces generated with each candidate, measured against its corpus, and store them in its
    /// manifest.json.
    Tune(TuneArgs),
    /// Measure training throughput, generation speed and peak memory for a preset.
    Bench(BenchArgs),
    /// Time generation with exported bundles: the page's engine (the tuned sampling, one logits
    /// readback per token) and decoding on the device (ids read back every --chunk tokens).
    BenchDecode(BenchDecodeArgs),
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// MIDI files or folders (searched recursively for .mid, .midi, .smf, .kar, .rmi).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// One JSON object per line (one per file, then a summary) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Tokens seen fewer times than this become <unk> in the summary's vocabulary sizes.
    #[arg(long, default_value_t = 2)]
    pub min_count: u64,
    /// Keep channel-10 percussion notes.
    #[arg(long)]
    pub drums: bool,
    /// Read notes as the keys were released, ignoring the sustain pedal (CC64).
    #[arg(long)]
    pub no_pedal: bool,
    /// Training window length, for reporting pieces too short to train on.
    #[arg(long, default_value_t = 100)]
    pub seq_len: usize,
    /// Time reading + tokenizing instead of printing per-file facts: repeats each path's files
    /// for at least --bench-seconds and prints files/s and MB/s.
    #[arg(long)]
    pub bench: bool,
    #[arg(long, default_value_t = 3.0, requires = "bench")]
    pub bench_seconds: f64,
}

#[derive(Args, Debug, Clone)]
pub struct TrainArgs {
    /// Folder of MIDI files (searched recursively).
    #[arg(long)]
    pub data: PathBuf,
    /// Style id: names the run and, later, the bundle (e.g. final-fantasy).
    #[arg(long)]
    pub style: String,
    /// `default`: our recipe. `seed`: the report's network and training, for comparison
    /// [default: default].
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Token scheme [default: timed; seed for --preset seed].
    #[arg(long)]
    pub tokenizer: Option<TokenizerKind>,
    /// Loudness buckets in timed tokens, 0 for none [default: 4].
    #[arg(long)]
    pub velocity_buckets: Option<u8>,
    /// Read notes as the keys were released, ignoring the sustain pedal (CC64).
    #[arg(long)]
    pub no_pedal: bool,
    /// Transpose each training window by a seeded random shift from MIN..MAX semitones, drawn
    /// afresh every epoch (validation files stay as written); `none` turns it off
    /// [default: -5..6; none for --preset seed].
    #[arg(long, value_parser = parse_transpose, allow_hyphen_values = true)]
    pub transpose: Option<[i8; 2]>,
    /// Recurrent cell [default: gru; lstm for --preset seed].
    #[arg(long)]
    pub cell: Option<CellKind>,
    /// Epochs to train in all (raise it with --resume to train further) [default: 30; seed 200].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Windows per batch [default: 64].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Tokens per training window [default: 100].
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// Tokens between window starts [default: seq-len; seed 1].
    #[arg(long)]
    pub stride: Option<usize>,
    /// Units per recurrent layer [default: 256; seed 512].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Recurrent layers [default: 2; seed 3].
    #[arg(long)]
    pub layers: Option<usize>,
    /// Token embedding size [default: 64].
    #[arg(long)]
    pub embedding: Option<usize>,
    /// Size of the dense layer before the output [default: 256].
    #[arg(long)]
    pub dense: Option<usize>,
    /// Dropout between layers [default: 0.3].
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Optimizer [default: adam; seed rmsprop].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate [default: 0.002 for adam, 0.001 for rmsprop].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Multiply the learning rate by this after each epoch that does not improve the held-out
    /// loss, 1 for a constant rate [default: 0.5; 1 for --preset seed].
    #[arg(long)]
    pub lr_decay: Option<f64>,
    /// Stop after this many epochs without a better held-out loss, 0 never [default: 3; never
    /// for --preset seed]. May change on --resume.
    #[arg(long)]
    pub patience: Option<usize>,
    /// Stop at the first epoch whose held-out loss is at most this, and say how much training
    /// time it took to get there (time to quality). May change on --resume.
    #[arg(long)]
    pub to_loss: Option<f64>,
    /// Seeds the split, the initial weights, batch order, transpositions and dropout [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Tokens seen fewer times in the training files map to near ones or <unk> [default: 2; seed 1].
    #[arg(long)]
    pub min_count: Option<u64>,
    /// Share of files held out for validation [default: 0.1].
    #[arg(long)]
    pub validation_fraction: Option<f64>,
    /// How files are held out: `content` (by a seeded hash of each file's bytes, so the same
    /// file is held out whatever folder it is read from) or `shuffle` (a seeded shuffle of the
    /// folder) [default: content].
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// Start from a pretrained network: a run folder (its best epoch) or an exported bundle.
    /// Its network shape, tokens and vocabulary are kept; the vocabulary must cover this
    /// corpus.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// Stop each epoch after this many batches (quick trials, benchmarks).
    #[arg(long)]
    pub max_batches: Option<usize>,
    /// Give the network each token's metric position (place in the beat and in the bar, from
    /// the file's time signature), `on` or `off` [default: on; off for --preset seed, whose
    /// tokens carry no time].
    #[arg(long, value_parser = clap::builder::BoolishValueParser::new())]
    pub meter: Option<bool>,
    /// Carry the recurrent state across each piece's consecutive windows (truncated
    /// backpropagation through time), as generation carries it across a whole piece.
    #[arg(long)]
    pub stateful: bool,
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Data-parallel training on N devices: each batch is cut into N shards whose gradients
    /// are summed (burn's `step_multi`), so the recipe and checkpoints stay the same. On the
    /// CPU the shards run on N threads; on wgpu, on the first N discrete GPUs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub devices: u16,
    /// Run folder [default: runs/<style>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in --out from its last checkpoint. Recipe flags given must match the
    /// saved recipe, and the data folder must hold the same files; --epochs may raise the total
    /// and --patience may change.
    #[arg(long)]
    pub resume: bool,
}

/// `--split` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Content,
    Shuffle,
}

impl From<SplitArg> for motif::data::Split {
    fn from(arg: SplitArg) -> Self {
        match arg {
            SplitArg::Content => motif::data::Split::Content,
            SplitArg::Shuffle => motif::data::Split::Shuffle,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// The training run folder (train's --out).
    #[arg(long, required_unless_present = "checkpoint")]
    pub run: Option<PathBuf>,
    /// Epoch to export [default: the one with the lowest validation loss].
    #[arg(long, conflicts_with = "checkpoint")]
    pub epoch: Option<usize>,
    /// A checkpoint folder (RUN/checkpoints/epoch-NNNN), instead of --run and --epoch.
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Bundle folder to write, e.g. public/models/final-fantasy.
    #[arg(long, required_unless_present = "snapshot_of")]
    pub out: Option<PathBuf>,
    /// Export --epoch of the run as a snapshot of this bundle (made from the same run): into
    /// BUNDLE/epoch-N/, with the bundle's style and sampling settings, listed in its manifest so
    /// the page offers it ("hear it learn"). Use a small --dtype (int8).
    #[arg(long, conflicts_with_all = ["out", "checkpoint"], requires = "epoch")]
    pub snapshot_of: Option<PathBuf>,
    /// Style id [default: the run's style].
    #[arg(long)]
    pub style: Option<String>,
    #[arg(long)]
    pub display_name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// How weights are stored: f16 (half the download of f32), int8 (8-bit with one scale per
    /// 32 values of a row, ~1.1 bytes per weight) or f32.
    #[arg(long, default_value = "f16")]
    pub dtype: motif::bundle::WeightStorage,
    /// Export the mean of the weights of the chosen epoch and the N−1 before it (weight
    /// averaging: for a fine-tune, usually a lower held-out loss than any one epoch). The
    /// manifest records it and the held-out loss `eval` reports is the averaged network's.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub average: u16,
}

#[derive(Args, Debug, Clone)]
pub struct GenerateArgs {
    /// Bundle folder (with manifest.json and weights).
    #[arg(long)]
    pub model: PathBuf,
    /// Notes to generate (after the prime).
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Start from: `random` (an opening from the corpus shipped in the bundle), `none`, or a
    /// MIDI file.
    #[arg(long, default_value = "random")]
    pub prime: String,
    /// 0: the piece the seed names; k ≥ 1: its k-th variation (the same start, another random
    /// stream), as the page's Variations button makes them.
    #[arg(long, default_value_t = 0)]
    pub variation: u32,
    /// Read the --prime file's notes as the keys were released, ignoring the sustain pedal.
    #[arg(long)]
    pub no_pedal: bool,
    /// Tempo written into the file.
    #[arg(long, default_value_t = 120.0)]
    pub tempo: f64,
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// The .mid file to write.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Folder of MIDI files.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, value_enum, default_value_t = Preset::Default)]
    pub preset: Preset,
    /// Training batches to time (after one warm-up batch).
    #[arg(long, default_value_t = 3)]
    pub batches: usize,
    /// Notes to generate at batch 1.
    #[arg(long, default_value_t = 500)]
    pub notes: usize,
    /// Override the preset's units per layer.
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Override the preset's layer count.
    #[arg(long)]
    pub layers: Option<usize>,
    /// Override the preset's cell.
    #[arg(long)]
    pub cell: Option<CellKind>,
    /// Override the preset's batch size.
    #[arg(long)]
    pub batch: Option<usize>,
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// Data-parallel shards, as `train --devices`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub devices: u16,
}

#[derive(Args, Debug)]
pub struct BenchDecodeArgs {
    /// Bundle folders.
    #[arg(long, required = true, num_args = 1..)]
    pub model: Vec<PathBuf>,
    /// Tokens to time per measurement (after a warm-up).
    #[arg(long, default_value_t = 512)]
    pub tokens: usize,
    /// Tokens per readback for device decoding.
    #[arg(long, default_value_t = 16)]
    pub chunk: usize,
    #[arg(long, value_enum, default_value_t = BackendChoice::Wgpu)]
    pub backend: BackendChoice,
}

#[derive(Args, Debug, Clone)]
pub struct EvalArgs {
    /// Bundle folder.
    #[arg(long)]
    pub model: PathBuf,
    /// Folder of MIDI files: the model's own corpus (its held-out files are scored) or another.
    #[arg(long)]
    pub data: PathBuf,
    /// Pieces to generate.
    #[arg(long, default_value_t = 4)]
    pub pieces: usize,
    /// Notes per generated piece.
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    /// The first piece uses --seed, the next --seed + 1, and so on.
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// Another style's corpus (repeatable): the generated pieces' pitch-class distance to it is
    /// printed beside the distance to --data, to tell whose keys they sound in.
    #[arg(long)]
    pub rival: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct TuneArgs {
    /// Bundle folder; its manifest.json gets the chosen settings.
    #[arg(long)]
    pub model: PathBuf,
    /// The style's corpus, to compare against.
    #[arg(long)]
    pub data: PathBuf,
    /// Pieces per candidate (seeds 1..=N).
    #[arg(long, default_value_t = 8)]
    pub pieces: usize,
    /// Notes per piece.
    #[arg(long, default_value_t = 300)]
    pub length: usize,
    /// Print the table without writing the manifest.
    #[arg(long)]
    pub dry_run: bool,
    /// Only measure the loudness each velocity bucket plays at from the corpus and store it,
    /// keeping the bundle's sampling (for bundles tuned before the levels were measured).
    #[arg(long)]
    pub loudness_only: bool,
    #[arg(long, value_enum, default_value_t = BackendChoice::Cpu)]
    pub backend: BackendChoice,
    /// Another style's corpus (repeatable): settings whose pieces' pitch classes lie nearer it
    /// than this style's own corpus are ruled out.
    #[arg(long)]
    pub rival: Vec<PathBuf>,
    /// Measure the 5 best candidates again over this many pieces (seeds 1..=N) and choose among
    /// them by that: 20 pieces can be a lucky block (0 = off).
    #[arg(long, default_value_t = 0)]
    pub confirm: usize,
    /// Fix the pace memory's weight (0–0.9) instead of taking the one that best predicts the
    /// held-out files: for a style whose pieces drift off its pace at that weight.
    #[arg(long, value_parser = memory_weight)]
    pub pace_memory: Option<f32>,
}

/// A motif or pace memory's weight, checked where the flag is read (`--motif-memory`,
/// `--pace-memory` of `generate`, `eval` and `tune`): above 0.9 the memory would drown out the
/// network.
fn memory_weight(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(weight) if (0.0..=0.9).contains(&weight) => Ok(weight),
        _ => Err(format!(
            "{text}: a memory's weight is a number from 0 to 0.9"
        )),
    }
}

/// How tokens are drawn, shared by `generate`, `eval` and `tune`. Settings not given come from
/// the bundle (chosen by `tune`), else temperature 1, top-k 0, top-p 0.95 as in the page.
#[derive(Args, Debug, Clone)]
pub struct SamplingArgs {
    /// 0 = always the most likely token (the report's argmax); 1 = the model's distribution.
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Sample among the k most likely tokens only (0 = all).
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Sample among the most likely tokens holding this much probability (1 = all).
    #[arg(long)]
    pub top_p: Option<f32>,
    /// Keep every pitch in this key (`C`, `F#`, `Bb`, …) and --scale [default scale: major].
    #[arg(long)]
    pub key: Option<String>,
    /// major, natural-minor, harmonic-minor, dorian, mixolydian, blues, major-pentatonic or
    /// minor-pentatonic (needs --key).
    #[arg(long, requires = "key")]
    pub scale: Option<motif::scale::Scale>,
    /// Share of each draw given to what followed the same context earlier in the piece, so
    /// figures are restated (0 = the network alone; at most 0.9).
    #[arg(long, value_parser = memory_weight)]
    pub motif_memory: Option<f32>,
    /// Share of each note length's and onset gap's probability given to the piece's own
    /// lengths and gaps so far, so it keeps its pace (0 = the network alone; at most 0.9).
    #[arg(long, value_parser = memory_weight)]
    pub pace_memory: Option<f32>,
    /// What temperature, top-k and top-p shape: `all` tokens but the notes' lengths, or the
    /// `pitches` only, when onsets come and how loud they are then drawn as trained.
    #[arg(long, value_enum)]
    pub shaped: Option<Shaped>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shaped {
    All,
    Pitches,
}

impl SamplingArgs {
    /// The flags given, over the bundle's own settings.
    pub fn config(
        &self,
        manifest: &motif::bundle::Manifest,
    ) -> anyhow::Result<motif::sample::SamplingConfig> {
        let chosen = manifest.default_sampling();
        let scale = self
            .key
            .as_deref()
            .map(|key| {
                motif::scale::KeyScale::parse(key, self.scale.unwrap_or(motif::scale::Scale::Major))
            })
            .transpose()
            .map_err(|e| anyhow::anyhow!("--key: {e}"))?;
        Ok(motif::sample::SamplingConfig {
            temperature: self.temperature.unwrap_or(chosen.temperature),
            top_k: self.top_k.unwrap_or(chosen.top_k),
            top_p: self.top_p.unwrap_or(chosen.top_p),
            scale,
            motif_memory: self.motif_memory.unwrap_or(chosen.motif_memory),
            pace_memory: self.pace_memory.unwrap_or(chosen.pace_memory),
            pitches_only: self
                .shaped
                .map_or(chosen.pitches_only, |shaped| shaped == Shaped::Pitches),
        })
    }
}
