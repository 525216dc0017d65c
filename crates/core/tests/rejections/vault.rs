//! Vault codes (4xx): stakes, share mints, harvests and donations.

use super::*;

pub(crate) fn a_stake_too_small_to_buy_a_share_is_rejected() -> TxError {
    let mut market = funded_market();
    // A donation lifts the price above 1: 1 unit of USDai buys floor(1 * (500e18 + V) /
    // (600e18 + V)) = 0 share units.
    market.ok(ALICE, Action::DonateToVault(DonateToVault { amount: whole(100) }));
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: Amount(1), min_shares: Amount::ZERO }),
        VaultError::SharesRoundToZero,
    )
}

pub(crate) fn a_stake_below_the_minimum_shares_is_rejected() -> TxError {
    let mut market = funded_market();
    // Price exactly 1: 10 USDai buy 10 sUSDai.
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: whole(10), min_shares: plus(whole(10), Amount(1)) }),
        VaultError::SharesBelowMinimum,
    );
    market.ok(ALICE, Action::Stake(Stake { assets: whole(10), min_shares: whole(10) }));
    VaultError::SharesBelowMinimum.into()
}

pub(crate) fn mint_shares_above_the_maximum_assets_is_rejected() -> TxError {
    let mut market = funded_market();
    reject(
        &mut market,
        ALICE,
        Action::MintShares(MintShares {
            shares: whole(10),
            max_assets: minus(whole(10), Amount(1)),
        }),
        VaultError::AssetsAboveMaximum,
    );
    market.ok(ALICE, Action::MintShares(MintShares { shares: whole(10), max_assets: whole(10) }));
    VaultError::AssetsAboveMaximum.into()
}

pub(crate) fn harvesting_or_donating_into_a_vault_with_no_shares_is_rejected() -> TxError {
    let mut genesis = genesis();
    genesis.tbill_rate = Rate::from_apr_bps(450);
    let mut market = Market::from_genesis(&genesis);
    market.mint(ALICE, whole(1_000_000));
    market.advance(30 * DAY);
    // A month of yield and nobody staked: it stays in the reserve, owned by no one yet.
    let code = reject(
        &mut market,
        KEEPER,
        Action::HarvestBaseYield(HarvestBaseYield {}),
        VaultError::VaultHasNoShares,
    );
    reject(&mut market, ALICE, Action::DonateToVault(DonateToVault { amount: whole(1) }), code);
    // With one holder there is someone to receive it.
    market.stake(ALICE, whole(1));
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    market.ok(ALICE, Action::DonateToVault(DonateToVault { amount: whole(1) }));
    code
}
