#!/usr/bin/env python3
"""Piano rolls of MIDI files, one row each, for EXPERIMENTS.md: velocity as colour, beats and
4/4 bars as grid lines, the first BEATS beats only (default 32).
    python3 scripts/roll.py out.png a.mid b.mid ...   (needs: pip install mido matplotlib)"""
import os
import sys

import matplotlib
import mido

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

beats = float(os.environ.get("BEATS", 32))
paths = sys.argv[2:]
fig, axes = plt.subplots(len(paths), 1, figsize=(14, 2.8 * len(paths)), squeeze=False)
for ax, path in zip(axes[:, 0], paths):
    midi = mido.MidiFile(path)
    tick, sounding, notes = 0, {}, []
    for message in mido.merge_tracks(midi.tracks):
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            sounding[message.note] = (tick, message.velocity)
        elif message.type in ("note_off", "note_on") and message.note in sounding:
            start, velocity = sounding.pop(message.note)
            notes.append((start / midi.ticks_per_beat, (tick - start) / midi.ticks_per_beat,
                          message.note, velocity))
    shown = [n for n in notes if n[0] < beats]
    for start, length, pitch, velocity in shown:
        ax.barh(pitch, length, left=start, height=0.8, color=plt.cm.viridis(velocity / 127))
    for beat in range(int(beats) + 1):
        ax.axvline(beat, color="0.3" if beat % 4 == 0 else "0.85", lw=0.6, zorder=0)
    ax.set_xlim(0, beats)
    ax.set_title(f"{os.path.basename(path)} (first {beats:.0f} beats: {len(shown)} notes; "
                 "velocity as colour)", fontsize=9)
    ax.set_ylabel("pitch")
axes[-1, 0].set_xlabel("beats")
plt.tight_layout()
plt.savefig(sys.argv[1], dpi=70)
