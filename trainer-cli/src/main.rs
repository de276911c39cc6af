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

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
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
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
