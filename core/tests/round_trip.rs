//! Notes → tokens → ids → tokens → notes → MIDI bytes → notes, for both tokenizers.

mod common;

use motif::midi::{ReadOptions, WriteOptions, read_midi, write_midi};
use motif::tokens::{TimedConfig, Token, quantize};
use motif::{Note, Tokenizer, TokenizerKind, Vocabulary};

fn note(start: f64, duration: f64, pitch: u8) -> Note {
    Note {
        start,
        duration,
        pitch,
        velocity: 80,
    }
}

fn tokens(texts: &[&str]) -> Vec<Token> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

/// A bar with a sustained bass, a triplet figure, a sixteenth run and a chord.
fn phrase() -> Vec<Note> {
    let mut notes = vec![note(0.0, 4.0, 36)];
    for i in 0..3 {
        notes.push(note(f64::from(i) / 3.0, 1.0 / 3.0, 60 + 2 * i as u8));
    }
    for i in 0..4 {
        notes.push(note(1.0 + f64::from(i) / 4.0, 0.25, 67 + i as u8));
    }
    for pitch in [60, 64, 67] {
        notes.push(note(2.0, 2.0, pitch));
    }
    notes
}

#[test]
fn timed_tokens_keep_rhythm_and_octaves() {
    let tokenizer = Tokenizer::new(TokenizerKind::Timed);
    let encoded = tokenizer.encode(&[
        note(0.0, 4.0, 36),
        note(0.0, 1.0, 60),
        note(0.0, 1.0, 64),
        note(1.5, 0.25, 72),
    ]);
    // Loudness 80 is bucket 2 of 4, said once at the start.
    let expected = tokens(&["v:2", "C2", "d:48", "C4", "E4", "d:12", "w:18", "C5", "d:3"]);
    assert_eq!(encoded, expected);
    let decoded = tokenizer.decode(&encoded);
    assert_eq!(decoded.len(), 4);
    assert!(
        decoded
            .iter()
            .any(|n| n.pitch == 72 && n.start == 1.5 && n.duration == 0.25)
    );
}

#[test]
fn timed_round_trip_through_vocabulary_and_midi_is_exact_on_the_grid() {
    let tokenizer = Tokenizer::new(TokenizerKind::Timed);
    let notes = phrase();
    let encoded = tokenizer.encode(&notes);
    let vocab = Vocabulary::build([encoded.as_slice()], 1);
    let ids = vocab.encode(&encoded);
    assert!(
        !ids.contains(&0),
        "every token is in a vocabulary built from it"
    );
    let decoded = tokenizer.decode(&vocab.decode(&ids));
    let bytes = write_midi(&decoded, &WriteOptions::default());
    let reread = read_midi(&bytes, &ReadOptions::default()).unwrap();
    let grid = |n: &[Note]| quantize(n, 12, 96);
    assert_eq!(
        grid(&reread.notes)
            .iter()
            .map(|n| (n.start, n.duration, n.pitch))
            .collect::<Vec<_>>(),
        grid(&notes)
            .iter()
            .map(|n| (n.start, n.duration, n.pitch))
            .collect::<Vec<_>>()
    );
}

#[test]
fn timed_velocity_buckets_are_optional() {
    let config = TimedConfig {
        velocity_buckets: 8,
        ..TimedConfig::default()
    };
    let tokenizer = Tokenizer::Timed(config);
    let notes = [
        Note {
            start: 0.0,
            duration: 1.0,
            pitch: 60,
            velocity: 30,
        },
        Note {
            start: 0.0,
            duration: 1.0,
            pitch: 64,
            velocity: 110,
        },
        Note {
            start: 1.0,
            duration: 1.0,
            pitch: 67,
            velocity: 100,
        },
    ];
    let encoded = tokenizer.encode(&notes);
    assert_eq!(
        encoded,
        tokens(&[
            "v:1", "C4", "d:12", "v:6", "E4", "d:12", "w:12", "G4", "d:12"
        ])
    );
    let decoded = tokenizer.decode(&encoded);
    assert!(decoded[0].velocity < 48 && decoded[1].velocity > 96);
}

#[test]
fn velocity_buckets_decode_to_the_loudness_the_corpus_plays_in_them() {
    let played = |velocity: u8| Note {
        velocity,
        ..note(0.0, 1.0, 60)
    };
    // Quiet notes as performers play them (bucket 0 is 0–31), and one loud note.
    let corpus = [played(24), played(30), played(27), played(120)];
    let centres = TimedConfig::default();
    let levels = centres.measured_levels(&corpus);
    // Buckets no note falls in keep their centres.
    assert_eq!(levels, vec![27, 48, 80, 120]);

    let quiet = tokens(&["v:0", "C4", "d:12", "w:12", "v:3", "E4", "d:12"]);
    let velocities = |config: TimedConfig| -> Vec<u8> {
        Tokenizer::Timed(config)
            .decode(&quiet)
            .iter()
            .map(|n| n.velocity)
            .collect()
    };
    assert_eq!(velocities(centres.clone()), vec![16, 112]);
    let measured = TimedConfig {
        velocity_levels: levels,
        ..centres
    };
    assert_eq!(velocities(measured.clone()), vec![27, 120]);
    // Bundles written before the levels existed read as before, and write them only when set.
    let json = serde_json::to_string(&TimedConfig::default()).unwrap();
    assert!(!json.contains("velocity_levels"), "{json}");
    let reread: TimedConfig =
        serde_json::from_str(&serde_json::to_string(&measured).unwrap()).unwrap();
    assert_eq!(reread, measured);
}

#[test]
fn long_silences_are_shortened_and_long_gaps_split_into_shifts() {
    let tokenizer = Tokenizer::new(TokenizerKind::Timed);
    let encoded = tokenizer.encode(&[note(0.0, 1.0, 60), note(10.0, 1.0, 62), note(1e9, 1.0, 64)]);
    // 10 beats = 120 steps = 48 + 48 + 24; 1e9 beats shortened to 16 beats = 4 × 48.
    let expected = tokens(&[
        "v:2", "C4", "d:12", "w:48", "w:48", "w:24", "D4", "d:12", "w:48", "w:48", "w:48", "w:48",
        "E4", "d:12",
    ]);
    assert_eq!(encoded, expected);
}

#[test]
fn any_token_sequence_decodes_without_failing() {
    let tokenizer = Tokenizer::new(TokenizerKind::Timed);
    let odd = tokens(&[
        "d:6", "w:3", "C4", "E4", "w:12", "<unk>", "v:9", "G4", "d:0", "A4",
    ]);
    let notes = tokenizer.decode(&odd);
    // C4 and E4 had no duration: they take the last one seen (6 steps); d:0 counts as one step.
    assert_eq!(notes.len(), 4);
    assert_eq!((notes[0].start, notes[0].duration), (0.25, 0.5));
    assert_eq!(
        (notes[2].pitch, notes[2].start, notes[2].duration),
        (67, 1.25, 1.0 / 12.0)
    );
    assert_eq!(notes[3].pitch, 69);
}

#[test]
fn seed_tokens_are_onsets_with_octaves_decoded_half_a_beat_apart() {
    let tokenizer = Tokenizer::new(TokenizerKind::Seed);
    let encoded = tokenizer.encode(&[
        note(0.0, 1.0, 67),
        note(0.0, 1.0, 60),
        note(0.01, 1.0, 64), // humanized: same grid step, same chord
        note(3.0, 0.1, 76),
    ]);
    assert_eq!(encoded, tokens(&["C4.E4.G4", "E5"]));
    let decoded = tokenizer.decode(&encoded);
    let starts: Vec<(f64, f64, u8)> = decoded
        .iter()
        .map(|n| (n.start, n.duration, n.pitch))
        .collect();
    assert_eq!(
        starts,
        vec![
            (0.0, 1.0, 60),
            (0.0, 1.0, 64),
            (0.0, 1.0, 67),
            (0.5, 1.0, 76)
        ]
    );
}

#[test]
fn written_midi_has_tempo_name_program_and_balanced_note_events() {
    let notes = [
        note(0.0, 1.0, 60),
        note(0.5, 1.0, 60),
        note(0.5, 0.0, 64),
        note(-3.0, 1.0, 200),
    ];
    let options = WriteOptions {
        bpm: 90.0,
        track_name: "final-fantasy seed 7".into(),
        ..WriteOptions::default()
    };
    let bytes = write_midi(&notes, &options);

    let smf = midly::Smf::parse(&bytes).unwrap();
    assert_eq!(smf.tracks.len(), 1);
    let (mut ons, mut offs, mut tempo, mut name, mut program) = (0, 0, None, None, None);
    for event in &smf.tracks[0] {
        match event.kind {
            midly::TrackEventKind::Midi { message, .. } => match message {
                midly::MidiMessage::NoteOn { vel, .. } if vel > 0 => ons += 1,
                midly::MidiMessage::NoteOn { .. } | midly::MidiMessage::NoteOff { .. } => offs += 1,
                midly::MidiMessage::ProgramChange { program: p } => program = Some(p.as_int()),
                _ => {}
            },
            midly::TrackEventKind::Meta(midly::MetaMessage::Tempo(t)) => tempo = Some(t.as_int()),
            midly::TrackEventKind::Meta(midly::MetaMessage::TrackName(n)) => {
                name = Some(n.to_vec())
            }
            _ => {}
        }
    }
    assert_eq!(
        (ons, offs),
        (3, 3),
        "pitch 200 dropped, every note-on has its note-off"
    );
    assert_eq!(tempo, Some(666_667));
    assert_eq!(name.as_deref(), Some(&b"final-fantasy seed 7"[..]));
    assert_eq!(program, Some(0));

    // The re-struck C4 is cut where it is struck again; the zero-length note gets one tick.
    let score = read_midi(&bytes, &ReadOptions::default()).unwrap();
    let got: Vec<(f64, f64, u8)> = score
        .notes
        .iter()
        .map(|n| (n.start, n.duration, n.pitch))
        .collect();
    assert_eq!(
        got,
        vec![(0.0, 0.5, 60), (0.5, 1.0, 60), (0.5, 1.0 / 480.0, 64)]
    );
    assert!((score.info.tempo_map.initial_bpm() - 90.0).abs() < 1e-3);
}
