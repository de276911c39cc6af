//! The style dropdown and the chosen model's card.

use leptos::prelude::*;

use super::page::Page;
use crate::bundles::LoadedStyle;

/// What the model card shows, taken from the manifest once.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Card {
    description: String,
    network: String,
    tokens: String,
    corpus: String,
    training: String,
    download: String,
    loss_plot: Option<String>,
    load: String,
}

impl Card {
    pub(crate) fn of(style: &LoadedStyle) -> Card {
        let m = &style.manifest;
        let t = &m.training;
        Card {
            description: m.style.description.clone(),
            network: format!(
                "{} · {} layers × {} · {} parameters",
                m.model.cell.name().to_uppercase(),
                m.model.layers,
                m.model.hidden,
                thousands(m.weights.parameters)
            ),
            tokens: format!(
                "{} tokens · vocabulary {}",
                m.tokenizer.kind().name(),
                m.vocabulary.len()
            ),
            corpus: format!(
                "{}: {} files ({} for training, {} held out)",
                t.corpus, t.files, t.train_files, t.validation_files
            ),
            training: format!(
                "{} epochs · held-out loss {:.3} (train {:.3})",
                t.epochs, t.validation_loss, t.train_loss
            ),
            download: format!(
                "{:.2} MB ({} weights)",
                style.download_bytes as f64 / 1e6,
                m.weights.dtype
            ),
            loss_plot: style.loss_plot.clone(),
            load: format!(
                "loaded in {:.0} ms, warm-up {:.0} ms",
                style.load_ms, style.warmup_ms
            ),
        }
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn StylePicker() -> impl IntoView {
    let page = expect_context::<Page>();
    view! {
        <section class="style">
            <label>
                "Style "
                <select
                    data-testid="style-select"
                    prop:value=move || page.selected.get()
                    disabled=move || page.busy()
                    on:change=move |ev| {
                        let id = event_target_value(&ev);
                        page.selected.set(id.clone());
                        page.load_style(id);
                    }
                >
                    <For each=move || page.styles.get() key=|s| s.id.clone() let:entry>
                        <option value=entry.id.clone()>{entry.display_name.clone()}</option>
                    </For>
                </select>
            </label>
            <Show when=move || page.card.get().is_some()>
                {move || page.card.get().map(|c| view! {
                    <div class="card">
                        <p class="description">{c.description}</p>
                        <dl>
                            <dt>"Network"</dt><dd>{c.network}</dd>
                            <dt>"Tokens"</dt><dd>{c.tokens}</dd>
                            <dt>"Corpus"</dt><dd>{c.corpus}</dd>
                            <dt>"Training"</dt><dd>{c.training}</dd>
                            <dt>"Download"</dt><dd>{c.download}" · "{c.load}</dd>
                        </dl>
                        {c.loss_plot.map(|src| view! { <img class="loss" src=src alt="Training and held-out loss per epoch"/> })}
                    </div>
                })}
            </Show>
        </section>
    }
}
