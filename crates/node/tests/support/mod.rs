//! What the node's tests share: one chain id and one genesis (an admin key and a user key
//! funded with 1,000 USDC, at the wall clock's time, since a node's producer stamps blocks
//! with the wall clock).
#![allow(dead_code)] // Each test file uses its own subset.

use infrafi_core::{Amount, Genesis, ids::USDC};
use infrafi_tx::SigningKey;

/// The chain id of every node test.
pub(crate) const CHAIN: u64 = 7;

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// A genesis at the wall clock's time: the `admin` seed's key is admin, and `user` holds
/// 1,000 USDC.
pub(crate) fn genesis(user: &SigningKey) -> Genesis {
    let admin = SigningKey::from_seed("admin");
    let mut genesis = Genesis::with_admin(admin.address(), unix_now());
    genesis.stablecoin_balances.push((user.address(), USDC, Amount::from_whole(1_000)));
    genesis
}
