#!/usr/bin/env python3
"""Where generated pieces' keys go, against their corpus (EXPERIMENTS.md, "Beethoven's keys").

    python3 -m pip install mido numpy
    for s in $(seq 1 16); do trainer-cli generate --model public/models/beethoven \
        --length 500 --seed $s --out /tmp/keys/s$s.mid; done
    python3 scripts/key_drift.py ../shared/data/midi/beethoven /tmp/keys/*.mid

For each piece: the key (Krumhansl-Kessler profiles) of its first 150 and last 250 notes and
the pitch-class distance between the two; for the corpus, the same over each piece's first
500 notes; then the pooled pitch-class histograms side by side.
"""
import glob
import os
import sys

import mido
import numpy as np

MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def pitches(path):
    """Note-on pitches in file order, drums left out."""
    out = []
    for track in mido.MidiFile(path).tracks:
        for msg in track:
            if msg.type == "note_on" and msg.velocity > 0 and msg.channel != 9:
                out.append(msg.note)
    return out


def histogram(ps):
    h = np.zeros(12)
    for p in ps:
        h[p % 12] += 1
    return h / max(1, h.sum())


def key(h):
    scores = [(np.corrcoef(h, np.roll(profile, k))[0, 1], NAMES[k] + suffix)
              for k in range(12) for profile, suffix in ((MAJOR, ""), (MINOR, "m"))]
    return max(scores)[1]


def distance(a, b):
    return 0.5 * np.abs(a - b).sum()


def main():
    corpus_dir, generated = sys.argv[1], sys.argv[2:]
    corpus, drifts = [], []
    for path in sorted(glob.glob(os.path.join(corpus_dir, "*.mid"))):
        try:
            ps = pitches(path)
        except Exception as error:  # a file mido cannot read is left out, and said so
            print(f"{path}: skipped ({error})", file=sys.stderr)
            continue
        corpus += ps
        if len(ps) >= 500:
            drifts.append(distance(histogram(ps[:150]), histogram(ps[250:500])))
    print(f"corpus: first 150 against notes 250-500, mean distance {np.mean(drifts):.3f} "
          f"over {len(drifts)} pieces")
    pooled, drifts = [], []
    for path in generated:
        ps = pitches(path)
        pooled += ps
        start, end = histogram(ps[:150]), histogram(ps[-250:])
        drifts.append(distance(start, end))
        print(f"{os.path.basename(path)}: {key(start)} -> {key(end)} ({drifts[-1]:.2f})")
    print(f"generated: mean distance {np.mean(drifts):.3f} over {len(drifts)} pieces")
    c, g = histogram(corpus), histogram(pooled)
    print(f"pooled pitch classes, corpus against generated (distance {distance(c, g):.3f}):")
    for i, name in enumerate(NAMES):
        print(f"  {name:<3} {c[i]:.3f} {g[i]:.3f}")


if __name__ == "__main__":
    main()
