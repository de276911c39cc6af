//! The style dropdown and the chosen model's card.

use leptos::prelude::*;

use super::page::Page;
use crate::protocol::StyleInfo;

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
    pub(crate) fn of(style: &StyleInfo) -> Card {
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
                "{} epoch{} · held-out loss {:.3} (train {:.3})",
                t.epochs,
                if t.epochs == 1 { "" } else { "s" },
                t.validation_loss,
                t.train_loss
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
                        page.selected.set(event_target_value(&ev));
                        page.epoch.set(None);
                        page.snapshots.set(Vec::new());
                        page.load_selected();
                    }
                >
                    <For each=move || page.styles.get() key=|s| s.id.clone() let:entry>
                        <option value=entry.id.clone()>{entry.display_name.clone()}</option>
                    </For>
                </select>
            </label>
            <label title="Earlier epochs of the same training run: hear the network learn" style:display=move || if page.snapshots.get().is_empty() { "none" } else { "inline-block" }>
                "Epoch "
                <select
                    data-testid="epoch"
                    prop:value=move || page.epoch.get().map(|e| e.to_string()).unwrap_or_default()
                    disabled=move || page.busy()
                    on:change=move |ev| {
                        page.epoch.set(event_target_value(&ev).parse().ok());
                        page.load_selected();
                    }
                >
                    <option value="">{move || format!("{} (the shipped model)", page.chosen_epoch.get())}</option>
                    {move || page.snapshots.get().into_iter().map(|s| view! {
                        <option value=s.epoch.to_string()>
                            {format!("{} (held-out loss {:.3}, {:.2} MB {})", s.epoch, s.validation_loss, s.bytes as f64 / 1e6, s.dtype)}
                        </option>
                    }).collect_view()}
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
