//! The two voices a note can be played with: the sampled piano, and the synthesized one it
//! falls back to (a struck-string spectrum, a fast attack, a pitch-dependent decay, a filter
//! that darkens as the note rings). Both schedule on any audio context, live or offline.

use std::rc::Rc;

use web_sys::{
    AudioNode, AudioScheduledSourceNode, BaseAudioContext, BiquadFilterType, PeriodicWave,
};

use super::piano::Piano;
use crate::web::js_message;

/// Harmonics in the synthesized voice's periodic wave (the 0th is DC).
const HARMONICS: usize = 16;
/// From this key up a piano has no dampers: the note rings on after the key is released.
const FIRST_UNDAMPED: u8 = 89;

pub enum Voice {
    Piano(Rc<Piano>),
    Synth(PeriodicWave),
}

pub(crate) fn err(e: wasm_bindgen::JsValue) -> String {
    js_message(&e)
}

/// Loudness from MIDI velocity, on a curve that sounds even to the ear.
fn loudness(velocity: u8) -> f64 {
    (f64::from(velocity.max(1)) / 127.0).powf(1.5)
}

/// How fast the damper silences a released key (time constant, seconds): bass strings are
/// heavier and stop more slowly.
fn damper_seconds(pitch: u8) -> f64 {
    (0.3 * 2f64.powf(-(f64::from(pitch) - 36.0) / 24.0)).clamp(0.05, 0.3)
}

impl Voice {
    pub fn synth(context: &BaseAudioContext) -> Result<Voice, String> {
        // A struck string: strong low partials falling off with n, odd and even alike, a dip
        // around the 7th as a hammer striking near 1/7 of the string gives.
        let mut real = vec![0.0f32; HARMONICS];
        let mut imag = vec![0.0f32; HARMONICS];
        for (n, value) in imag.iter_mut().enumerate().skip(1) {
            let hammer = if n % 7 == 0 { 0.3 } else { 1.0 };
            *value = hammer / (n as f32).powf(1.4);
        }
        Ok(Voice::Synth(
            context
                .create_periodic_wave(&mut real, &mut imag)
                .map_err(err)?,
        ))
    }

    /// Said in the page, so a listener knows which sound they hear.
    pub fn name(&self) -> &'static str {
        match self {
            Voice::Piano(_) => "piano (FluidR3 samples)",
            Voice::Synth(_) => "synthesized piano",
        }
    }

    /// Schedules one note (audio-clock seconds) into `bus`.
    pub fn play(
        &self,
        context: &BaseAudioContext,
        bus: &AudioNode,
        pitch: u8,
        velocity: u8,
        start: f64,
        end: f64,
    ) -> Result<AudioScheduledSourceNode, String> {
        let end = end.max(start + 0.05);
        match self {
            Voice::Piano(piano) => {
                let zone = piano.zone(pitch, velocity);
                let rate = 2f64.powf((f64::from(pitch) - f64::from(zone.pitch)) / 12.0);
                let source = context.create_buffer_source().map_err(err)?;
                source.set_buffer(Some(&piano.buffer));
                source.playback_rate().set_value(rate as f32);
                let envelope = context.create_gain().map_err(err)?;
                let gain = envelope.gain();
                gain.set_value_at_time((0.9 * loudness(velocity)) as f32, start)
                    .map_err(err)?;
                let natural_end = start + zone.length / rate;
                let stop = if pitch >= FIRST_UNDAMPED {
                    natural_end
                } else {
                    let damper = damper_seconds(pitch);
                    gain.set_target_at_time(0.0, end, damper).map_err(err)?;
                    natural_end.min(end + 6.0 * damper)
                };
                source.connect_with_audio_node(&envelope).map_err(err)?;
                envelope.connect_with_audio_node(bus).map_err(err)?;
                source
                    .start_with_when_and_grain_offset_and_grain_duration(
                        start,
                        zone.start,
                        zone.length,
                    )
                    .map_err(err)?;
                let source: AudioScheduledSourceNode = source.into();
                source.stop_with_when(stop).map_err(err)?;
                Ok(source)
            }
            Voice::Synth(wave) => {
                let frequency = 440.0 * 2f64.powf((f64::from(pitch) - 69.0) / 12.0);
                let loudness = loudness(velocity);
                // Low strings ring for seconds, high ones die quickly.
                let decay = (1.6 * 2f64.powf(-(f64::from(pitch) - 48.0) / 24.0)).clamp(0.25, 3.0);

                let oscillator = context.create_oscillator().map_err(err)?;
                oscillator.set_periodic_wave(wave);
                oscillator.frequency().set_value(frequency as f32);

                let filter = context.create_biquad_filter().map_err(err)?;
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

                let envelope = context.create_gain().map_err(err)?;
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
                Ok(oscillator.into())
            }
        }
    }
}
