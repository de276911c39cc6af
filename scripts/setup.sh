#!/usr/bin/env bash
# Sourced by the other scripts: installs what building and testing need, each step skipped
# when already done, and sets the shared build folders.

command -v cargo >/dev/null || { echo "error: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

# wgpu needs a Vulkan driver; on a machine without a GPU, Mesa's lavapipe runs it on the CPU.
if ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
  echo "== installing mesa-vulkan-drivers (Vulkan on the CPU for the wgpu tests)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# Builds are slow on small machines: keep them outside the checkout so a fresh clone on the
# same machine (as CI makes) reuses them; native and wasm builds get separate folders.
export MOTIF_CACHE=${MOTIF_CACHE:-$HOME/.cache/motif}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$MOTIF_CACHE/target}
export MOTIF_MIDI_DIR=${MOTIF_MIDI_DIR:-$(cd .. && pwd)/shared/data/midi}
# wgpu wants a writable runtime folder.
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$MOTIF_CACHE/xdg-runtime}
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
