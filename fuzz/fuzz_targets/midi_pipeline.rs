//! Any bytes through the whole pipeline: parse → both tokenizers → vocabulary → decode → write →
//! parse again. Nothing may panic, and what we write must always read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motif::midi::{ReadOptions, WriteOptions, read_midi, write_midi};
use motif::{Tokenizer, TokenizerKind, Vocabulary};

fuzz_target!(|data: &[u8]| {
    let flags = data.first().copied().unwrap_or(0);
    let options = ReadOptions { include_drums: flags & 1 == 1, sustain_pedal: flags & 2 == 0 };
    let Ok(score) = read_midi(data, &options) else { return };
    for kind in TokenizerKind::ALL {
        let tokenizer = Tokenizer::new(kind);
        let tokens = tokenizer.encode(&score.notes);
        let vocab = Vocabulary::build([tokens.as_slice()], 2);
        let ids = vocab.encode(&tokens);
        let notes = tokenizer.decode(&vocab.decode(&ids));
        let bytes = write_midi(&notes, &WriteOptions::default());
        let reread = read_midi(&bytes, &ReadOptions::default()).expect("our own MIDI must parse");
        assert!(reread.notes.len() <= notes.len());
        assert_eq!(reread.info.damaged_tracks, 0);

        // The raw input as model output: arbitrary ids must decode without failing.
        let arbitrary: Vec<u32> = data.iter().map(|b| u32::from(*b)).collect();
        let _ = write_midi(&tokenizer.decode(&vocab.decode(&arbitrary)), &WriteOptions::default());
    }
});
