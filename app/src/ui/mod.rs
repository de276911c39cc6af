//! The page, as Leptos components. [`page::Page`] holds the shared state and is handed to
//! every component through context; each component file holds its part of the page and the
//! actions only it starts.
//!
//! - [`style_picker`]: the style dropdown and the model card.
//! - [`settings`]: the generation settings and the shared link they make.
//! - [`transport`]: Generate, Continue, Stop, Play, Download, Copy link.
//! - [`piano_roll`]: the roll and the timing line.

mod page;
mod piano_roll;
mod settings;
mod style_picker;
mod transport;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use page::Page;
use piano_roll::PianoRoll;
use settings::SettingsPanel;
use style_picker::StylePicker;
use transport::Transport;

#[component]
pub fn App() -> impl IntoView {
    let page = Page::new();
    provide_context(page);
    page.start();

    // Space toggles play, unless a control has the focus (it handles the key itself).
    let _keys = window_event_listener(ev::keydown, move |event| {
        if event.code() != "Space" {
            return;
        }
        let in_control = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| {
                matches!(
                    el.tag_name().as_str(),
                    "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON"
                )
            });
        if !in_control {
            event.prevent_default();
            page.toggle_play();
        }
    });

    let error = page.error;
    view! {
        <main
            on:dragover=|ev: ev::DragEvent| ev.prevent_default()
            on:drop=move |ev: ev::DragEvent| {
                ev.prevent_default();
                if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
                    page.use_file(file);
                }
            }
        >
            <header>
                <h1>"Motif"</h1>
                <p class="tagline">"A recurrent network learned a style from MIDI files; it composes in your browser."</p>
                <p class="backend">
                    "Running on "
                    <strong data-testid="backend">{move || page.backend_name.get()}</strong>
                    <span class="detail">{move || page.backend_detail.get()}</span>
                </p>
            </header>
            <StylePicker/>
            <SettingsPanel/>
            <Transport/>
            <p data-testid="error" class="error" style:display=move || if error.get().is_empty() { "none" } else { "block" }>
                {move || error.get()}
            </p>
            <PianoRoll/>
            <footer>
                "Space plays and stops. The grey notes are the start you gave it; the gold ones are the network's."
            </footer>
        </main>
    }
}
