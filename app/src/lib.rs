//! The web page: pick a style, generate in the browser (WebGPU or the CPU), see the notes on a
//! piano roll, hear them and download them. All music logic lives in `motif` (core); this crate
//! is the browser around it.
//!
//! - [`web`]: small wrappers over browser APIs (fetch, files, downloads, yielding).
//! - [`backend`]: which device runs the model, and why.
//! - [`bundles`]: the style list and verified model bundles.
//! - [`generation`]: the streaming generation loop.
//! - [`audio`]: the Web Audio piano voice and player.
//! - [`roll`]: the piano roll canvas.
//! - [`ui`]: the Leptos components.

pub mod audio;
pub mod backend;
pub mod bundles;
pub mod generation;
pub mod roll;
pub mod ui;
pub mod web;

pub use ui::App;
