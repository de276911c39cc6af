//! `trainer-cli`: inspect MIDI corpora, train and resume, export bundles, generate, evaluate, benchmark.

mod average;
mod backend;
mod bench;
mod bench_decode;
mod bundle_io;
mod checkpoint;
mod cli;
mod dataset;
mod eval;
mod export;
mod fsutil;
mod generate;
mod init;
mod inspect;
mod plot;
mod recipe;
mod token_cache;
mod train;
mod tune;

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in the options enum of v2 and v3 alike; the
/// sys crate names only some options).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for a second before handing it back to the kernel. A training step frees
/// and reallocates its ~100 MB buffers every batch; at mimalloc's default of 10 ms each one
/// came back as fresh pages the kernel zeroed again. A user's `MIMALLOC_PURGE_DELAY` wins.
fn keep_freed_memory_a_while() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, at start-up before any other thread runs.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 1000) };
    }
}

fn main() -> std::process::ExitCode {
    keep_freed_memory_a_while();
    let cli = cli::Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(command: cli::Command) -> anyhow::Result<std::process::ExitCode> {
    match command {
        cli::Command::Inspect(args) => inspect::run(&args),
        cli::Command::Eval(args) => eval::run(&args).map(|()| std::process::ExitCode::SUCCESS),
        cli::Command::Tune(args) => tune::run(&args).map(|()| std::process::ExitCode::SUCCESS),
        cli::Command::Bench(args) => bench::run(&args).map(|()| std::process::ExitCode::SUCCESS),
        cli::Command::BenchDecode(args) => {
            bench_decode::run(&args).map(|()| std::process::ExitCode::SUCCESS)
        }
        cli::Command::Train(args) => train::run(&args),
        cli::Command::Export(args) => export::run(&args).map(|()| std::process::ExitCode::SUCCESS),
        cli::Command::Generate(args) => {
            generate::run(&args).map(|()| std::process::ExitCode::SUCCESS)
        }
    }
}
