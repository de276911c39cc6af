//! One precise error type for reading music, plus a wrapper that names the file.

use std::path::PathBuf;

/// Why a MIDI file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MidiError {
    #[error("not a valid MIDI file: {0}")]
    Parse(String),
    #[error("file is {size} bytes, above the {limit}-byte limit for a MIDI file")]
    TooLarge { size: u64, limit: u64 },
    #[error("more than {limit} notes; refusing to load a file this large")]
    TooManyNotes { limit: usize },
    #[error("SMPTE time division with {0} frames per second is not valid")]
    BadSmpte(u8),
    #[error("PPQ time division of 0 ticks per beat is not valid")]
    ZeroPpq,
    // The I/O error is part of the message, not a `source`: a report that prints the chain
    // (anyhow's `{:#}`) would otherwise say it twice.
    #[error("cannot read file: {0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for MidiError {
    fn from(err: std::io::Error) -> Self {
        MidiError::Io(err)
    }
}

impl From<midly::Error> for MidiError {
    fn from(err: midly::Error) -> Self {
        MidiError::Parse(err.to_string())
    }
}

/// A [`MidiError`] with the file it came from, printed as `path: reason` (whole: the reason is
/// not a `source`, so a chain of causes does not repeat it).
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct LoadError {
    pub path: PathBuf,
    pub reason: MidiError,
}
