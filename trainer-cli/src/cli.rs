//! Command-line interface definitions; each subcommand's logic lives in its own module.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Time reading + tokenizing instead of printing per-file facts: repeats each path's files
    /// for at least --bench-seconds and prints files/s and MB/s.
    #[arg(long)]
    pub bench: bool,
    #[arg(long, default_value_t = 3.0, requires = "bench")]
    pub bench_seconds: f64,
}
