//! Download audio: the piece rendered offline through the same voices and mixer as playback,
//! as a 16-bit mono WAV file.

use motif::Note;
use motif::score::without_overlaps;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AudioBuffer, BaseAudioContext, OfflineAudioContext};

use super::voice::err;
use super::{mixer, piano, voice_for};

const SAMPLE_RATE: u32 = 44_100;
/// Silence before the first note, and room for the last one to ring out.
const LEAD_SECONDS: f64 = 0.05;
const TAIL_SECONDS: f64 = 2.0;

/// Renders `notes` (beats) at `bpm`; returns the WAV bytes and the voice it used. Waits for the
/// piano to load; if it cannot, renders the synthesized voice. A key's overlapping notes are cut
/// as the MIDI file cuts them, so the WAV lasts as long as the file.
pub async fn render(notes: &[Note], bpm: f64) -> Result<(Vec<u8>, &'static str), String> {
    let notes = without_overlaps(notes);
    let beats_per_second = bpm / 60.0;
    let last = notes.iter().map(|n| n.end()).fold(0.0, f64::max);
    let seconds = LEAD_SECONDS + last / beats_per_second + TAIL_SECONDS;
    let frames = (seconds * f64::from(SAMPLE_RATE)).ceil() as u32;
    let offline = OfflineAudioContext::new_with_number_of_channels_and_length_and_sample_rate(
        1,
        frames,
        SAMPLE_RATE as f32,
    )
    .map_err(err)?;
    let context: &BaseAudioContext = &offline;
    let (voice, _) = voice_for(context, piano::piano_within(context, 60_000.0).await)?;
    let bus = mixer(context)?;
    for note in &notes {
        let start = LEAD_SECONDS + note.start / beats_per_second;
        let end = LEAD_SECONDS + note.end() / beats_per_second;
        voice.play(context, &bus, note.pitch, note.velocity, start, end)?;
    }
    let rendered: AudioBuffer = JsFuture::from(offline.start_rendering().map_err(err)?)
        .await
        .map_err(err)?
        .unchecked_into();
    let samples = rendered.get_channel_data(0).map_err(err)?;
    Ok((encode(&samples, SAMPLE_RATE), voice.name()))
}

/// RIFF/WAVE, PCM, one channel, 16 bits.
fn encode(samples: &[f32], sample_rate: u32) -> Vec<u8> {
    let data_bytes = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_bytes as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // format chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_bytes.to_le_bytes());
    for &s in samples {
        let value = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        out.extend_from_slice(&value.to_le_bytes());
    }
    out
}
