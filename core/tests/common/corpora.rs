//! Where the shared corpora are. One file, included by the test helpers of `core` and of
//! `trainer-cli` (each crate's tests build separately).

use std::path::PathBuf;

/// The shared corpora, from `MOTIF_MIDI_DIR` or `../shared/data/midi` beside the checkout.
/// Missing corpora fail the test under CI (which always has them) and are reported otherwise.
pub fn corpora_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MOTIF_MIDI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/midi")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "corpora not found at {} (set MOTIF_MIDI_DIR); skipping the real-corpus test",
        dir.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{message}: CI must have them");
    }
    eprintln!("{message}");
    None
}
