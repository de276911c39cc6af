//! Hearing the notes on Web Audio: a sampled piano (with a synthesized fallback), a player
//! that schedules a piece on the audio clock, so timing does not depend on the page's timers,
//! and an offline render of the same playback to a WAV file.
//!
//! - [`piano`]: the sample set, loaded once.
//! - [`voice`]: one note, sampled or synthesized, on any audio context.
//! - [`wav`]: the offline render and the WAV encoding.

pub mod piano;
pub mod voice;
pub mod wav;

use std::collections::VecDeque;
use std::rc::Rc;

use motif::Note;
use web_sys::{AudioContext, AudioScheduledSourceNode, BaseAudioContext, GainNode};

use piano::Piano;
use voice::{Voice, err};

/// Audio after the last note's end before the player counts as finished.
const TAIL_SECONDS: f64 = 0.6;
/// How far ahead of the audio clock notes are handed to Web Audio. Scheduling a whole piece at
/// once made thousands of nodes in one task on the page's thread (Play on 1,500 notes); this
/// makes a few dozen per top-up and still rides out a timer the browser delays by a second.
const LOOKAHEAD_SECONDS: f64 = 2.0;

/// The voices' common path to the speakers: a bus whose gain leaves room for chords, into a
/// compressor that catches the peaks of dense ones.
fn mixer(context: &BaseAudioContext) -> Result<GainNode, String> {
    let output = context.create_dynamics_compressor().map_err(err)?;
    output
        .connect_with_audio_node(&context.destination())
        .map_err(err)?;
    let bus = context.create_gain().map_err(err)?;
    bus.gain().set_value(0.35);
    bus.connect_with_audio_node(&output).map_err(err)?;
    Ok(bus)
}

/// The voice to play with: the piano once it has loaded, the synthesized one before (or if it
/// failed, with the reason).
fn voice_for(
    context: &BaseAudioContext,
    piano: Option<Result<Rc<Piano>, String>>,
) -> Result<(Voice, Option<String>), String> {
    match piano {
        Some(Ok(piano)) => Ok((Voice::Piano(piano), None)),
        Some(Err(why)) => Ok((Voice::synth(context)?, Some(why))),
        None => Ok((Voice::synth(context)?, None)),
    }
}

pub struct Player {
    context: AudioContext,
    playing: Option<Playback>,
}

struct Playback {
    bus: GainNode,
    voice: Voice,
    sources: Vec<AudioScheduledSourceNode>,
    /// Notes not yet handed to Web Audio, in order of start.
    pending: VecDeque<Note>,
    /// The beat playback started from, sounding at `started_at` on the audio clock.
    from_beat: f64,
    started_at: f64,
    beats_per_second: f64,
    end_seconds: f64,
}

impl Player {
    /// Creates the audio context and starts loading the piano; call it from a click
    /// (browsers block audio before one).
    pub fn new() -> Result<Player, String> {
        let context = AudioContext::new().map_err(err)?;
        let _ = piano::piano_now(&context);
        Ok(Player {
            context,
            playing: None,
        })
    }

    /// Resumes the audio context; call it inside the click that asks for sound.
    pub fn wake(&self) {
        let _ = self.context.resume();
    }

    pub fn context(&self) -> &BaseAudioContext {
        &self.context
    }

    /// Plays `notes` (beats) at `bpm` from beat `from` (notes starting earlier are left out),
    /// replacing whatever was playing, with the piano if it has loaded. Returns the voice's
    /// name, and why the piano is missing if it failed to load.
    pub fn play(
        &mut self,
        notes: &[Note],
        bpm: f64,
        from: f64,
    ) -> Result<(String, Option<String>), String> {
        self.stop();
        let _ = self.context.resume();
        let (voice, problem) = voice_for(&self.context, piano::piano_now(&self.context))?;
        let name = voice.name().to_string();
        let mut playback = Playback {
            bus: mixer(&self.context)?,
            voice,
            sources: Vec::new(),
            pending: VecDeque::new(),
            from_beat: from,
            started_at: self.context.current_time() + 0.1,
            beats_per_second: bpm / 60.0,
            end_seconds: 0.0,
        };
        playback.enqueue(notes.iter().filter(|n| n.start >= from));
        playback.top_up(&self.context)?;
        self.playing = Some(playback);
        Ok((name, problem))
    }

    /// Adds notes that came after Play was pressed (generation runs ahead of playback), timed
    /// from the same start; a note whose moment has passed is left out.
    pub fn extend(&mut self, notes: &[Note]) -> Result<(), String> {
        let Some(playback) = self.playing.as_mut() else {
            return Ok(());
        };
        let now = self.context.current_time();
        let from = playback.from_beat;
        let upcoming: Vec<&Note> = notes
            .iter()
            .filter(|n| n.start >= from && playback.at(n.start) >= now)
            .collect();
        playback.enqueue(upcoming.into_iter());
        playback.top_up(&self.context)
    }

    /// Silences everything at once (a 20 ms fade, no click).
    pub fn stop(&mut self) {
        if let Some(playback) = self.playing.take() {
            let now = self.context.current_time();
            let _ = playback.bus.gain().set_target_at_time(0.0, now, 0.005);
            for source in &playback.sources {
                let _ = source.stop_with_when(now + 0.03);
            }
        }
    }

    /// The beat under the playback cursor, or `None` once the piece has finished. Call it
    /// often (the page does, for the cursor): it also hands the next notes to Web Audio.
    pub fn position(&mut self) -> Result<Option<f64>, String> {
        let Some(playback) = self.playing.as_mut() else {
            return Ok(None);
        };
        let elapsed = self.context.current_time() - playback.started_at;
        if elapsed > playback.end_seconds + TAIL_SECONDS {
            self.playing = None;
            return Ok(None);
        }
        playback.top_up(&self.context)?;
        Ok(Some(
            playback.from_beat + elapsed.max(0.0) * playback.beats_per_second,
        ))
    }

    /// Notes of this playback handed to Web Audio so far (the rest wait for the clock).
    pub fn handed(&self) -> usize {
        self.playing.as_ref().map_or(0, |p| p.sources.len())
    }

    pub fn is_playing(&self) -> bool {
        self.playing.is_some()
    }
}

impl Playback {
    /// When `beat` sounds, on the audio clock.
    fn at(&self, beat: f64) -> f64 {
        self.started_at + (beat - self.from_beat) / self.beats_per_second
    }

    /// Queues notes to be played; the piece lasts until the last one ends.
    fn enqueue<'a>(&mut self, notes: impl Iterator<Item = &'a Note>) {
        let before = self.pending.len();
        for note in notes {
            self.end_seconds = self.end_seconds.max(self.at(note.end()) - self.started_at);
            self.pending.push_back(*note);
        }
        let sorted = |p: &VecDeque<Note>| {
            p.iter()
                .zip(p.iter().skip(1))
                .all(|(a, b)| a.start <= b.start)
        };
        if self.pending.len() > before && !sorted(&self.pending) {
            self.pending
                .make_contiguous()
                .sort_by(|a, b| a.start.total_cmp(&b.start));
        }
    }

    /// Hands Web Audio the queued notes that start within [`LOOKAHEAD_SECONDS`].
    fn top_up(&mut self, context: &BaseAudioContext) -> Result<(), String> {
        let horizon = context.current_time() + LOOKAHEAD_SECONDS;
        while let Some(note) = self.pending.front().copied() {
            let (start, end) = (self.at(note.start), self.at(note.end()));
            if start > horizon {
                break;
            }
            self.pending.pop_front();
            let source =
                self.voice
                    .play(context, &self.bus, note.pitch, note.velocity, start, end)?;
            self.sources.push(source);
        }
        Ok(())
    }
}
