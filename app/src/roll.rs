//! The piano roll: time to the right, pitch up, the prime's notes grey, generated notes coloured
//! by velocity, a line for the playback cursor. When the piece is wider than the canvas the view
//! follows the newest note while generating and the cursor while playing, unless the listener
//! has scrolled it; the zoom is theirs to set.

use motif::Note;
use web_sys::CanvasRenderingContext2d;

/// The zoom the page starts at, and its limits.
pub const PIXELS_PER_BEAT: f64 = 48.0;
pub const ZOOM_RANGE: (f64, f64) = (4.0, 240.0);
const KEYBOARD_WIDTH: f64 = 28.0;
/// The view shows at least this many semitones, centred on the notes.
const MIN_SPAN: u8 = 36;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub low: u8,
    pub high: u8,
    pub first_beat: f64,
    pub pixels_per_beat: f64,
}

impl View {
    /// The beat under a point `x` pixels from the canvas's left edge.
    pub fn beat_at(&self, x: f64) -> f64 {
        (self.first_beat + (x - KEYBOARD_WIDTH) / self.pixels_per_beat).max(0.0)
    }

    /// Beats the canvas shows at this zoom.
    pub fn visible_beats(&self, width: f64) -> f64 {
        (width - KEYBOARD_WIDTH).max(1.0) / self.pixels_per_beat
    }
}

/// Which pitches and beats fit a `width`-pixel canvas at `pixels_per_beat`: from `scrolled` (a
/// beat) where the listener scrolled, else keeping `focus` (a beat) in view.
pub fn view_for(
    notes: &[Note],
    width: f64,
    focus: f64,
    pixels_per_beat: f64,
    scrolled: Option<f64>,
) -> View {
    let (mut low, mut high) = notes.iter().fold((u8::MAX, 0u8), |(lo, hi), n| {
        (lo.min(n.pitch), hi.max(n.pitch))
    });
    if notes.is_empty() {
        (low, high) = (60, 60);
    }
    let span = high - low;
    if span < MIN_SPAN {
        let pad = (MIN_SPAN - span) / 2;
        low = low.saturating_sub(pad);
        high = (low + MIN_SPAN).min(127);
    }
    let area = (width - KEYBOARD_WIDTH).max(1.0);
    let visible_beats = area / pixels_per_beat;
    // Keep the focus three quarters of the way across once the piece outgrows the view.
    let first_beat = scrolled.unwrap_or((focus - visible_beats * 0.75).max(0.0));
    View {
        low,
        high,
        first_beat: first_beat.max(0.0),
        pixels_per_beat,
    }
}

fn is_black(pitch: u8) -> bool {
    matches!(pitch % 12, 1 | 3 | 6 | 8 | 10)
}

/// What the roll shows.
pub struct Scene<'a> {
    pub notes: &'a [Note],
    /// The first `prime_notes` are the start the piece was given.
    pub prime_notes: usize,
    /// The playback cursor (a beat), while playing.
    pub cursor: Option<f64>,
    /// Where Play will start from, drawn dim when it is not the beginning.
    pub start: f64,
}

pub fn draw(ctx: &CanvasRenderingContext2d, width: f64, height: f64, view: &View, scene: &Scene) {
    let Scene {
        notes,
        prime_notes,
        cursor,
        start,
    } = *scene;
    let rows = f64::from(view.high - view.low + 1);
    let row = height / rows;
    let y_of = |pitch: u8| height - f64::from(pitch - view.low + 1) * row;
    let x_of = |beat: f64| KEYBOARD_WIDTH + (beat - view.first_beat) * view.pixels_per_beat;

    ctx.set_fill_style_str("#14161c");
    ctx.fill_rect(0.0, 0.0, width, height);
    for pitch in view.low..=view.high {
        let y = y_of(pitch);
        ctx.set_fill_style_str(if is_black(pitch) {
            "#101217"
        } else {
            "#1a1d24"
        });
        ctx.fill_rect(KEYBOARD_WIDTH, y, width, row);
        ctx.set_fill_style_str(if is_black(pitch) {
            "#2b2f38"
        } else {
            "#d9dce3"
        });
        ctx.fill_rect(0.0, y + 0.5, KEYBOARD_WIDTH - 2.0, (row - 1.0).max(0.5));
        if pitch % 12 == 0 && row >= 6.0 {
            ctx.set_fill_style_str("#555b66");
            ctx.set_font(&format!("{}px sans-serif", (row * 0.9).min(10.0)));
            let _ = ctx.fill_text(
                &format!("C{}", i32::from(pitch) / 12 - 1),
                2.0,
                y + row * 0.9,
            );
        }
    }
    // Bar lines every 4 beats, fainter beat lines.
    let first = view.first_beat.floor() as i64;
    let last = first + ((width - KEYBOARD_WIDTH) / view.pixels_per_beat).ceil() as i64 + 1;
    for beat in first..=last {
        let x = x_of(beat as f64);
        ctx.set_fill_style_str(if beat % 4 == 0 { "#3a3f4b" } else { "#23262e" });
        ctx.fill_rect(x, 0.0, 1.0, height);
    }
    for (i, note) in notes.iter().enumerate() {
        let x = x_of(note.start);
        let w = (note.duration * view.pixels_per_beat).max(2.0);
        if x + w < KEYBOARD_WIDTH || x > width {
            continue;
        }
        let colour = if i < prime_notes {
            "#6b7280".to_string()
        } else {
            let light = 45 + u32::from(note.velocity) * 25 / 127;
            format!("hsl(38, 95%, {light}%)")
        };
        ctx.set_fill_style_str(&colour);
        ctx.fill_rect(
            x.max(KEYBOARD_WIDTH),
            y_of(note.pitch) + 0.5,
            w,
            (row - 1.0).max(1.0),
        );
    }
    if let Some(beat) = cursor {
        ctx.set_fill_style_str("#38bdf8");
        ctx.fill_rect(x_of(beat), 0.0, 2.0, height);
    } else if start > 0.0 {
        ctx.set_fill_style_str("#38bdf880");
        ctx.fill_rect(x_of(start), 0.0, 2.0, height);
    }
}
