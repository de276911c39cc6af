//! Notes → a Standard MIDI File any sequencer opens: format 0, one piano track, a tempo, and a
//! note-off for every note-on.

use midly::num::{u4, u7, u15, u24, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::score::{Note, without_overlaps};

#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub bpm: f64,
    pub track_name: String,
    /// General MIDI program (0 = acoustic grand piano).
    pub program: u8,
    pub ticks_per_beat: u16,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            bpm: 120.0,
            track_name: "Motif".into(),
            program: 0,
            ticks_per_beat: 480,
        }
    }
}

/// The largest tick a delta time can reach from 0; later notes are dropped rather than wrapped.
const MAX_TICK: u64 = (1 << 28) - 1;

/// Encodes `notes` as SMF bytes. Invalid values are made playable instead of failing: pitches
/// above 127 are dropped, velocities clamped to 1..=127 (0 would mean note-off), and two notes of
/// one key that overlap are split so the earlier ends where the later starts.
pub fn write_midi(notes: &[Note], options: &WriteOptions) -> Vec<u8> {
    let ppq = options.ticks_per_beat.clamp(1, 0x7fff);
    let to_tick = |beats: f64| {
        (beats.max(0.0) * f64::from(ppq))
            .round()
            .min(MAX_TICK as f64) as u64
    };
    let beats = |tick: u64| tick as f64 / f64::from(ppq);

    // On the tick grid first (at least one tick long), so notes that meet on it overlap there.
    let on_grid: Vec<Note> = notes
        .iter()
        .filter(|n| n.pitch < 128 && n.start.is_finite() && n.duration.is_finite())
        .filter(|n| to_tick(n.start) < MAX_TICK)
        .map(|n| {
            let start = to_tick(n.start);
            let end = to_tick(n.end()).max(start + 1);
            Note {
                start: beats(start),
                duration: beats(end) - beats(start),
                pitch: n.pitch,
                velocity: n.velocity.clamp(1, 127),
            }
        })
        .collect();
    // (start, end, pitch, velocity) in ticks.
    let spans: Vec<(u64, u64, u8, u8)> = without_overlaps(&on_grid)
        .into_iter()
        .map(|n| (to_tick(n.start), to_tick(n.end()), n.pitch, n.velocity))
        .collect();

    // (tick, is_on, pitch, velocity): note-offs sort before note-ons on the same tick.
    let mut events: Vec<(u64, bool, u8, u8)> = Vec::with_capacity(spans.len() * 2);
    for (start, end, pitch, velocity) in spans {
        events.push((start, true, pitch, velocity));
        events.push((end, false, pitch, 0));
    }
    events.sort_unstable();

    let channel = u4::new(0);
    let tempo = (60_000_000.0 / options.bpm.clamp(1.0, 1000.0)).round() as u32;
    let mut track = vec![
        meta(MetaMessage::TrackName(options.track_name.as_bytes())),
        meta(MetaMessage::Tempo(u24::new(tempo))),
        meta(MetaMessage::TimeSignature(4, 2, 24, 8)),
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange {
                    program: u7::new(options.program & 0x7f),
                },
            },
        },
    ];
    let mut now = 0;
    for (tick, is_on, pitch, velocity) in events {
        let (key, vel) = (u7::new(pitch), u7::new(velocity));
        let message = if is_on {
            MidiMessage::NoteOn { key, vel }
        } else {
            MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }
        };
        track.push(TrackEvent {
            delta: u28::new((tick - now) as u32),
            kind: TrackEventKind::Midi { channel, message },
        });
        now = tick;
    }
    track.push(meta(MetaMessage::EndOfTrack));

    let smf = Smf {
        header: Header::new(Format::SingleTrack, Timing::Metrical(u15::new(ppq))),
        tracks: vec![track],
    };
    let mut bytes = Vec::new();
    smf.write_std(&mut bytes)
        .expect("writing to memory cannot fail");
    bytes
}

fn meta(message: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(message),
    }
}
