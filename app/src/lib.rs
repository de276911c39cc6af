//! The web app (Leptos, built with Trunk) lives here; see issue "web app".
