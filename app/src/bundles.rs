//! The styles the site offers (`models/index.json`), read by the page. Their bundles are
//! fetched and verified by the engine worker ([`crate::loading`]).

use motif::bundle::{INDEX_FILE, Index};

use crate::web::fetch_text;

/// Where the trainer's `export` puts bundles, relative to the page.
pub const MODELS_DIR: &str = "models";

pub async fn load_index() -> Result<Index, String> {
    let url = format!("{MODELS_DIR}/{INDEX_FILE}");
    let text = fetch_text(&url).await?;
    let index: Index =
        serde_json::from_str(&text).map_err(|e| format!("{url} is not a valid style list: {e}"))?;
    if index.styles.is_empty() {
        return Err(format!("{url} lists no styles"));
    }
    Ok(index)
}
