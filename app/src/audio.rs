//! Hearing the notes: a small piano-like voice on Web Audio (a struck-string spectrum, a fast
//! attack, a pitch-dependent decay, a filter that darkens as the note rings, a short release) and
//! a player that schedules a whole piece on the audio clock, so timing does not depend on the
//! page's timers.

use motif::Note;
use web_sys::{
    AudioContext, BiquadFilterType, DynamicsCompressorNode, GainNode, OscillatorNode, PeriodicWave,
};

use crate::web::js_message;

/// Harmonics in the periodic wave (the 0th is DC).
const HARMONICS: usize = 16;
/// Audio after the last note's end before the player counts as finished.
const TAIL_SECONDS: f64 = 0.6;

pub struct Player {
    context: AudioContext,
    wave: PeriodicWave,
    output: DynamicsCompressorNode,
    playing: Option<Playback>,
}

struct Playback {
    bus: GainNode,
    voices: Vec<OscillatorNode>,
    started_at: f64,
    beats_per_second: f64,
    end_seconds: f64,
}

fn err(e: wasm_bindgen::JsValue) -> String {
    js_message(&e)
}

impl Player {
    /// Creates the audio context; call it from a click (browsers block audio before one).
    pub fn new() -> Result<Player, String> {
        let context = AudioContext::new().map_err(err)?;
        // A struck string: strong low partials falling off with n, odd and even alike, a dip
        // around the 7th as a hammer striking near 1/7 of the string gives.
        let mut real = vec![0.0f32; HARMONICS];
        let mut imag = vec![0.0f32; HARMONICS];
        for (n, value) in imag.iter_mut().enumerate().skip(1) {
            let hammer = if n % 7 == 0 { 0.3 } else { 1.0 };
            *value = hammer / (n as f32).powf(1.4);
        }
        let wave = context
            .create_periodic_wave(&mut real, &mut imag)
            .map_err(err)?;
        let output = context.create_dynamics_compressor().map_err(err)?;
        output
            .connect_with_audio_node(&context.destination())
            .map_err(err)?;
        Ok(Player {
            context,
            wave,
            output,
            playing: None,
        })
    }

    /// Plays `notes` (beats) at `bpm` from the start, replacing whatever was playing.
    pub fn play(&mut self, notes: &[Note], bpm: f64) -> Result<(), String> {
        self.stop();
        let _ = self.context.resume();
        let bus = self.context.create_gain().map_err(err)?;
        // Loudness per voice falls with polyphony so chords do not clip the compressor.
        bus.gain().set_value(0.35);
        bus.connect_with_audio_node(&self.output).map_err(err)?;
        let beats_per_second = bpm / 60.0;
        let started_at = self.context.current_time() + 0.1;
        let mut voices = Vec::with_capacity(notes.len());
        let mut end_seconds: f64 = 0.0;
        for note in notes {
            let start = started_at + note.start / beats_per_second;
            let end = started_at + note.end() / beats_per_second;
            end_seconds = end_seconds.max(end - started_at);
            voices.push(self.voice(&bus, note.pitch, note.velocity, start, end)?);
        }
        self.playing = Some(Playback {
            bus,
            voices,
            started_at,
            beats_per_second,
            end_seconds,
        });
        Ok(())
    }

    /// Adds notes that came after Play was pressed (generation runs ahead of playback), timed
    /// from the same start; a note whose moment has passed is left out.
    pub fn extend(&mut self, notes: &[Note]) -> Result<(), String> {
        let Some(mut playback) = self.playing.take() else {
            return Ok(());
        };
        let now = self.context.current_time();
        let mut result = Ok(());
        for note in notes {
            let start = playback.started_at + note.start / playback.beats_per_second;
            if start < now {
                continue;
            }
            let end = playback.started_at + note.end() / playback.beats_per_second;
            match self.voice(&playback.bus, note.pitch, note.velocity, start, end) {
                Ok(voice) => playback.voices.push(voice),
                Err(message) => {
                    result = Err(message);
                    break;
                }
            }
            playback.end_seconds = playback.end_seconds.max(end - playback.started_at);
        }
        self.playing = Some(playback);
        result
    }

    fn voice(
        &self,
        bus: &GainNode,
        pitch: u8,
        velocity: u8,
        start: f64,
        end: f64,
    ) -> Result<OscillatorNode, String> {
        let frequency = 440.0 * 2f64.powf((f64::from(pitch) - 69.0) / 12.0);
        let loudness = (f64::from(velocity.max(1)) / 127.0).powf(1.5);
        // Low strings ring for seconds, high ones die quickly.
        let decay = (1.6 * 2f64.powf(-(f64::from(pitch) - 48.0) / 24.0)).clamp(0.25, 3.0);
        let end = end.max(start + 0.05);

        let oscillator = self.context.create_oscillator().map_err(err)?;
        oscillator.set_periodic_wave(&self.wave);
        oscillator.frequency().set_value(frequency as f32);

        let filter = self.context.create_biquad_filter().map_err(err)?;
        filter.set_type(BiquadFilterType::Lowpass);
        let bright = (frequency * (6.0 + 10.0 * loudness)).min(16_000.0) as f32;
        let dark = (frequency * 2.5).min(16_000.0) as f32;
        filter
            .frequency()
            .set_value_at_time(bright, start)
            .map_err(err)?;
        filter
            .frequency()
            .set_target_at_time(dark, start, decay * 0.5)
            .map_err(err)?;

        let envelope = self.context.create_gain().map_err(err)?;
        let gain = envelope.gain();
        gain.set_value_at_time(0.0, start).map_err(err)?;
        gain.linear_ramp_to_value_at_time((0.5 * loudness) as f32, start + 0.004)
            .map_err(err)?;
        gain.set_target_at_time(0.0, start + 0.004, decay)
            .map_err(err)?;
        gain.set_target_at_time(0.0, end, 0.06).map_err(err)?;

        oscillator.connect_with_audio_node(&filter).map_err(err)?;
        filter.connect_with_audio_node(&envelope).map_err(err)?;
        envelope.connect_with_audio_node(bus).map_err(err)?;
        oscillator.start_with_when(start).map_err(err)?;
        oscillator.stop_with_when(end + 0.5).map_err(err)?;
        Ok(oscillator)
    }

    /// Silences everything at once (a 20 ms fade, no click).
    pub fn stop(&mut self) {
        if let Some(playback) = self.playing.take() {
            let now = self.context.current_time();
            let _ = playback.bus.gain().set_target_at_time(0.0, now, 0.005);
            for voice in &playback.voices {
                let _ = voice.stop_with_when(now + 0.03);
            }
        }
    }

    /// The beat under the playback cursor, or `None` once the piece has finished.
    pub fn position(&mut self) -> Option<f64> {
        let playback = self.playing.as_ref()?;
        let elapsed = self.context.current_time() - playback.started_at;
        if elapsed > playback.end_seconds + TAIL_SECONDS {
            self.playing = None;
            return None;
        }
        Some(elapsed.max(0.0) * playback.beats_per_second)
    }

    pub fn is_playing(&self) -> bool {
        self.playing.is_some()
    }
}
