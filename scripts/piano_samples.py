#!/usr/bin/env python3
"""Renders the page's piano sample set from a SoundFont with FluidSynth.

One note per (pitch, velocity layer) is rendered dry, trimmed to its onset, cut to a length
that suits its register, faded out, brought to one peak level, and laid end to end in one mono
file, so the page makes one request and one decode. The layers give the timbre of soft and
loud playing; the page sets the loudness from each note's velocity. The manifest says where
each zone starts. Standard library only.

Usage: piano_samples.py SOUNDFONT OUT_DIR
"""
import array
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 32000
PITCHES = list(range(21, 109, 3))  # A0 to C8 in minor thirds: at most 1.5 semitones resampled
VELOCITIES = [40, 80, 115]  # soft, medium, loud: the SoundFont's timbre changes with them
GAP = 0.05  # silence between zones, seconds


def length_for(pitch):
    """Low strings ring long, high ones die fast: keep what is audible."""
    if pitch < 48:
        return 3.0
    if pitch < 72:
        return 2.4
    return 1.6


def midi_file(pitch, velocity, seconds):
    """A format-0 file: grand piano (program 0), one note held `seconds` (120 BPM, 480 ppq)."""
    ticks = int(seconds * 960)

    def varlen(n):
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.insert(0, (n & 0x7F) | 0x80)
            n >>= 7
        return bytes(out)

    track = (
        b"\x00\xc0\x00"
        + b"\x00\x90" + bytes([pitch, velocity])
        + varlen(ticks) + b"\x80" + bytes([pitch, 0])
        + b"\x00\xff\x2f\x00"
    )
    return (
        b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
        + b"MTrk" + struct.pack(">I", len(track)) + track
    )


def render(soundfont, pitch, velocity, seconds, work):
    mid = os.path.join(work, "note.mid")
    wav = os.path.join(work, "note.wav")
    with open(mid, "wb") as f:
        f.write(midi_file(pitch, velocity, seconds + 0.5))
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(RATE),
         "-T", "wav", "-F", wav, soundfont, mid],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with wave.open(wav) as w:
        assert w.getsampwidth() == 2 and w.getframerate() == RATE, "16-bit at the asked rate"
        frames = array.array("h", w.readframes(w.getnframes()))
        channels = w.getnchannels()
    mono = [sum(frames[i:i + channels]) / (channels * 32768.0) for i in range(0, len(frames), channels)]
    # The onset: the first sample above -60 dB, less 1 ms so the attack is kept whole.
    onset = next((i for i, x in enumerate(mono) if abs(x) > 1e-3), 0)
    onset = max(0, onset - RATE // 1000)
    cut = mono[onset:onset + int(seconds * RATE)]
    fade = int(len(cut) * 0.3)
    for i in range(fade):
        cut[len(cut) - fade + i] *= 0.5 * (1 + math.cos(math.pi * i / fade))
    peak = max(abs(x) for x in cut)
    return [x * 0.89 / peak for x in cut]


def main():
    soundfont, out = sys.argv[1], sys.argv[2]
    zones, audio = [], []
    with tempfile.TemporaryDirectory() as work:
        for velocity in VELOCITIES:
            for pitch in PITCHES:
                seconds = length_for(pitch)
                samples = render(soundfont, pitch, velocity, seconds, work)
                zones.append({"pitch": pitch, "velocity": velocity,
                              "start": round(len(audio) / RATE, 6),
                              "length": round(len(samples) / RATE, 6)})
                audio.extend(samples)
                audio.extend([0.0] * int(GAP * RATE))
        pcm = array.array("h", (int(max(-1.0, min(1.0, x)) * 32767) for x in audio))
        wav = os.path.join(work, "piano.wav")
        with wave.open(wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm.tobytes())
        ogg = os.path.join(out, "piano.ogg")
        subprocess.run(["sox", wav, "-C", "3", ogg + ".tmp.ogg"], check=True)
        os.replace(ogg + ".tmp.ogg", ogg)
    manifest = {
        "source": "FluidR3 GM SoundFont (Frank Wen, MIT licence), Debian package fluid-soundfont-gm; "
                  "program 0 (Yamaha grand piano), rendered dry with FluidSynth by scripts/make-piano-samples.sh",
        "sample_rate": RATE,
        "zones": zones,
    }
    tmp = os.path.join(out, "piano.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "piano.json"))
    print(f"{len(zones)} zones, {len(audio) / RATE:.1f} s of audio, "
          f"{os.path.getsize(ogg) / 1e6:.2f} MB in {ogg}")


if __name__ == "__main__":
    main()
