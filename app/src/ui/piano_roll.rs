//! The piano roll canvas and the timing line under it.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::page::Page;
use crate::roll;

/// How the last generation went: shown under the roll, and read by the browser benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Figures {
    pub first_note_ms: f64,
    pub total_ms: f64,
    pub notes: usize,
    pub tokens: usize,
}

impl Figures {
    fn summary(&self) -> String {
        format!(
            "{} notes from {} tokens in {:.0} ms: first note after {:.0} ms, {:.2} ms per note",
            self.notes,
            self.tokens,
            self.total_ms,
            self.first_note_ms,
            self.total_ms / self.notes.max(1) as f64
        )
    }
}

#[component]
pub fn PianoRoll() -> impl IntoView {
    let page = expect_context::<Page>();
    let canvas = NodeRef::<html::Canvas>::new();
    Effect::new(move |_| {
        let notes = page.notes.get();
        let prime = page.prime_count.get();
        let cursor = page.cursor.get();
        let Some(canvas) = canvas.get() else { return };
        let ratio = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .unwrap_or(1.0);
        let (width, height) = (
            f64::from(canvas.client_width()),
            f64::from(canvas.client_height()),
        );
        // Resizing clears and reallocates the canvas: only when its size really changed.
        let (pixels_wide, pixels_high) = ((width * ratio) as u32, (height * ratio) as u32);
        if canvas.width() != pixels_wide || canvas.height() != pixels_high {
            canvas.set_width(pixels_wide);
            canvas.set_height(pixels_high);
        }
        let Ok(Some(ctx)) = canvas.get_context("2d") else {
            return;
        };
        let ctx: web_sys::CanvasRenderingContext2d = ctx.unchecked_into();
        let _ = ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0);
        let focus = notes.iter().map(|n| n.end()).fold(0.0, f64::max);
        roll::draw(&ctx, width, height, &notes, prime, focus, cursor);
    });
    let figures = page.figures;
    view! {
        <canvas data-testid="piano-roll" class="roll" node_ref=canvas></canvas>
        <p
            class="timing"
            data-testid="timing"
            data-first-note-ms=move || figures.get().map(|f| f.first_note_ms.to_string())
            data-total-ms=move || figures.get().map(|f| f.total_ms.to_string())
            data-notes=move || figures.get().map(|f| f.notes.to_string())
            data-tokens=move || figures.get().map(|f| f.tokens.to_string())
        >
            {move || figures.get().map(|f| f.summary()).unwrap_or_default()}
        </p>
    }
}
