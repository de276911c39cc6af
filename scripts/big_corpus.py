#!/usr/bin/env python3
"""Makes a large synthetic corpus for measuring how training scales with the number of files
(issue 12): every file of the shared corpora, transposed by -5..+6 semitones and at three
tempos, until COUNT files are written. Drum notes (channel 10) are left alone. Standard
library only.

Usage: big_corpus.py SHARED_MIDI_DIR OUT_DIR COUNT
"""
import os
import struct
import sys

SHIFTS = [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6]
TEMPOS = [1.0, 0.9, 1.12]


def varlen(data, at):
    value = 0
    while True:
        b = data[at]
        at += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, at


def rewrite_track(track, shift, tempo):
    out = bytearray(track)
    at, status = 0, 0
    while at < len(out):
        _, at = varlen(out, at)
        if out[at] & 0x80:
            status = out[at]
            at += 1
        if status == 0xFF:
            kind = out[at]
            length, data = varlen(out, at + 1)
            if kind == 0x51 and length == 3:
                micros = int.from_bytes(out[data:data + 3], "big")
                out[data:data + 3] = min(0xFFFFFF, int(micros * tempo)).to_bytes(3, "big")
            at = data + length
        elif status in (0xF0, 0xF7):
            length, at = varlen(out, at)
            at += length
        else:
            kind, channel = status & 0xF0, status & 0x0F
            if kind in (0x80, 0x90, 0xA0) and channel != 9:
                out[at] = max(0, min(127, out[at] + shift))
            at += 1 if kind in (0xC0, 0xD0) else 2
    return bytes(out)


def rewrite(data, shift, tempo):
    if data[:4] != b"MThd":
        return None
    at = 8 + struct.unpack(">I", data[4:8])[0]
    out = bytearray(data[:at])
    while at + 8 <= len(data):
        length = struct.unpack(">I", data[at + 4:at + 8])[0]
        body = data[at + 8:at + 8 + length]
        if data[at:at + 4] == b"MTrk":
            body = rewrite_track(body, shift, tempo)
        out += data[at:at + 8] + body
        at += 8 + length
    return bytes(out)


def main():
    source, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(source)
        for name in names
        if name.lower().endswith((".mid", ".midi"))
    )
    os.makedirs(out, exist_ok=True)
    written = 0
    for tempo in TEMPOS:
        for shift in SHIFTS:
            for path in files:
                if written >= count:
                    print(f"{written} files in {out}")
                    return
                try:
                    data = rewrite(open(path, "rb").read(), shift, tempo)
                except (IndexError, struct.error):
                    data = None
                if data is None:
                    continue
                name = f"{written:06d}-{os.path.basename(path).rsplit('.', 1)[0]}-t{shift:+d}-x{tempo}.mid"
                with open(os.path.join(out, name), "wb") as f:
                    f.write(data)
                written += 1
    print(f"{written} files in {out} (all variants used)")


if __name__ == "__main__":
    main()
