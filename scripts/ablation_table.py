"""The per-style ablation table of EXPERIMENTS.md, from what scripts/ablation.sh left in
runs/ablation/<style>/: each row's `trainer-cli eval` output and its run's metrics.csv.

    python3 scripts/ablation_table.py final-fantasy beethoven jazz bach-chorales
"""
import csv
import re
import sys
from pathlib import Path

ROWS = ["scratch", "pedal", "pedal+velocity", "+transpose", "+stateful", "+meter"]
WHAT = {
    "scratch": "no pedal, no velocity, no transposition",
    "pedal": "+ sustain pedal read",
    "pedal+velocity": "+ 4 velocity buckets (the issue's baseline)",
    "+transpose": "+ transposition −5…+6 per window",
    "+stateful": "+ state carried through 8-window segments",
    "+meter": "+ transposition, + metric position",
}


def number_after(text, pattern):
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else None


def pair(text, label):
    """The generated and corpus means of a row of eval's comparison table."""
    found = re.search(rf"^{re.escape(label)}\s+([0-9.]+)\s+([0-9.]+)", text, re.M)
    return f"{float(found.group(1)):.2f} vs {float(found.group(2)):.2f}" if found else ""


def row(style_dir, name):
    report = style_dir / f"{name}.txt"
    if not report.exists():
        return None
    text = report.read_text()
    with open(style_dir / "runs" / name / "metrics.csv") as f:
        epochs = list(csv.DictReader(f))
    seconds = sum(float(e["seconds"]) for e in epochs) / len(epochs)
    fresh = number_after(text, r"^nats per note \(pitch \+ timing tokens over \d+ notes\): ([0-9.]+)")
    carried = number_after(text, r"carried through each piece.*nats per note ([0-9.]+)")
    pc = number_after(text, r"^pitch-class distance\s+([0-9.]+)")
    return fresh, [
        f"{carried:.3f}" if carried else "",
        f"{seconds:.0f}",
        pair(text, "mean note length (beats)"),
        pair(text, "mean onset gap (beats)"),
        pair(text, "onsets on a beat"),
        pair(text, "distinct 4-grams"),
        f"{pc:.3f}" if pc is not None else "",
    ]


def main(styles):
    for style in styles:
        style_dir = Path("runs/ablation") / style
        print(f"\n**{style}**\n")
        print("| row | what changes | nats per note | × baseline | carried state | s/epoch | note length (gen vs corpus) | onset gap | onsets on a beat | distinct 4-grams | pitch-class distance |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rows = {name: row(style_dir, name) for name in ROWS}
        base = rows.get("pedal+velocity")
        for name in ROWS:
            if rows[name] is None:
                print(f"| {name} | {WHAT[name]} | not run | | | | | | | | |")
                continue
            fresh, rest = rows[name]
            ratio = f"{fresh / base[0]:.3f}" if base and fresh else ""
            print(f"| {name} | {WHAT[name]} | {fresh:.3f} | {ratio} | " + " | ".join(rest) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["final-fantasy", "beethoven", "jazz", "bach-chorales"])
