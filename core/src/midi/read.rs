//! Standard MIDI File → [`Score`]: every non-drum note of every track, timed in beats.
//!
//! Lenient where files in the wild are sloppy, bounded where they are hostile: midly parses
//! lazily (no allocation from declared lengths), a damaged track keeps the events before the
//! damage, and file size and note count are capped so no input can exhaust memory or time.

use midly::{MetaMessage, MidiMessage, TrackEventKind};

use super::DRUM_CHANNEL;
use super::tempo::{TempoChange, TempoMap};
use crate::error::MidiError;
use crate::meter::TimeSignature;
use crate::score::{Note, Score, ScoreInfo, Timing};

/// Real piano MIDI files are kilobytes; 16 MiB leaves two orders of magnitude of headroom.
pub const MAX_FILE_BYTES: u64 = 16 << 20;
/// Caps memory for the note list (and everything derived from it) at a few tens of MB.
pub const MAX_NOTES: usize = 2_000_000;

/// Tempo assumed when a file has absolute (SMPTE) time and so no beats of its own.
const SMPTE_NOMINAL_BPM: f64 = 120.0;

#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Keep channel-10 percussion notes (off by default: drums are not pitches).
    pub include_drums: bool,
    /// Hold released keys while the sustain pedal (CC64 ≥ 64) is down, as a piano does (on by
    /// default: pedalled piano files otherwise read as clipped staccato).
    pub sustain_pedal: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            include_drums: false,
            sustain_pedal: true,
        }
    }
}

/// The sustain (damper) pedal controller; values of 64 and up mean down.
const SUSTAIN_CONTROLLER: u8 = 64;

/// One track's notes and tempo changes in ticks.
#[derive(Default)]
struct TrackData {
    notes: Vec<Span>,
    /// (tick, microseconds per beat)
    tempos: Vec<(u64, u32)>,
    /// The first valid time signature and its tick.
    signature: Option<(u64, TimeSignature)>,
    end_tick: u64,
    damaged: bool,
    drum_notes: usize,
}

/// Parses a Standard MIDI File (format 0, 1 or 2, or RIFF-wrapped RMID).
pub fn read_midi(bytes: &[u8], options: &ReadOptions) -> Result<Score, MidiError> {
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(MidiError::TooLarge {
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let (header, track_iter) = midly::parse(bytes)?;
    let timing = match header.timing {
        midly::Timing::Metrical(ppq) if ppq.as_int() == 0 => return Err(MidiError::ZeroPpq),
        midly::Timing::Metrical(ppq) => Timing::Ppq {
            ticks_per_beat: ppq.as_int(),
        },
        midly::Timing::Timecode(fps, ticks_per_frame) => {
            if ticks_per_frame == 0 {
                return Err(MidiError::BadSmpte(fps.as_int()));
            }
            Timing::Smpte {
                fps: fps.as_int(),
                ticks_per_frame,
            }
        }
    };
    let format = match header.format {
        midly::Format::SingleTrack => 0,
        midly::Format::Parallel => 1,
        midly::Format::Sequential => 2,
    };

    let mut tracks = Vec::new();
    let mut total_notes = 0usize;
    let mut keys = KeyBoard::default();
    for track in track_iter {
        let data = read_track(track?, options, MAX_NOTES - total_notes, &mut keys)?;
        total_notes += data.notes.len();
        tracks.push(data);
    }

    let converter = TimeConverter::new(header.timing);
    let mut notes = Vec::with_capacity(total_notes);
    let mut tempo_changes = Vec::new();
    let mut tempo_events = 0;
    let mut length_beats = 0.0f64;
    if format == 2 {
        // Sequential patterns: each track plays after the previous one, with its own tempos.
        let mut offset = 0.0;
        for track in &tracks {
            converter.push_notes(track, offset, &mut notes);
            tempo_changes.extend(converter.tempo_changes(&track.tempos, offset));
            tempo_events += track.tempos.len();
            offset += converter.beats(track.end_tick);
        }
        length_beats = offset;
    } else {
        for track in &tracks {
            converter.push_notes(track, 0.0, &mut notes);
            tempo_changes.extend(converter.tempo_changes(&track.tempos, 0.0));
            tempo_events += track.tempos.len();
            length_beats = length_beats.max(converter.beats(track.end_tick));
        }
    }
    notes.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.pitch.cmp(&b.pitch)));

    let tempo_map = match timing {
        Timing::Ppq { .. } => TempoMap::from_changes(tempo_changes),
        Timing::Smpte { .. } => TempoMap::constant(SMPTE_NOMINAL_BPM),
    };
    // The piece's meter is the earliest one stated (a later change is not followed).
    let time_signature = tracks
        .iter()
        .filter_map(|t| t.signature)
        .min_by_key(|(tick, _)| *tick)
        .map(|(_, s)| s)
        .unwrap_or_default();
    let info = ScoreInfo {
        format,
        time_signature,
        tracks: tracks.len(),
        timing,
        tempo_changes: tempo_events,
        length_seconds: tempo_map.seconds_at(length_beats),
        length_beats,
        tempo_map,
        drum_notes_skipped: tracks.iter().map(|t| t.drum_notes).sum(),
        damaged_tracks: tracks.iter().filter(|t| t.damaged).count(),
    };
    Ok(Score { notes, info })
}

/// Pairs note-ons with note-offs in one track. A note-on for a key that is already sounding on
/// the same channel re-strikes it: the old note ends there, as on a real keyboard. With the
/// sustain pedal read, a key released while the pedal is down sounds on until the pedal lifts
/// (or the key is struck again). Notes still sounding at the end of the track end with it.
fn read_track(
    events: midly::EventIter<'_>,
    options: &ReadOptions,
    notes_left: usize,
    keys: &mut KeyBoard,
) -> Result<TrackData, MidiError> {
    let mut data = TrackData {
        damaged: true,
        ..TrackData::default()
    };
    let mut tick = 0u64;
    for event in events {
        let event = event?;
        tick += u64::from(event.delta.as_int());
        match event.kind {
            TrackEventKind::Midi { channel, message } => {
                let channel = channel.as_int();
                if channel == DRUM_CHANNEL && !options.include_drums {
                    if matches!(message, MidiMessage::NoteOn { vel, .. } if vel.as_int() > 0) {
                        data.drum_notes += 1;
                    }
                    continue;
                }
                match message {
                    MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => {
                        keys.strike(channel, key.as_int(), tick, vel.as_int(), &mut data.notes)
                    }
                    MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                        keys.lift(channel, key.as_int(), tick, &mut data.notes)
                    }
                    MidiMessage::Controller { controller, value }
                        if options.sustain_pedal && controller.as_int() == SUSTAIN_CONTROLLER =>
                    {
                        keys.pedal(channel, value.as_int() >= 64, tick, &mut data.notes)
                    }
                    _ => continue,
                }
                if data.notes.len() + keys.held > notes_left {
                    return Err(MidiError::TooManyNotes { limit: MAX_NOTES });
                }
            }
            TrackEventKind::Meta(MetaMessage::Tempo(us_per_beat)) => {
                data.tempos.push((tick, us_per_beat.as_int()));
            }
            TrackEventKind::Meta(MetaMessage::TimeSignature(numerator, power, ..))
                if data.signature.is_none() =>
            {
                data.signature = TimeSignature::from_midi(numerator, power).map(|s| (tick, s));
            }
            TrackEventKind::Meta(MetaMessage::EndOfTrack) => {
                data.damaged = false;
                break;
            }
            _ => {}
        }
    }
    data.end_tick = tick;
    keys.release_all(tick, &mut data.notes);
    Ok(data)
}

/// A key that sounds: struck, and either still down or held by the pedal.
#[derive(Clone, Copy)]
struct Sounding {
    start: u64,
    velocity: u8,
    /// The key is up; only the pedal keeps it sounding.
    pedalled: bool,
    /// Struck while the key was already sounding. A note-off at this same tick belongs to the
    /// note the strike ended (some sequencers write the new note-on before the old note-off).
    restruck: bool,
}

/// Which keys sound on which channel, reused across tracks: files may declare thousands of
/// tiny tracks, so per-track work stays proportional to the track's own events.
struct KeyBoard {
    /// Per channel × key.
    sounding: Vec<Option<Sounding>>,
    pedal_down: [bool; 16],
    held: usize,
}

impl Default for KeyBoard {
    fn default() -> Self {
        KeyBoard {
            sounding: vec![None; 16 * 128],
            pedal_down: [false; 16],
            held: 0,
        }
    }
}

/// (start tick, end tick, pitch, velocity)
type Span = (u64, u64, u8, u8);

impl KeyBoard {
    fn slot(channel: u8, key: u8) -> usize {
        usize::from(channel) * 128 + usize::from(key)
    }

    fn end(&mut self, slot: usize, tick: u64, out: &mut Vec<Span>) -> Option<Sounding> {
        let note = self.sounding[slot].take()?;
        self.held -= 1;
        out.push((note.start, tick, (slot % 128) as u8, note.velocity));
        Some(note)
    }

    fn strike(&mut self, channel: u8, key: u8, tick: u64, velocity: u8, out: &mut Vec<Span>) {
        let slot = Self::slot(channel, key);
        let restruck = self.end(slot, tick, out).is_some();
        self.held += 1;
        self.sounding[slot] = Some(Sounding {
            start: tick,
            velocity,
            pedalled: false,
            restruck,
        });
    }

    fn lift(&mut self, channel: u8, key: u8, tick: u64, out: &mut Vec<Span>) {
        let slot = Self::slot(channel, key);
        let Some(note) = self.sounding[slot].as_mut() else {
            return;
        };
        if note.restruck && note.start == tick {
            note.restruck = false;
        } else if self.pedal_down[usize::from(channel)] {
            note.pedalled = true;
        } else {
            self.end(slot, tick, out);
        }
    }

    /// Lifting the pedal ends every note it was holding on that channel.
    fn pedal(&mut self, channel: u8, down: bool, tick: u64, out: &mut Vec<Span>) {
        let was_down = std::mem::replace(&mut self.pedal_down[usize::from(channel)], down);
        if was_down && !down {
            let first = Self::slot(channel, 0);
            for slot in first..first + 128 {
                if self.sounding[slot].is_some_and(|n| n.pedalled) {
                    self.end(slot, tick, out);
                }
            }
        }
    }

    /// Ends every sounding note and lifts every pedal (at the end of a track).
    fn release_all(&mut self, tick: u64, out: &mut Vec<Span>) {
        self.pedal_down = [false; 16];
        if self.held == 0 {
            return;
        }
        for slot in 0..self.sounding.len() {
            self.end(slot, tick, out);
        }
    }
}
/// Ticks → beats for either kind of time division.
struct TimeConverter {
    beats_per_tick: f64,
    /// SMPTE files have no tempo of their own.
    absolute: bool,
}

impl TimeConverter {
    fn new(timing: midly::Timing) -> Self {
        match timing {
            midly::Timing::Metrical(ppq) => TimeConverter {
                beats_per_tick: 1.0 / f64::from(ppq.as_int()),
                absolute: false,
            },
            midly::Timing::Timecode(fps, ticks_per_frame) => {
                let seconds_per_tick = 1.0 / (f64::from(fps.as_f32()) * f64::from(ticks_per_frame));
                TimeConverter {
                    beats_per_tick: seconds_per_tick * SMPTE_NOMINAL_BPM / 60.0,
                    absolute: true,
                }
            }
        }
    }

    fn beats(&self, tick: u64) -> f64 {
        tick as f64 * self.beats_per_tick
    }

    fn push_notes(&self, track: &TrackData, offset: f64, out: &mut Vec<Note>) {
        out.extend(
            track
                .notes
                .iter()
                .map(|&(start, end, pitch, velocity)| Note {
                    start: offset + self.beats(start),
                    duration: self.beats(end - start),
                    pitch,
                    velocity,
                }),
        );
    }

    fn tempo_changes<'a>(
        &'a self,
        tempos: &'a [(u64, u32)],
        offset: f64,
    ) -> impl Iterator<Item = TempoChange> + 'a {
        tempos
            .iter()
            .filter(|_| !self.absolute)
            .filter(|(_, us_per_beat)| *us_per_beat > 0)
            .map(move |&(tick, us_per_beat)| TempoChange {
                beat: offset + self.beats(tick),
                bpm: 60_000_000.0 / f64::from(us_per_beat),
            })
    }
}
