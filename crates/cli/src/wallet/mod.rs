//! The CLI wallet: keystores ([`keystore`], `infrafi wallet`), signing and submitting any action
//! ([`tx`], with the typed actions in [`action`]), and reads ([`query`]).
//!
//! Amounts are typed as decimals of the token ("1250.5"), never as raw integers; a keystore is
//! an encrypted Web3 Secret Storage v3 file, or a plain devnet key file marked as such.

mod action;
mod keystore;
mod query;
mod tx;

pub(crate) use action::{SealedBidCommitmentArgs, sealed_bid_commitment};
pub(crate) use keystore::{WalletCommand, load_key, save_devnet_key, wallet};
pub(crate) use query::{QueryArgs, query};
pub(crate) use tx::{TxArgs, tx};

use anyhow::Result;

/// The node the CLI talks to unless told otherwise.
pub(crate) const NODE_URL_DEFAULT: &str = "http://127.0.0.1:8545";

/// A runtime for one request-and-answer exchange with the node.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}
