#!/usr/bin/env bash
# Makes the page's piano sample set (public/piano/piano.ogg + piano.json) from the FluidR3 GM
# SoundFont (MIT) with FluidSynth. The result is committed; run this only to remake it.
set -euo pipefail
cd "$(dirname "$0")/.."
soundfont=/usr/share/sounds/sf2/FluidR3_GM.sf2
missing=()
[ -f "$soundfont" ] || missing+=(fluid-soundfont-gm)
command -v fluidsynth >/dev/null || missing+=(fluidsynth)
command -v sox >/dev/null || missing+=(sox libsox-fmt-all)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p public/piano
python3 scripts/piano_samples.py "$soundfont" public/piano
