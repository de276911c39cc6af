//! Motif's shared core: everything both the trainer and the web app need to turn MIDI into
//! token sequences and back.
//!
//! - [`midi`] reads any Standard MIDI File into a [`Score`] (one merged note list) and writes notes
//!   back as a Standard MIDI File.
//! - [`tokens`] turns notes into tokens with the `seed` (the report's) or `timed` scheme and back.
//! - [`vocab`] maps tokens to the integer ids a model sees, and travels with every trained model.
//! - [`corpus`] finds and loads MIDI files from folders, naming the file in every error.
//! - [`model`], [`sample`], [`generate`] and [`piece`] turn a trained [`bundle`] into new notes, the
//!   same way natively and in the browser.

pub mod bundle;
pub mod corpus;
pub mod data;
pub mod device_decode;
pub mod error;
pub mod fidelity;
pub mod generate;
pub mod memory;
pub mod meter;
pub mod midi;
pub mod model;
pub mod pace;
pub mod piece;
pub mod sample;
pub mod scale;
pub mod score;
pub mod stats;
pub mod tokens;
pub mod vocab;

pub use error::{LoadError, MidiError};
pub use score::{Note, Score, ScoreInfo};
pub use tokens::{Token, TokenKind, Tokenizer, TokenizerKind};
pub use vocab::Vocabulary;
