//! How much of a piece survives MIDI → tokens → MIDI: the measurable answer to "the report's
//! tokens lose the rhythm".

use crate::midi::{ReadOptions, WriteOptions, read_midi, write_midi};
use crate::score::Note;
use crate::tokens::{MatchRate, TimedConfig, Tokenizer, match_rate, quantize};
use crate::vocab::Vocabulary;

/// Encodes `notes`, maps them through `vocab` when given (so rare tokens become `<unk>` as a
/// model would see them), decodes, writes MIDI bytes, reads them back, and compares the notes
/// on the grid with the originals (quantized, starting at the first onset, long rests shortened:
/// the form the timed scheme promises to keep).
pub fn round_trip(tokenizer: &Tokenizer, vocab: Option<&Vocabulary>, notes: &[Note]) -> MatchRate {
    let grid = match tokenizer {
        Tokenizer::Timed(config) => config.clone(),
        Tokenizer::Seed(config) => TimedConfig {
            steps_per_beat: config.steps_per_beat,
            ..TimedConfig::default()
        },
    };
    let reference = grid.canonical(notes);
    let mut tokens = tokenizer.encode(notes);
    if let Some(vocab) = vocab {
        tokens = vocab.decode(&vocab.encode(&tokens));
    }
    let bytes = write_midi(&tokenizer.decode(&tokens), &WriteOptions::default());
    let reread = read_midi(&bytes, &ReadOptions::default())
        .map(|s| s.notes)
        .unwrap_or_default();
    let actual = quantize(
        &reread,
        grid.steps_per_beat,
        u32::from(grid.max_duration_steps),
    );
    match_rate(&reference, &actual)
}
