//! Standard MIDI Files in and out.

mod read;
mod tempo;
mod write;

pub use read::{MAX_FILE_BYTES, MAX_NOTES, ReadOptions, read_midi};
pub use tempo::{TempoChange, TempoMap};
pub use write::{WriteOptions, write_midi};

/// MIDI channel 10 (index 9) is reserved for percussion by General MIDI.
pub const DRUM_CHANNEL: u8 = 9;
