//! gapwatch's console views: data from the store in, HTML out.
//!
//! The crate does no HTTP, no authentication and no I/O beyond reading the store. The
//! console calls [`load`] to read what a page needs, then one of the renderers:
//!
//! - [`assets::list`] / [`assets::csv`]: the asset inventory with server-side sort,
//!   filter, search and paging, driven by an [`assets::AssetQuery`];
//! - [`asset::page`]: one asset with its identity (and where each field came from),
//!   peers, protocols, alerts, pattern-of-life charts and learnt baseline;
//! - [`map::render`]: the network map as inline SVG in Purdue layers, driven by a
//!   [`map::MapQuery`];
//! - [`charts`]: the SVG chart helpers the pages use.
//!
//! Markup is `maud::Markup` (escaped by construction). Pages use no inline scripts or
//! `style` attributes, so they run under `Content-Security-Policy: default-src 'self'`;
//! their CSS and the map's zoom/pan script are served from [`static_files`].
#![forbid(unsafe_code)]

pub mod asset;
pub mod assets;
pub mod charts;
mod fmt;
pub mod load;
pub mod map;

pub use load::LoadError;

/// Files the pages link to, to be served under `/static/`: (path under `/static/`,
/// content type, body).
pub fn static_files() -> &'static [(&'static str, &'static str, &'static str)] {
    &[
        (
            "views.css",
            "text/css; charset=utf-8",
            include_str!("../static/views.css"),
        ),
        (
            "map.js",
            "text/javascript; charset=utf-8",
            include_str!("../static/map.js"),
        ),
    ]
}
