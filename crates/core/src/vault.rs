//! The sUSDai vault (SPEC 6, 7): ERC-4626 share accounting over two views of net asset value.
//!
//! Guarantees: deposits are priced at the optimistic NAV and redemptions at the conservative
//! NAV, so the redemption price never exceeds the deposit price; share maths uses a virtual
//! offset (`VIRTUAL_SHARES`, `VIRTUAL_ASSETS`) so a donation before the first deposit cannot
//! steal from later depositors; every conversion rounds in the vault's favour.
//!
//! Senior loan positions enter NAV through the [`SeniorBook`] seam: the credit component keeps
//! its aggregate (outstanding principal, accrued interest, impairment) and the vault reads it.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_not_paused,
    ids::{Address, Asset, ProtocolAccount},
    ledger::{self, LedgerError},
    math::{Amount, Rounding, WAD},
    params::PauseScope,
    result_codes,
    state::State,
    table::{Slot, component},
};
use alloy_primitives::U256;
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of vault actions.
    pub enum VaultError {
        SharesRoundToZero = 401 => "shares_round_to_zero",
            "The deposit is too small to buy any share.";
        SharesBelowMinimum = 402 => "shares_below_minimum",
            "The deposit buys fewer shares than the sender's minimum (slippage limit).";
        AssetsAboveMaximum = 403 => "assets_above_maximum",
            "Minting these shares costs more than the sender's maximum (slippage limit).";
        VaultHasNoShares = 404 => "vault_has_no_shares",
            "No sUSDai exists, so no holder would receive this USDai.";
    }
}

/// Virtual shares added to the supply in every conversion (10^-9 sUSDai).
pub const VIRTUAL_SHARES: u128 = 1_000_000_000;
/// Virtual assets added to NAV in every conversion (10^-9 USDai); equal to the virtual shares,
/// so the first share costs one USDai.
pub const VIRTUAL_ASSETS: u128 = 1_000_000_000;

/// The vault's view of all senior loan positions, kept by the credit component.
///
/// Interest accrues linearly and exactly: `accrued_wad(now) = accrued_at_checkpoint_wad +
/// interest_per_second_wad * (now - checkpoint_at)`, in 10^-36 units (amount x 10^18), where
/// `interest_per_second_wad` is the sum over positions of senior principal x per-second rate.
/// Nothing is divided until NAV reads [`SeniorBook::accrued_at`], so the aggregate equals the
/// sum of the positions' [`SeniorAccrual`]s at every instant, with no rounding drift.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeniorBook {
    /// Outstanding senior principal across all loans.
    pub principal: Amount,
    /// The part of that principal the expected recovery would not cover (SPEC 9.6).
    pub impairment: Amount,
    /// Interest accrued up to `checkpoint_at` and not yet paid, times 10^18.
    pub accrued_at_checkpoint_wad: U256,
    /// Sum of principal x per-second rate (10^-36 units per second).
    pub interest_per_second_wad: U256,
    /// When `accrued_at_checkpoint_wad` was computed.
    pub checkpoint_at: u64,
}

impl SeniorBook {
    /// Interest accrued and unpaid at `now`, times 10^18 (exact below 2^256).
    pub fn accrued_wad_at(&self, now: u64) -> U256 {
        // Saturates upward, and that favours the vault: accrued senior interest counts only in
        // optimistic NAV, which prices deposits, so an overflow (beyond any real book) would make
        // deposits dearer and never pay anyone more; conservative NAV, which prices redemptions,
        // leaves it out. Pinned by `an_overflowing_senior_accrual_saturates_only_the_deposit_price`.
        let elapsed = U256::from(now.saturating_sub(self.checkpoint_at));
        self.accrued_at_checkpoint_wad
            .saturating_add(self.interest_per_second_wad.saturating_mul(elapsed))
    }

    /// Interest accrued and unpaid at `now`, rounded down.
    pub fn accrued_at(&self, now: u64) -> Amount {
        // Saturates upward, and that favours the vault: accrued senior interest counts only in
        // optimistic NAV, which prices deposits, so an overflow (beyond any real book) would make
        // deposits dearer and never pay anyone more; conservative NAV, which prices redemptions,
        // leaves it out. Pinned by `an_overflowing_senior_accrual_saturates_only_the_deposit_price`.
        let units = self.accrued_wad_at(now) / U256::from(WAD);
        Amount(u128::try_from(units).unwrap_or(u128::MAX))
    }

    /// Folds the interest accrued since the checkpoint into it.
    pub fn checkpoint(&mut self, now: u64) {
        self.accrued_at_checkpoint_wad = self.accrued_wad_at(now);
        self.checkpoint_at = self.checkpoint_at.max(now);
    }
}

/// All of the senior interest, in the units of [`SeniorAccrual::net_share_e8`].
pub const NET_SHARE_ONE_E8: u32 = 100_000_000;

/// One loan's senior position in the [`SeniorBook`], in the same exact units.
///
/// It accrues only what the vault will receive: senior interest net of the performance fee
/// and the silo's curator fee (SPEC 6: the fee is taken "before it reaches NAV"). Accrued
/// gross, optimistic NAV would count interest the vault never gets, so a depositor would pay
/// for it and the deposit price would fall at every payment (issue 11).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeniorAccrual {
    /// Interest accrued up to `checkpoint_at` since the last payment, times 10^18.
    pub accrued_wad: U256,
    /// Senior principal x senior per-second rate x `net_share_e8` / 10^8, rounded down; zero
    /// once the loan stops accruing.
    pub interest_per_second_wad: U256,
    /// When `accrued_wad` was computed.
    pub checkpoint_at: u64,
    /// The share of senior interest that reaches the vault, in units of 10^-8:
    /// `(10^4 - performance_fee_bps) x (10^4 - curator_fee_bps)` when the rate was last set
    /// (origination and every payment); a fee changed in between counts from the next payment.
    pub net_share_e8: u32,
}

/// Senior principal x per-second rate x `net_share_e8` / 10^8, rounded down (NAV never counts
/// interest the vault will not receive).
pub fn senior_net_rate_wad(principal: Amount, rate: u128, net_share_e8: u32) -> U256 {
    U256::from(principal.0) * U256::from(rate) * U256::from(net_share_e8)
        / U256::from(NET_SHARE_ONE_E8)
}

/// The share of senior interest that reaches the vault after a performance fee and a curator
/// fee, in units of 10^-8.
pub fn net_share_e8(performance_fee_bps: u32, curator_fee_bps: u32) -> u32 {
    // Fees are validated to at most 10,000 bps; a larger one keeps nothing (the vault accrues
    // less, so the deposit price is lower: the floor favours no one at the vault's expense).
    let keep = |bps: u32| 10_000u32.saturating_sub(bps);
    keep(performance_fee_bps) * keep(curator_fee_bps)
}

impl SeniorAccrual {
    /// Interest accrued at `now`, times 10^18 (exact below 2^256).
    pub fn accrued_wad_at(&self, now: u64) -> U256 {
        // Saturates upward for the reason given at `SeniorBook::accrued_wad_at`.
        let elapsed = U256::from(now.saturating_sub(self.checkpoint_at));
        self.accrued_wad.saturating_add(self.interest_per_second_wad.saturating_mul(elapsed))
    }
}

/// Brings the book and one position to the state's time, then drops the position's accrued
/// interest if `reset_accrued` (it was paid, or the loan stopped accruing) and sets its rate to
/// `interest_per_second_wad`. The book moves by exactly what the position moves by.
pub(crate) fn update_senior_position(
    state: &mut State,
    position: &mut SeniorAccrual,
    reset_accrued: bool,
    interest_per_second_wad: U256,
) {
    let now = state.now();
    let book = &mut state.vault.globals.get_mut().senior;
    book.checkpoint(now);
    position.accrued_wad = position.accrued_wad_at(now);
    position.checkpoint_at = now;
    if reset_accrued {
        book.accrued_at_checkpoint_wad =
            book.accrued_at_checkpoint_wad.checked_sub(position.accrued_wad).unwrap_or_else(|| {
                unreachable!("the senior book holds less accrued interest than a position")
            });
        position.accrued_wad = U256::ZERO;
    }
    book.interest_per_second_wad = book
        .interest_per_second_wad
        .checked_sub(position.interest_per_second_wad)
        .unwrap_or_else(|| unreachable!("the senior book's rate sum is below a position's"))
        // Upward, for the reason given at `SeniorBook::accrued_wad_at`.
        .saturating_add(interest_per_second_wad);
    position.interest_per_second_wad = interest_per_second_wad;
}

/// The vault's own state (its USDai and shares live in the ledger).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultGlobals {
    /// Harvested yield vesting into NAV: the amount that was unvested at `vesting_started_at`.
    pub vesting_amount: Amount,
    /// When the current vesting began.
    pub vesting_started_at: u64,
    /// When it ends.
    pub vesting_ends_at: u64,
    /// All senior positions.
    pub senior: SeniorBook,
}

component! {
    /// The vault.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct VaultState at "vault" paths VaultPaths {
        /// Globals.
        pub globals: Slot<VaultGlobals>,
    }
}

/// Yield harvested but not yet vested at `now`, rounded up (kept out of NAV until earned).
pub fn unvested(globals: &VaultGlobals, now: u64) -> Amount {
    if now >= globals.vesting_ends_at || globals.vesting_amount.is_zero() {
        return Amount::ZERO;
    }
    let remaining = u128::from(globals.vesting_ends_at - now);
    let duration = u128::from(globals.vesting_ends_at - globals.vesting_started_at);
    // Cannot fail (remaining <= duration, so the result is at most the amount, and the
    // product is exact in 256 bits); were it to, counting all of it unvested keeps NAV low,
    // which favours the vault over a redeemer.
    globals
        .vesting_amount
        .mul_div(remaining, duration, Rounding::Up)
        .unwrap_or(globals.vesting_amount)
}

/// Adds freshly harvested `amount` to the vesting schedule: what is still unvested and the new
/// amount vest together from now over `yield_vesting_secs`.
pub fn start_vesting(state: &mut State, amount: Amount) -> Result<(), TxError> {
    let now = state.now();
    let duration = state.governance.params.get().yield_vesting_secs;
    let globals = state.vault.globals.get_mut();
    let still_unvested = unvested(globals, now);
    if duration == 0 {
        globals.vesting_amount = Amount::ZERO;
        globals.vesting_started_at = now;
        globals.vesting_ends_at = now;
        return Ok(());
    }
    globals.vesting_amount = still_unvested.checked_add(amount)?;
    globals.vesting_started_at = now;
    globals.vesting_ends_at = now.saturating_add(duration);
    Ok(())
}

/// The two views of NAV and what they rest on, at the state's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nav {
    /// USDai in the vault not owed to anyone and already vested.
    pub unallocated: Amount,
    /// Harvested yield not yet vested.
    pub unvested: Amount,
    /// Outstanding senior principal.
    pub senior_principal: Amount,
    /// Senior interest accrued since each position's last payment.
    pub senior_accrued_interest: Amount,
    /// Senior impairment.
    pub senior_impairment: Amount,
    /// unallocated + unvested + principal + accrued interest: prices deposits. Unvested
    /// yield is the vault's already (only its release to leavers waits), so a newcomer pays for
    /// it: left out, anyone could stake while a harvest vests and take a share of yield earned
    /// before it came.
    pub optimistic: Amount,
    /// unallocated + principal - impairment: prices redemptions.
    pub conservative: Amount,
    /// sUSDai in existence (including shares locked in the queue).
    pub share_supply: Amount,
}

/// NAV at the state's time.
pub fn nav(state: &State) -> Nav {
    let balance = state.ledger.balance(ProtocolAccount::Vault, Asset::Usdai);
    NavBasis::at(state).nav(balance, state.ledger.supply_of(Asset::Susdai))
}

/// What NAV rests on besides the vault's USDai balance and the share supply, at the state's
/// time: a servicing round, which moves only those two, takes it once and prices each request
/// from it with the balance and supply its postings leave ([`crate::ledger::Postings`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NavBasis {
    unvested: Amount,
    senior_principal: Amount,
    senior_accrued_interest: Amount,
    senior_impairment: Amount,
}

impl NavBasis {
    /// The basis at the state's time.
    pub(crate) fn at(state: &State) -> NavBasis {
        let now = state.now();
        let globals = state.vault.globals.get();
        let senior = &globals.senior;
        NavBasis {
            unvested: unvested(globals, now),
            senior_principal: senior.principal,
            senior_accrued_interest: senior.accrued_at(now),
            senior_impairment: senior.impairment,
        }
    }

    /// NAV with the vault holding `balance` USDai and `share_supply` sUSDai in existence.
    pub(crate) fn nav(&self, balance: Amount, share_supply: Amount) -> Nav {
        let NavBasis { unvested, senior_principal, senior_accrued_interest, senior_impairment } =
            *self;
        // Unvested yield is part of the balance: the floor at zero is definitional.
        let unallocated = balance.saturating_sub(unvested);
        // The vault's USDai (idle and unvested) and the principal lent are disjoint parts of the
        // USDai supply, a u128, so their sum fits; only the accrued interest can saturate
        // optimistic NAV, and upward (see `SeniorBook::accrued_wad_at`). Impairment never
        // exceeds principal (SPEC 9.6).
        Nav {
            unallocated,
            unvested,
            senior_principal,
            senior_accrued_interest,
            senior_impairment,
            optimistic: Amount(
                balance
                    .0
                    .saturating_add(senior_principal.0)
                    .saturating_add(senior_accrued_interest.0),
            ),
            conservative: Amount(
                unallocated
                    .0
                    .saturating_add(senior_principal.0.saturating_sub(senior_impairment.0)),
            ),
            share_supply,
        }
    }
}

impl Nav {
    /// Shares a deposit of `assets` buys, rounded down.
    pub fn shares_for_deposit(&self, assets: Amount) -> Result<Amount, TxError> {
        Ok(assets.mul_div(
            self.share_supply.0.checked_add(VIRTUAL_SHARES).ok_or(crate::math::Overflow)?,
            self.optimistic.0.checked_add(VIRTUAL_ASSETS).ok_or(crate::math::Overflow)?,
            Rounding::Down,
        )?)
    }

    /// Assets that minting `shares` costs, rounded up.
    pub fn assets_for_mint(&self, shares: Amount) -> Result<Amount, TxError> {
        Ok(shares.mul_div(
            self.optimistic.0.checked_add(VIRTUAL_ASSETS).ok_or(crate::math::Overflow)?,
            self.share_supply.0.checked_add(VIRTUAL_SHARES).ok_or(crate::math::Overflow)?,
            Rounding::Up,
        )?)
    }

    /// Assets that redeeming `shares` pays, rounded down.
    pub fn assets_for_redemption(&self, shares: Amount) -> Result<Amount, TxError> {
        Ok(shares.mul_div(
            self.conservative.0.checked_add(VIRTUAL_ASSETS).ok_or(crate::math::Overflow)?,
            self.share_supply.0.checked_add(VIRTUAL_SHARES).ok_or(crate::math::Overflow)?,
            Rounding::Down,
        )?)
    }

    /// Shares whose redemption pays at most `assets`, rounded down.
    pub fn shares_for_redemption_assets(&self, assets: Amount) -> Result<Amount, TxError> {
        Ok(assets.mul_div(
            self.share_supply.0.checked_add(VIRTUAL_SHARES).ok_or(crate::math::Overflow)?,
            self.conservative.0.checked_add(VIRTUAL_ASSETS).ok_or(crate::math::Overflow)?,
            Rounding::Down,
        )?)
    }

    /// The price of one share in a deposit, 18-decimal fixed point, rounded up. A view:
    /// saturates at the largest price (a price above 3.4 x 10^20 USDai a share); a stake
    /// prices through `shares_for_deposit`, which returns the overflow code instead.
    pub fn deposit_price_wad(&self) -> u128 {
        self.assets_for_mint(Amount(WAD)).map(|a| a.0).unwrap_or(u128::MAX)
    }

    /// The price of one share in a redemption, 18-decimal fixed point, rounded down. A view:
    /// saturates at the largest price, like [`Nav::deposit_price_wad`] (it used to read 0, an
    /// overflow turned into a price crash); redemptions price through
    /// `assets_for_redemption`, which returns the overflow code.
    pub fn redemption_price_wad(&self) -> u128 {
        self.assets_for_redemption(Amount(WAD)).map(|a| a.0).unwrap_or(u128::MAX)
    }
}

/// Stake USDai for at least `min_shares` sUSDai.
///
/// USDai in, sUSDai out at the deposit price; at least `min_shares`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stake {
    /// USDai paid in, in base units.
    pub assets: Amount,
    /// The fewest sUSDai shares the sender accepts (slippage bound).
    pub min_shares: Amount,
}

impl ActionHandler for Stake {
    const NAME: &'static str = "stake";
    // It adds USDai and shares to the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.assets.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { assets, min_shares } = *self;
        require_not_paused(state, PauseScope::Staking)?;
        if state.ledger.is_frozen(sender) {
            return Err(LedgerError::SenderIsFrozen.into());
        }
        if state.ledger.balance(sender, Asset::Usdai) < assets {
            return Err(LedgerError::BalanceInsufficient.into());
        }
        let shares = nav(state).shares_for_deposit(assets)?;
        if shares.is_zero() {
            return Err(VaultError::SharesRoundToZero.into());
        }
        if shares < min_shares {
            return Err(VaultError::SharesBelowMinimum.into());
        }
        ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::Vault, assets)?;
        ledger::mint(state, Asset::Susdai, sender, shares)?;
        state.emit(Event::Staked { account: sender, assets, shares });
        Ok(())
    }
}

/// Mint exactly `shares` sUSDai for at most `max_assets` USDai.
///
/// Exactly `shares` sUSDai out, USDai in at the deposit price; at most `max_assets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintShares {
    /// sUSDai shares minted, in base units.
    pub shares: Amount,
    /// The most USDai the sender pays for them (slippage bound).
    pub max_assets: Amount,
}

impl ActionHandler for MintShares {
    const NAME: &'static str = "mint_shares";
    // It adds USDai and shares to the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.shares.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { shares, max_assets } = *self;
        require_not_paused(state, PauseScope::Staking)?;
        if state.ledger.is_frozen(sender) {
            return Err(LedgerError::SenderIsFrozen.into());
        }
        let assets = nav(state).assets_for_mint(shares)?;
        if assets > max_assets {
            return Err(VaultError::AssetsAboveMaximum.into());
        }
        if state.ledger.balance(sender, Asset::Usdai) < assets {
            return Err(LedgerError::BalanceInsufficient.into());
        }
        ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::Vault, assets)?;
        ledger::mint(state, Asset::Susdai, sender, shares)?;
        state.emit(Event::Staked { account: sender, assets, shares });
        Ok(())
    }
}

/// Rejects when no sUSDai exists. USDai added to an empty vault would belong to no holder: the
/// virtual shares would own it for ever, and it would lift the price of a share unit to about
/// NAV / VIRTUAL_SHARES (10^12 USDai per sUSDai for 1,000 USDai), so that later deposits buy
/// dust-sized share counts that can never reach `min_redeem_shares`.
pub fn require_shares_outstanding(state: &State) -> Result<(), TxError> {
    if state.ledger.supply_of(Asset::Susdai).is_zero() {
        return Err(VaultError::VaultHasNoShares.into());
    }
    Ok(())
}

/// Give USDai to all shareholders.
///
/// USDai given to every shareholder at once (it enters NAV immediately).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DonateToVault {
    /// USDai given, in base units.
    pub amount: Amount,
}

impl ActionHandler for DonateToVault {
    const NAME: &'static str = "donate_to_vault";
    // It adds USDai to the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let amount = self.amount;
        if !amount.is_zero() {
            require_shares_outstanding(state)?;
        }
        ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::Vault, amount)?;
        state.emit(Event::DonatedToVault { account: sender, amount });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nav(optimistic: u128, conservative: u128, share_supply: u128) -> Nav {
        Nav {
            unallocated: Amount(conservative),
            unvested: Amount::ZERO,
            senior_principal: Amount::ZERO,
            senior_accrued_interest: Amount::ZERO,
            senior_impairment: Amount::ZERO,
            optimistic: Amount(optimistic),
            conservative: Amount(conservative),
            share_supply: Amount(share_supply),
        }
    }

    #[test]
    fn an_overflowing_senior_accrual_saturates_only_the_deposit_price() {
        let book = SeniorBook {
            principal: Amount(1_000),
            interest_per_second_wad: U256::MAX / U256::from(2),
            ..SeniorBook::default()
        };
        assert_eq!(book.accrued_wad_at(3), U256::MAX, "saturates upward, never wraps to 0");
        assert_eq!(book.accrued_at(3), Amount(u128::MAX));
        let mut state = State::default();
        state.vault.globals.get_mut().senior = book;
        *state.clock.get_mut() = crate::state::Clock { height: 1, timestamp: 3 };
        let nav = super::nav(&state);
        assert_eq!(nav.optimistic, Amount(u128::MAX), "deposits become dearer");
        assert_eq!(nav.conservative, Amount(1_000), "redemptions are priced without it");
        assert_eq!(nav.share_supply, Amount::ZERO);
        assert!(nav.redemption_price_wad() <= nav.deposit_price_wad());
    }

    #[test]
    fn a_price_view_that_overflows_reads_the_largest_price_not_zero() {
        // One share unit (plus the virtual ones) against the largest NAV: the price per whole
        // share does not fit 128 bits.
        let huge = nav(u128::MAX - VIRTUAL_ASSETS, u128::MAX - VIRTUAL_ASSETS, 1);
        assert_eq!(huge.assets_for_redemption(Amount(WAD)), Err(crate::math::Overflow.into()));
        assert_eq!(huge.redemption_price_wad(), u128::MAX);
        assert_eq!(huge.deposit_price_wad(), u128::MAX);
    }

    #[test]
    fn an_empty_vault_prices_a_share_at_exactly_one() {
        let empty = nav(0, 0, 0);
        assert_eq!(empty.shares_for_deposit(Amount(12_345)), Ok(Amount(12_345)));
        assert_eq!(empty.deposit_price_wad(), WAD);
        assert_eq!(empty.redemption_price_wad(), WAD);
    }

    proptest! {
        /// Every conversion rounds in the vault's favour: a deposit redeemed at once never
        /// returns more than it paid, minting costs at least what redeeming pays, and the
        /// shares a payout buys back never pay more than that payout.
        #[test]
        fn conversions_never_favour_the_user(
            conservative in 0u128..=1u128 << 100,
            accrued in 0u128..=1u128 << 90,
            supply in 0u128..=1u128 << 100,
            amount in 0u128..=1u128 << 100,
        ) {
            let nav = nav(conservative + accrued, conservative, supply);
            let shares = nav.shares_for_deposit(Amount(amount)).expect("in range");
            let after = Nav {
                optimistic: Amount(nav.optimistic.0 + amount),
                conservative: Amount(nav.conservative.0 + amount),
                share_supply: Amount(supply + shares.0),
                ..nav
            };
            prop_assert!(after.assets_for_redemption(shares).expect("in range").0 <= amount);
            let mint = nav.assets_for_mint(Amount(amount)).expect("in range");
            prop_assert!(mint >= nav.assets_for_redemption(Amount(amount)).expect("in range"));
            let buyback = nav.shares_for_redemption_assets(Amount(amount)).expect("in range");
            prop_assert!(nav.assets_for_redemption(buyback).expect("in range").0 <= amount);
            prop_assert!(nav.redemption_price_wad() <= nav.deposit_price_wad());
        }
    }
}
