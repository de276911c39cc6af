//! The piano roll canvas and the timing line under it.

use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::page::Page;
use crate::protocol::Outcome;
use crate::roll;

/// How the last generation went: shown under the roll, and read by the browser benchmark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Figures {
    pub first_note_ms: f64,
    pub total_ms: f64,
    pub notes: usize,
    pub tokens: usize,
    pub side_by_side: usize,
}

impl Figures {
    /// How a generation went, counting only what it added to the piece (Continue adds to one
    /// that already held notes).
    pub(crate) fn of(outcome: &Outcome) -> Figures {
        Figures {
            first_note_ms: outcome.first_note_ms.unwrap_or(outcome.total_ms),
            total_ms: outcome.total_ms,
            notes: (outcome.notes - outcome.prime_notes).saturating_sub(outcome.notes_before),
            tokens: outcome.tokens - outcome.tokens_before,
            side_by_side: outcome.side_by_side,
        }
    }

    fn summary(&self) -> String {
        let together = if self.side_by_side > 1 {
            format!(" (with {} more, side by side)", self.side_by_side - 1)
        } else {
            String::new()
        };
        format!(
            "{} notes from {} tokens in {:.0} ms{together}: first note after {:.0} ms, {:.2} ms per note",
            self.notes,
            self.tokens,
            self.total_ms,
            self.first_note_ms,
            self.total_ms / self.notes.max(1) as f64
        )
    }
}

/// Zoom steps: each press or wheel notch multiplies the pixels per beat by this.
const ZOOM_STEP: f64 = 1.25;

#[component]
pub fn PianoRoll() -> impl IntoView {
    let page = expect_context::<Page>();
    let canvas = NodeRef::<html::Canvas>::new();
    // The view last drawn: what a click or a scroll refers to, and what tests read.
    let shown = RwSignal::new(None::<roll::View>);
    let width = move || canvas.get().map_or(800.0, |c| f64::from(c.client_width()));
    // Drawn at the next animation frame, once however many of its inputs changed: reading the
    // canvas's size in the effect itself forced the page's first layout inside the start-up
    // task (a 72–86 ms main-thread task, 20–30 ms of it layout), and during playback the
    // cursor and new notes would each draw.
    let draw = move || {
        let prime_notes = page.prime_count.get_untracked();
        let cursor = page.cursor.get_untracked();
        let start = page.play_from.get_untracked();
        let zoom = page.roll_zoom.get_untracked();
        let scrolled = page.roll_scroll.get_untracked();
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
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
        let view = page.notes.with_untracked(|notes| {
            let end = notes.iter().map(|n| n.end()).fold(0.0, f64::max);
            let view = roll::view_for(notes, width, cursor.unwrap_or(end), zoom, scrolled);
            let scene = roll::Scene {
                notes,
                prime_notes,
                cursor,
                start,
            };
            roll::draw(&ctx, width, height, &view, &scene);
            view
        });
        shown.set(Some(view));
    };
    let frame_pending = StoredValue::new(false);
    Effect::new(move |_| {
        page.notes.track();
        page.prime_count.track();
        page.cursor.track();
        page.play_from.track();
        page.roll_zoom.track();
        page.roll_scroll.track();
        canvas.track();
        if !frame_pending.get_value() {
            frame_pending.set_value(true);
            request_animation_frame(move || {
                frame_pending.set_value(false);
                draw();
            });
        }
    });

    let zoom_by = move |factor: f64| {
        let (low, high) = roll::ZOOM_RANGE;
        page.roll_zoom
            .update(|z| *z = (*z * factor).clamp(low, high));
    };
    let scroll_by = move |beats: f64| {
        if let Some(view) = shown.get_untracked() {
            page.roll_scroll
                .set(Some((view.first_beat + beats).max(0.0)));
        }
    };
    let on_wheel = move |ev: ev::WheelEvent| {
        ev.prevent_default();
        if ev.ctrl_key() {
            zoom_by(if ev.delta_y() < 0.0 {
                ZOOM_STEP
            } else {
                1.0 / ZOOM_STEP
            });
        } else if let Some(view) = shown.get_untracked() {
            let pixels = if ev.delta_x().abs() > ev.delta_y().abs() {
                ev.delta_x()
            } else {
                ev.delta_y()
            };
            scroll_by(pixels / view.pixels_per_beat);
        }
    };
    let on_click = move |ev: ev::MouseEvent| {
        let (Some(view), Some(canvas)) = (shown.get_untracked(), canvas.get()) else {
            return;
        };
        let left = canvas.get_bounding_client_rect().left();
        page.seek(view.beat_at(f64::from(ev.client_x()) - left));
    };
    let on_key = move |ev: ev::KeyboardEvent| {
        let page_beats = shown
            .get_untracked()
            .map_or(8.0, |v| v.visible_beats(width()));
        match ev.key().as_str() {
            "ArrowRight" => scroll_by(page_beats / 4.0),
            "ArrowLeft" => scroll_by(-page_beats / 4.0),
            "PageDown" => scroll_by(page_beats),
            "PageUp" => scroll_by(-page_beats),
            "+" | "=" => zoom_by(ZOOM_STEP),
            "-" => zoom_by(1.0 / ZOOM_STEP),
            "Home" => page.roll_scroll.set(Some(0.0)),
            "End" => page.roll_scroll.set(None),
            _ => return,
        }
        ev.prevent_default();
    };
    let figures = page.figures;
    view! {
        <div class="roll-tools" role="toolbar" aria-label="Piano roll view">
            <button data-testid="zoom-out" title="Zoom out (−)" aria-label="Zoom out" on:click=move |_| zoom_by(1.0 / ZOOM_STEP)>"−"</button>
            <button data-testid="zoom-in" title="Zoom in (+)" aria-label="Zoom in" on:click=move |_| zoom_by(ZOOM_STEP)>"+"</button>
            <button data-testid="follow" title="Follow the music again (End)" disabled=move || page.roll_scroll.get().is_none() on:click=move |_| page.roll_scroll.set(None)>"Follow"</button>
            <span class="hint">"Wheel or arrow keys scroll, Ctrl + wheel or + / − zoom, a click moves the playback cursor."</span>
        </div>
        <canvas
            data-testid="piano-roll"
            class="roll"
            node_ref=canvas
            tabindex="0"
            role="img"
            aria-label="Piano roll. Arrow keys and Page Up/Down scroll, + and − zoom, Home goes to the start, End follows the music; click to move the playback cursor."
            data-first-beat=move || shown.get().map(|v| v.first_beat.to_string())
            data-pixels-per-beat=move || shown.get().map(|v| v.pixels_per_beat.to_string())
            data-play-from=move || page.play_from.get().to_string()
            data-cursor=move || page.cursor.get().map(|c| c.to_string())
            on:wheel=on_wheel
            on:click=on_click
            on:keydown=on_key
        ></canvas>
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
