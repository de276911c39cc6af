//! Helpers shared by the trainer's end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../../core/tests/common/corpora.rs"]
mod corpora;
#[allow(unused_imports)] // not every test file looks for the corpora
pub use corpora::corpora_dir;

/// A folder under the system temp dir, removed when dropped (the `tempfile` crate would pull
/// extra features into shared dependencies and force a second build of burn).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn tempdir() -> TempDir {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "motif-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// trainer-cli, with its token cache in a folder of the tests' own (not the user's cache).
pub fn trainer_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trainer-cli"));
    command.env(
        "MOTIF_CACHE",
        std::env::temp_dir().join("motif-tests-cache"),
    );
    command
}

pub fn trainer(args: &[&str]) -> Output {
    trainer_command()
        .args(args)
        .output()
        .expect("trainer-cli runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the command's stderr mentions `needle`, showing the stderr when it does not.
pub fn assert_stderr_has(output: &Output, needle: &str) {
    let stderr = text(&output.stderr);
    assert!(stderr.contains(needle), "{stderr}");
}

pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A small real corpus: the six smallest Final Fantasy pieces, copied into a temp folder.
pub fn small_corpus() -> Option<TempDir> {
    let source = corpora_dir()?.join("final-fantasy");
    let dir = tempdir();
    for name in [
        "lurk_in_dark.mid",
        "Oppressed.mid",
        "waltz_de_choco.mid",
        "relmstheme-piano.mid",
        "FF6epitaph_piano.mid",
        "Final_Fantasy_7_-_Judgement_Day_Piano.mid",
    ] {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }
    Some(dir)
}

/// A tiny network and short epochs so a test trains in seconds.
pub const TINY: &[&str] = &[
    "--hidden",
    "24",
    "--layers",
    "1",
    "--embedding",
    "8",
    "--dense",
    "16",
    "--seq-len",
    "24",
    "--batch",
    "4",
    "--max-batches",
    "5",
    "--backend",
    "cpu",
];

/// `train` on `data` into `out` with the tiny network and `extra` flags, ready to run.
pub fn train_command(data: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut args = vec![
        "train",
        "--data",
        path(data),
        "--style",
        "test-style",
        "--out",
        path(out),
    ];
    args.extend_from_slice(TINY);
    args.extend_from_slice(extra);
    let mut command = trainer_command();
    command.args(&args);
    command
}

pub fn train(data: &Path, out: &Path, extra: &[&str]) -> Output {
    train_command(data, out, extra)
        .output()
        .expect("trainer-cli runs")
}

/// A run folder's run.json.
pub fn run_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap()
}

/// metrics.csv rows without the timing columns, which differ from run to run.
pub fn losses(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect()
}
