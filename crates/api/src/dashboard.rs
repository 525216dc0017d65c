//! The transparency dashboard and the wallet app (`dashboard/`, `#/wallet`), compiled into the
//! binary with `include_bytes!`: the node serves them at `/` with no files on disk and no network
//! at run time. The pages are plain ES modules that read the same public API as any client; the
//! chart library (uPlot) and viem's keccak-256 and ABI encoder (the wallet's sealed-bid
//! commitments) are vendored in `dashboard/vendor/` by `dashboard/vendor.mjs`.

use crate::{ApiError, ApiPath};
use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// One embedded file: its path under `/dashboard/`, its content type and its bytes.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! assets {
    ($($path:literal => $content_type:literal,)*) => {
        /// Every file of the dashboard.
        const ASSETS: &[Asset] = &[$(Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../../dashboard/", $path)),
        }),*];
    };
}

assets! {
    "index.html" => "text/html; charset=utf-8",
    "style.css" => "text/css; charset=utf-8",
    "app.js" => "text/javascript; charset=utf-8",
    "api.js" => "text/javascript; charset=utf-8",
    "format.js" => "text/javascript; charset=utf-8",
    "dom.js" => "text/javascript; charset=utf-8",
    "pages.js" => "text/javascript; charset=utf-8",
    "credit.js" => "text/javascript; charset=utf-8",
    "wallet.js" => "text/javascript; charset=utf-8",
    "wallet-actions.js" => "text/javascript; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "vendor/uPlot.iife.min.js" => "text/javascript; charset=utf-8",
    "vendor/uPlot.min.css" => "text/css; charset=utf-8",
    "vendor/uPlot.LICENSE" => "text/plain; charset=utf-8",
    "vendor/viem.mjs" => "text/javascript; charset=utf-8",
    "vendor/viem.LICENSE" => "text/plain; charset=utf-8",
}

fn respond(asset: &Asset) -> Response {
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            // The assets change with the binary; a reload must not show a stale page.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}

/// `GET /`: the dashboard's page.
pub(crate) async fn index() -> Response {
    match ASSETS.iter().find(|a| a.path == "index.html") {
        Some(asset) => respond(asset),
        None => ApiError::internal("the dashboard has no index.html").into_response(),
    }
}

/// `GET /dashboard/{*file}`: one of its files.
pub(crate) async fn file(ApiPath(file): ApiPath<String>) -> Result<Response, ApiError> {
    ASSETS.iter().find(|a| a.path == file).map(respond).ok_or_else(|| {
        ApiError::not_found("asset_not_found", format!("the dashboard has no file `{file}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_non_empty() {
        for asset in ASSETS {
            assert!(!asset.bytes.is_empty(), "{} is empty", asset.path);
        }
        assert!(ASSETS.iter().any(|a| a.path == "index.html"));
    }
}
