//! Reading MIDI: every case the classic generators stumble on, from bytes written here.

mod common;

use common::*;
use motif::midi::{MAX_FILE_BYTES, ReadOptions, read_midi};
use motif::score::Timing;
use motif::{MidiError, Score};

fn read(bytes: &[u8]) -> Score {
    read_midi(bytes, &ReadOptions::default()).expect("file should parse")
}

/// (start, duration, pitch) of every note, for compact assertions.
fn notes(score: &Score) -> Vec<(f64, f64, u8)> {
    score
        .notes
        .iter()
        .map(|n| (n.start, n.duration, n.pitch))
        .collect()
}

#[test]
fn format_0_single_track() {
    let track = events(&[
        (0, &note_on(0, 60, 100)),
        (96, &note_off(0, 60)),
        (0, &note_on(0, 64, 90)),
        (48, &note_off(0, 64)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(0, 96, &[track]));
    assert_eq!(notes(&score), vec![(0.0, 1.0, 60), (1.0, 0.5, 64)]);
    assert_eq!(score.notes[0].velocity, 100);
    assert_eq!(score.info.format, 0);
    assert_eq!(score.info.timing, Timing::Ppq { ticks_per_beat: 96 });
    assert_eq!(score.info.length_beats, 1.5);
    assert_eq!(score.info.length_seconds, 0.75); // default 120 BPM
    assert_eq!(score.info.damaged_tracks, 0);
}

#[test]
fn format_1_merges_tracks_and_applies_the_conductor_tempo() {
    let conductor = [tempo(1_000_000), END_OF_TRACK.to_vec()].concat(); // 60 BPM
    let conductor = events(&[(0, &conductor)]);
    let right = events(&[
        (0, &note_on(0, 72, 80)),
        (480, &note_off(0, 72)),
        (0, END_OF_TRACK),
    ]);
    let left = events(&[
        (240, &note_on(1, 48, 80)),
        (480, &note_off(1, 48)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(1, 480, &[conductor, right, left]));
    assert_eq!(notes(&score), vec![(0.0, 1.0, 72), (0.5, 1.0, 48)]);
    assert_eq!(score.info.tracks, 3);
    assert_eq!(score.info.tempo_changes, 1);
    assert_eq!(score.info.length_seconds, 1.5);
}

#[test]
fn format_2_plays_tracks_one_after_another() {
    let first = events(&[
        (0, &note_on(0, 60, 80)),
        (192, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let second = events(&[
        (0, &note_on(0, 67, 80)),
        (96, &note_off(0, 67)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(2, 96, &[first, second]));
    assert_eq!(notes(&score), vec![(0.0, 2.0, 60), (2.0, 1.0, 67)]);
    assert_eq!(score.info.length_beats, 3.0);
}

#[test]
fn riff_wrapped_rmid_files_are_unwrapped() {
    let track = events(&[
        (0, &note_on(0, 60, 80)),
        (96, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let inner = smf(0, 96, &[track]);
    let mut riff_body = b"RMID".to_vec();
    riff_body.extend(chunk(b"data", &inner));
    let rmi = chunk(b"RIFF", &riff_body);
    assert_eq!(notes(&read(&rmi)), vec![(0.0, 1.0, 60)]);
}

#[test]
fn any_ppq_gives_the_same_beats() {
    for ppq in [1u16, 24, 96, 480, 960, 1024, 0x7fff] {
        let quarter = u32::from(ppq);
        let track = events(&[
            (0, &note_on(0, 60, 80)),
            (quarter / 2, &note_off(0, 60)),
            (quarter / 2, &note_on(0, 62, 80)),
            (quarter * 3, &note_off(0, 62)),
            (0, END_OF_TRACK),
        ]);
        let score = read(&smf(0, ppq, &[track]));
        let half = f64::from(quarter / 2) / f64::from(ppq);
        let expected = vec![(0.0, half, 60), (2.0 * half, 3.0, 62)];
        assert_eq!(notes(&score), expected, "ppq {ppq}");
    }
}

#[test]
fn tempo_map_with_many_changes_converts_beats_to_seconds() {
    // A tempo change every beat, 60 BPM then 61, 62, ... 159 (100 changes).
    let mut list: Vec<(u32, Vec<u8>)> = Vec::new();
    for i in 0..100u32 {
        list.push((if i == 0 { 0 } else { 100 }, tempo(60_000_000 / (60 + i))));
    }
    list.push((100, END_OF_TRACK.to_vec()));
    let refs: Vec<(u32, &[u8])> = list.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    let score = read(&smf(0, 100, &[events(&refs)]));
    assert_eq!(score.info.tempo_changes, 100);
    assert_eq!(score.info.length_beats, 100.0);
    let expected: f64 = (0..100u32).map(|i| 60.0 / f64::from(60 + i)).sum();
    // Microsecond tempos are integers, so allow their rounding error.
    assert!(
        (score.info.length_seconds - expected).abs() < 1e-4,
        "{}",
        score.info.length_seconds
    );
    let halfway = score.info.tempo_map.seconds_at(50.0);
    let expected_half: f64 = (0..50u32).map(|i| 60.0 / f64::from(60 + i)).sum();
    assert!((halfway - expected_half).abs() < 1e-4);
}

#[test]
fn smpte_division_converts_through_seconds() {
    // 25 fps × 40 ticks per frame = 1000 ticks per second; division high byte is -25.
    let division = (((-25i8) as u8 as u16) << 8) | 40;
    let track = events(&[
        (1000, &note_on(0, 60, 80)),
        (500, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(0, division, &[track]));
    assert_eq!(
        score.info.timing,
        Timing::Smpte {
            fps: 25,
            ticks_per_frame: 40
        }
    );
    // 1 s in, 0.5 s long; beats at the nominal 120 BPM.
    assert_eq!(notes(&score), vec![(2.0, 1.0, 60)]);
    assert_eq!(score.info.length_seconds, 1.5);
}

#[test]
fn running_status_and_velocity_zero_note_offs() {
    let track = events(&[
        (0, &[0x90, 60, 80]),
        (0, &[64, 80]), // running status: another note-on
        (96, &[60, 0]), // note-on velocity 0 = note-off
        (96, &[64, 0]),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(0, 96, &[track]));
    assert_eq!(notes(&score), vec![(0.0, 1.0, 60), (0.0, 2.0, 64)]);
}

#[test]
fn overlapping_notes_of_one_key_restrike() {
    let track = events(&[
        (0, &note_on(0, 60, 80)),
        (96, &note_on(0, 60, 70)), // struck again while sounding
        (96, &note_off(0, 60)),
        (96, &note_off(0, 60)),   // stray note-off: ignored
        (0, &note_on(1, 60, 80)), // same key, another channel: its own note
        (96, &note_off(1, 60)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(0, 96, &[track]));
    assert_eq!(
        notes(&score),
        vec![(0.0, 1.0, 60), (1.0, 1.0, 60), (3.0, 1.0, 60)]
    );
    assert_eq!(score.notes[1].velocity, 70);
}

#[test]
fn zero_length_notes_are_kept_and_unended_notes_end_with_the_track() {
    let track = events(&[
        (0, &note_on(0, 60, 80)),
        (0, &note_off(0, 60)),
        (0, &note_on(0, 67, 80)),
        (192, END_OF_TRACK),
    ]);
    let score = read(&smf(0, 96, &[track]));
    assert_eq!(notes(&score), vec![(0.0, 0.0, 60), (0.0, 2.0, 67)]);
}

#[test]
fn sysex_unknown_meta_and_unknown_chunks_are_ignored() {
    let track = events(&[
        (0, &[0xf0, 0x05, 0x7e, 0x7f, 0x09, 0x01, 0xf7]), // GM reset sysex
        (0, &[0xff, 0x7f, 0x03, 1, 2, 3]),                // sequencer-specific meta
        (0, &[0xff, 0x60, 0x02, 9, 9]),                   // undefined meta type
        (0, &[0xff, 0x03, 0x04, b'P', b'i', b'a', b'n']), // track name
        (0, &[0xb0, 64, 127]),                            // sustain pedal
        (0, &[0xc0, 5]),                                  // program change
        (0, &note_on(0, 60, 80)),
        (96, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let mut file = smf(1, 96, &[]);
    file[11] = 1; // one track follows, after an unknown chunk
    file.extend(chunk(b"XFIH", b"vendor data"));
    file.extend(chunk(b"MTrk", &track));
    assert_eq!(notes(&read(&file)), vec![(0.0, 1.0, 60)]);
}

#[test]
fn drums_are_left_out_unless_asked_for() {
    let track = events(&[
        (0, &note_on(9, 36, 100)),
        (0, &note_on(0, 60, 80)),
        (96, &note_off(9, 36)),
        (0, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let file = smf(0, 96, &[track]);
    let score = read(&file);
    assert_eq!(notes(&score), vec![(0.0, 1.0, 60)]);
    assert_eq!(score.info.drum_notes_skipped, 1);
    let with_drums = read_midi(
        &file,
        &ReadOptions {
            include_drums: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(notes(&with_drums), vec![(0.0, 1.0, 36), (0.0, 1.0, 60)]);
}

#[test]
fn truncated_file_keeps_what_came_before_the_damage() {
    let track = events(&[
        (0, &note_on(0, 60, 80)),
        (96, &note_off(0, 60)),
        (0, &note_on(0, 62, 80)),
        (96, &note_off(0, 62)),
        (0, END_OF_TRACK),
    ]);
    let file = smf(0, 96, &[track]);
    // Cut in the middle of the second note-off: the chunk claims more bytes than remain.
    let cut = &file[..file.len() - 5];
    let score = read(cut);
    assert_eq!(score.info.damaged_tracks, 1);
    assert_eq!(score.notes[0].pitch, 60);
    assert_eq!(score.notes[0].duration, 1.0);
    // The second note never got its note-off: it ends where the damaged track stops.
    assert_eq!(score.notes.len(), 2);
}

#[test]
fn garbage_and_empty_input_are_errors_not_panics() {
    for bytes in [
        &b""[..],
        b"MThd",
        b"hello, world",
        b"RIFF\x04\x00\x00\x00WAVE",
        b"MThd\x00\x00\x00\x06\x00",
    ] {
        let result = read_midi(bytes, &ReadOptions::default());
        assert!(
            matches!(result, Err(MidiError::Parse(_))),
            "{bytes:?}: {result:?}"
        );
    }
    let zero_ppq = smf(0, 0, &[events(&[(0, END_OF_TRACK)])]);
    assert!(matches!(
        read_midi(&zero_ppq, &ReadOptions::default()),
        Err(MidiError::ZeroPpq)
    ));
}

#[test]
fn absurd_declared_sizes_do_not_allocate_or_hang() {
    // 65535 tracks declared, a track chunk claiming 4 GiB, and a huge delta time.
    let mut file = smf(1, 96, &[]);
    file[10] = 0xff;
    file[11] = 0xff;
    file.extend(b"MTrk\xff\xff\xff\xff");
    file.extend(events(&[
        (0x0fff_ffff, &note_on(0, 60, 80)),
        (0x0fff_ffff, &note_off(0, 60)),
    ]));
    let score = read(&file);
    assert_eq!(score.notes.len(), 1);
    assert_eq!(score.info.damaged_tracks, 1);

    let too_big = vec![0u8; MAX_FILE_BYTES as usize + 1];
    assert!(matches!(
        read_midi(&too_big, &ReadOptions::default()),
        Err(MidiError::TooLarge { .. })
    ));
}

fn pedal(channel: u8, down: bool) -> [u8; 3] {
    [0xb0 | channel, 64, if down { 127 } else { 0 }]
}

fn read_without_pedal(bytes: &[u8]) -> Score {
    let options = ReadOptions {
        sustain_pedal: false,
        ..ReadOptions::default()
    };
    read_midi(bytes, &options).expect("file should parse")
}

#[test]
fn sustain_pedal_holds_released_keys_until_it_lifts() {
    // Pedal down, C4 for half a beat, E4 for half a beat; pedal up at beat 3.
    let track = events(&[
        (0, &pedal(0, true)),
        (0, &note_on(0, 60, 90)),
        (48, &note_off(0, 60)),
        (0, &note_on(0, 64, 70)),
        (48, &note_off(0, 64)),
        (192, &pedal(0, false)),
        // After the pedal lifts, keys end when released again.
        (0, &note_on(0, 67, 80)),
        (48, &note_off(0, 67)),
        (0, END_OF_TRACK),
    ]);
    let file = smf(0, 96, &[track]);
    assert_eq!(
        notes(&read(&file)),
        vec![(0.0, 3.0, 60), (0.5, 2.5, 64), (3.0, 0.5, 67)]
    );
    // --no-pedal reads what the fingers did.
    assert_eq!(
        notes(&read_without_pedal(&file)),
        vec![(0.0, 0.5, 60), (0.5, 0.5, 64), (3.0, 0.5, 67)]
    );
}

#[test]
fn sustain_pedal_is_per_channel_and_a_held_key_down_outlasts_it() {
    let track = events(&[
        (0, &pedal(1, true)),
        (0, &note_on(0, 60, 90)), // channel 0: no pedal
        (0, &note_on(1, 48, 90)), // channel 1: pedalled
        (0, &note_on(1, 52, 90)), // channel 1: still held down when the pedal lifts
        (96, &note_off(0, 60)),
        (0, &note_off(1, 48)),
        (96, &pedal(1, false)),
        (96, &note_off(1, 52)),
        (0, END_OF_TRACK),
    ]);
    assert_eq!(
        notes(&read(&smf(0, 96, &[track]))),
        vec![(0.0, 2.0, 48), (0.0, 3.0, 52), (0.0, 1.0, 60)]
    );
}

#[test]
fn restriking_a_pedalled_key_ends_the_held_note() {
    let track = events(&[
        (0, &pedal(0, true)),
        (0, &note_on(0, 60, 90)),
        (48, &note_off(0, 60)),
        (48, &note_on(0, 60, 60)), // struck again at beat 1 while the pedal holds the first
        (48, &note_off(0, 60)),
        (144, &pedal(0, false)), // lifts at beat 3
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(0, 96, &[track]));
    assert_eq!(notes(&score), vec![(0.0, 1.0, 60), (1.0, 2.0, 60)]);
    assert_eq!(score.notes[1].velocity, 60);
}

#[test]
fn pedal_still_down_at_the_end_of_the_track_ends_with_it() {
    let track = events(&[
        (0, &pedal(0, true)),
        (0, &note_on(0, 60, 90)),
        (48, &note_off(0, 60)),
        (240, END_OF_TRACK),
    ]);
    assert_eq!(notes(&read(&smf(0, 96, &[track]))), vec![(0.0, 3.0, 60)]);
}

#[test]
fn a_restrike_written_before_the_old_note_off_keeps_the_new_note_length() {
    // Some sequencers write a repeated key as note-on (new) then note-off (old) at the same tick.
    let track = events(&[
        (0, &note_on(0, 60, 90)),
        (96, &note_on(0, 60, 70)),
        (0, &note_off(0, 60)),
        (96, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    for score in [
        read(&smf(0, 96, std::slice::from_ref(&track))),
        read_without_pedal(&smf(0, 96, &[track])),
    ] {
        assert_eq!(notes(&score), vec![(0.0, 1.0, 60), (1.0, 1.0, 60)]);
        assert_eq!(score.notes[1].velocity, 70);
    }
}

#[test]
fn the_first_time_signature_is_the_meter_and_4_4_when_none() {
    use motif::meter::TimeSignature;
    // 6/8 (denominator 2^3) in the conductor track, a later 2/4 change ignored.
    let six_eight = [0xFF, 0x58, 0x04, 6, 3, 24, 8];
    let two_four = [0xFF, 0x58, 0x04, 2, 2, 24, 8];
    let conductor = events(&[(0, &six_eight), (960, &two_four), (0, END_OF_TRACK)]);
    let melody = events(&[
        (0, &note_on(0, 60, 90)),
        (240, &note_off(0, 60)),
        (0, END_OF_TRACK),
    ]);
    let score = read(&smf(1, 480, &[conductor, melody.clone()]));
    assert_eq!(
        score.info.time_signature,
        TimeSignature {
            numerator: 6,
            denominator: 8
        }
    );
    let plain = read(&smf(1, 480, &[melody]));
    assert_eq!(plain.info.time_signature, TimeSignature::default());
}
