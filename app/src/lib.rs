//! The web page: pick a style, generate in the browser (WebGPU or the CPU), see the notes on a
//! piano roll, hear them and download them. All music logic lives in `motif` (core); this crate
//! is the browser around it.
//!
//! The model runs in a dedicated worker, a second wasm built with the `engine` feature (the CPU;
//! `src/bin/engine_cpu.rs`) or the `webgpu` feature (WebGPU too; `src/bin/engine.rs`), so the
//! page's main thread only renders and plays and the page's wasm holds no ML engine:
//! - [`engine`]: the page's handle on the worker, and which build it starts; [`protocol`]: what
//!   they say to each other.
//! - [`gpu`]: what WebGPU adapter the browser offers.
//! - [`worker`] (engine): the worker, owner of the backend, the models and the generators.
//! - [`backend`] (engine): which device runs the model, and why.
//! - [`loading`] (engine): fetching, verifying and warming up a style's bundle.
//! - [`generation`] (engine): the streaming generation loop.
//! - [`bundles`]: the style list.
//! - [`web`]: small wrappers over browser APIs (fetch, files, downloads, yielding).
//! - [`audio`]: the Web Audio piano voice and player.
//! - [`roll`]: the piano roll canvas.
//! - [`ui`]: the Leptos components.

pub mod audio;
#[cfg(feature = "engine")]
pub mod backend;
pub mod bundles;
pub mod engine;
#[cfg(feature = "engine")]
pub mod generation;
pub mod gpu;
#[cfg(feature = "engine")]
pub mod loading;
pub mod protocol;
pub mod roll;
pub mod ui;
pub mod web;
#[cfg(feature = "engine")]
pub mod worker;

pub use ui::App;
