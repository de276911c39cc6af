//! `trainer-cli`: inspect MIDI corpora (and, as the project grows, train, generate, export).

mod cli;
mod inspect;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Inspect(args) => inspect::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}
