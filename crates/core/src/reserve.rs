//! USDai and its reserve (SPEC 5): stablecoin prices, the T-bill index, mint and redeem, base
//! yield harvests into the vault, and the gateway to other chains.
//!
//! Guarantees: the reserve's exact value (TBILL units x index, compared in 256 bits without
//! rounding) never falls below the USDai supply: minting gives the floor of the value added,
//! redeeming removes the floor of TBILL units for the USDai burned, and a harvest mints the
//! floor of the surplus. A gateway credit happens once per external id; a payout is either
//! pending, confirmed (burned) or rejected (returned): no path loses or duplicates value.
//!
//! Attested reserves (issue 16): the TBILL the ledger mints is the protocol's own record; the
//! reserve custodian's signed attestations (par, market value, as-of time, document hash) are
//! the outside fact. While `reserve_attestation_required` is on, no USDai is issued (mint or
//! harvest) unless the newest attestation is younger than `reserve_attestation_max_age_secs`
//! and the supply after the issue stays within the attested market value plus
//! `reserve_attestation_tolerance_bps` (a harvest: within the attested value, no tolerance).
//! Redemptions never look at attestations: what is owed to holders is always paid.
//!
//! Rate limits (issue 16): `mint_limit_per_hour` and `redeem_limit_per_hour` bound the USDai
//! that mints add and redemptions retire over any sliding hour ([`FlowWindow`]), so a run
//! through the gateway is spread over hours instead of draining the T-bills in one block.
//! A limit delays, it never confiscates: what did not pass this hour passes later. One account
//! may use at most `rate_limit_account_share_bps` of each limit per hour, so a large holder, or
//! an attacker cycling mints and redemptions, cannot take the whole room from everyone else.
//!
//! This file holds the codes, the state, prices, the T-bill index, mint, redeem and harvest;
//! `rate_limits`, `attestations`, `gateway` and `deposit_queue` hold those parts.

mod attestations;
mod deposit_queue;
mod gateway;
mod rate_limits;

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::{require_not_paused, require_role},
    ids::{Account, Address, Asset, B256, PayoutId, ProtocolAccount, Symbol},
    ledger::{self, LedgerError},
    math::{
        Amount, BPS_DENOMINATOR, Bps, Overflow, Rate, Rounding, SECONDS_PER_YEAR, WAD, mul_div,
    },
    params::{PauseScope, Role},
    result_codes,
    state::State,
    table::{ByOwner, Slot, Table, Unordered, component},
    vault,
};
use alloy_primitives::U256;
pub use attestations::{
    AttestedBacking, PostReserveAttestation, ReserveAttestation, attested_backing,
    latest_attestation, ratio_bps,
};
use attestations::{issuance_bound, require_fresh_attestation};
pub use deposit_queue::{
    CancelQueuedDeposit, FILL_BATCH_MAX, FillQueuedDeposits, HeadFill, QUEUED_DEPOSIT_MIN,
    QUEUED_DEPOSITS_MAX, QUEUED_DEPOSITS_PER_OWNER_MAX, QueueDeposit, QueuedDeposit, head_fill,
    queued_deposits_of, queued_escrow,
};
pub use gateway::{
    DESTINATION_LENGTH_MAX, GatewayConfirm, GatewayCredit, GatewayReject, GatewayWithdraw, Payout,
    PayoutStatus, REASON_LENGTH_MAX,
};
use rate_limits::count_gateway_flow;
pub use rate_limits::{
    FlowWindow, GatewayFlow, GatewayFlows, RATE_LIMIT_PERIOD_SECS, account_rate_limit_per_hour,
    gateway_room, rate_limit_per_hour,
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of USDai, reserve, oracle and gateway actions.
    pub enum ReserveError {
        StablecoinNotSupported = 301 => "stablecoin_not_supported",
            "The stablecoin is not supported by the gateway.";
        StablecoinAlreadySupported = 302 => "stablecoin_already_supported",
            "The stablecoin is already supported.";
        PriceIsStale = 303 => "price_is_stale",
            "The oracle price of the stablecoin is missing or older than the maximum price age.";
        PriceOutsideDepegTolerance = 304 => "price_outside_depeg_tolerance",
            "The stablecoin's price is further from 1.0 than the depeg tolerance allows.";
        PriceOutOfRange = 305 => "price_out_of_range",
            "A stablecoin price must be greater than 0 and at most 2.0.";
        SupplyCapExceeded = 306 => "supply_cap_exceeded",
            "Minting this much would take the USDai supply above its cap.";
        SenderNotKycVerified = 307 => "sender_not_kyc_verified",
            "Minting requires a KYC-verified sender.";
        OutputBelowMinimum = 308 => "output_below_minimum",
            "The output is below the sender's minimum (slippage limit).";
        OutputRoundsToZero = 309 => "output_rounds_to_zero",
            "The amount is too small to produce any output.";
        ReserveBackingInsufficient = 310 => "reserve_backing_insufficient",
            "The reserve does not hold enough T-bills for this redemption.";
        ExternalIdAlreadyCredited = 311 => "external_id_already_credited",
            "This external transfer was already credited.";
        PayoutNotFound = 312 => "payout_not_found",
            "No gateway payout has this id.";
        PayoutNotPending = 313 => "payout_not_pending",
            "The gateway payout is already confirmed or rejected.";
        DestinationInvalid = 314 => "destination_invalid",
            "The payout destination must be 1 to 128 printable ASCII characters.";
        TbillRateExceedsMax = 315 => "tbill_rate_exceeds_max",
            "The T-bill yield rate is above the maximum the parameters allow.";
        BaseYieldSurplusIsZero = 316 => "base_yield_surplus_is_zero",
            "The reserve holds no surplus over the USDai supply to harvest.";
        ExternalIdAlreadyUsed = 317 => "external_id_already_used",
            "This external transfer id already confirmed another payout.";
        ReasonInvalid = 318 => "reason_invalid",
            "The rejection reason must be 1 to 256 printable ASCII characters.";
        ReserveAttestationIsStale = 319 => "reserve_attestation_is_stale",
            "The newest reserve attestation is missing or older than the maximum attestation age: USDai is issued again after a fresh one.";
        MintExceedsAttestedReserves = 320 => "mint_exceeds_attested_reserves",
            "The USDai supply after this would exceed the attested reserve value plus its tolerance.";
        AttestationDocumentHashMustNotBeZero = 321 => "attestation_document_hash_must_not_be_zero",
            "A reserve attestation must name the hash of its document.";
        AttestationAsOfIsInTheFuture = 322 => "attestation_as_of_is_in_the_future",
            "A reserve attestation cannot be as of a time after the current block.";
        AttestationIsNotNewer = 323 => "attestation_is_not_newer",
            "A reserve attestation must be as of a later time than the newest one.";
        AttestedSurplusIsZero = 324 => "attested_surplus_is_zero",
            "The attested reserve value does not exceed the USDai supply: there is no attested surplus to harvest.";
        MintRateLimitExceeded = 325 => "mint_rate_limit_exceeded",
            "Minting this much would exceed the USDai that may be minted per hour: mint less, or later.";
        RedeemRateLimitExceeded = 326 => "redeem_rate_limit_exceeded",
            "Redeeming this much would exceed the USDai that may be redeemed per hour: redeem less, or later.";
        MintAccountRateLimitExceeded = 327 => "mint_account_rate_limit_exceeded",
            "Minting this much would exceed this account's share of the USDai that may be minted per hour: mint less, or later.";
        RedeemAccountRateLimitExceeded = 328 => "redeem_account_rate_limit_exceeded",
            "Redeeming this much would exceed this account's share of the USDai that may be redeemed per hour: redeem less, or later.";
        DepositQueueIsNotEmpty = 329 => "deposit_queue_is_not_empty",
            "Deposits are waiting in the deposit queue: a direct mint would take their room; queue the deposit instead.";
        QueuedDepositBelowMinimum = 330 => "queued_deposit_below_minimum",
            "A queued deposit must be at least the minimum queued deposit.";
        DepositQueueIsFull = 331 => "deposit_queue_is_full",
            "The deposit queue holds as many deposits as it may: wait for it to fill.";
        QueuedDepositsPerOwnerExceeded = 332 => "queued_deposits_per_owner_exceeded",
            "This account already has as many queued deposits as one account may.";
        QueuedDepositNotFound = 333 => "queued_deposit_not_found",
            "No queued deposit has this id.";
        SenderIsNotDepositOwner = 334 => "sender_is_not_deposit_owner",
            "Only the depositor may cancel its queued deposit.";
        QueuedDepositsCannotFillNow = 335 => "queued_deposits_cannot_fill_now",
            "No queued deposit can be filled now: there is no room to mint, or the head deposit's price is stale or minting is paused.";
        FillBatchOutOfRange = 336 => "fill_batch_out_of_range",
            "The number of queued deposits to fill must be between 1 and the batch maximum.";
    }
}

/// The highest stablecoin price the oracle may post (2.0).
pub const PRICE_MAX: u128 = 2 * WAD;

/// A supported external stablecoin and its latest oracle price.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stablecoin {
    /// The price in USD, 18-decimal fixed point (1.0 = 10^18); 0 until the oracle posts.
    #[serde(with = "crate::math::u128_serde")]
    pub price_wad: u128,
    /// When the price was posted.
    pub price_posted_at: u64,
}

/// The T-bill index: it grows by the oracle's yield rate per second, simply between updates
/// and compounding at each update.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TbillIndex {
    /// The index at the last update, 18-decimal fixed point (starts at 1.0).
    #[serde(with = "crate::math::u128_serde")]
    pub index_at_update: u128,
    /// The per-second yield rate since the last update.
    pub rate_per_second: Rate,
    /// When the rate was last set.
    pub updated_at: u64,
}

impl Default for TbillIndex {
    fn default() -> TbillIndex {
        TbillIndex { index_at_update: WAD, rate_per_second: Rate(0), updated_at: 0 }
    }
}

impl TbillIndex {
    /// The index at `now`, rounded down (the reserve never claims more than it has), or
    /// [`Overflow`] when it no longer fits. Never a clamped value: an index clamped to its
    /// last update (the old `unwrap_or(0)` on the accrual) or to the maximum would misprice
    /// mints, redemptions and harvests, in opposite directions.
    pub fn at(&self, now: u64) -> Result<u128, Overflow> {
        // Time never goes back (the clock refuses it), so this is zero only at the update.
        let elapsed = u128::from(now.saturating_sub(self.updated_at));
        let growth = self.rate_per_second.0.checked_mul(elapsed).ok_or(Overflow)?;
        let accrued = mul_div(self.index_at_update, growth, WAD, Rounding::Down)?;
        self.index_at_update.checked_add(accrued).ok_or(Overflow)
    }
}

component! {
    /// The reserve, prices and the gateway.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReserveState at "reserve" paths ReservePaths {
        /// Supported stablecoins and their prices.
        pub stablecoins: Table<Symbol, Stablecoin>,
        /// The T-bill index.
        pub tbill: Slot<TbillIndex>,
        /// External transfer ids already credited. Read by id; iterated only to be encoded or
        /// checked: no key order kept ([`Unordered`]; an id is a hash, so each new one would
        /// land anywhere in a B-tree).
        pub credited_external_ids: Table<B256, (), Unordered>,
        /// External transfer ids that confirmed a payout (kept as the ids above).
        pub confirmed_external_ids: Table<B256, PayoutId, Unordered>,
        /// Every payout.
        pub payouts: Table<PayoutId, Payout>,
        /// The next payout id.
        pub next_payout_id: Slot<u64>,
        /// Every reserve attestation, by id (the history; the last is the newest).
        pub attestations: Table<u64, ReserveAttestation>,
        /// The next attestation id.
        pub next_attestation_id: Slot<u64>,
        /// Mints and redemptions counted against their per-hour limits.
        pub flows: Slot<GatewayFlows>,
        /// Each account's mints and redemptions counted against its share of the limits
        /// (only while a share below the whole limit applies). Read by account; iterated only
        /// to be encoded or checked: no key order kept ([`Unordered`]).
        pub account_flows: Table<Address, GatewayFlows, Unordered>,
        /// Deposits waiting for room to mint, first in first out by id (issue 16); indexed by
        /// owner (derived, not encoded).
        pub queued_deposits: Table<u64, QueuedDeposit, ByOwner<u64>>,
        /// The next queued deposit id.
        pub next_queued_deposit_id: Slot<u64>,
    }
}

/// The reserve's backing, for queries and invariants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backing {
    /// TBILL units in the reserve.
    pub tbill_units: Amount,
    /// The T-bill index now.
    #[serde(with = "crate::math::u128_serde")]
    pub tbill_index: u128,
    /// TBILL units x index, rounded down.
    pub reserve_value: Amount,
    /// USDai in existence.
    pub usdai_supply: Amount,
    /// Reserve value - supply, rounded down: what a harvest would mint.
    pub surplus: Amount,
}

/// The highest per-second T-bill rate (18-decimal) an APR cap of `max_apr_bps` allows.
pub fn tbill_rate_max(max_apr_bps: Bps) -> u128 {
    u128::from(max_apr_bps.0) * WAD / (BPS_DENOMINATOR * u128::from(SECONDS_PER_YEAR))
}

/// The reserve's backing at the state's time, or [`Overflow`] when the T-bill index or the
/// reserve's value no longer fits 128 bits (never a clamped figure).
pub fn backing(state: &State) -> Result<Backing, Overflow> {
    let tbill_units = state.ledger.balance(ProtocolAccount::Reserve, Asset::Tbill);
    let tbill_index = state.reserve.tbill.get().at(state.now())?;
    let usdai_supply = state.ledger.supply_of(Asset::Usdai);
    // Two 128-bit factors: the products are exact in 256 bits.
    let exact_value = U256::from(tbill_units.0) * U256::from(tbill_index);
    let exact_supply = U256::from(usdai_supply.0) * U256::from(WAD);
    let to_amount = |v: U256| u128::try_from(v / U256::from(WAD)).map(Amount).map_err(|_| Overflow);
    Ok(Backing {
        tbill_units,
        tbill_index,
        reserve_value: to_amount(exact_value)?,
        usdai_supply,
        // No surplus when the reserve is short: a floor at zero by definition, not a clamp.
        surplus: to_amount(exact_value.saturating_sub(exact_supply))?,
    })
}

/// Whether the reserve's exact value covers the USDai supply (SPEC 14.2), or [`Overflow`]
/// when the T-bill index no longer fits.
pub fn is_fully_backed(state: &State) -> Result<bool, Overflow> {
    let tbill_units = state.ledger.balance(ProtocolAccount::Reserve, Asset::Tbill);
    let tbill_index = state.reserve.tbill.get().at(state.now())?;
    let usdai_supply = state.ledger.supply_of(Asset::Usdai);
    Ok(U256::from(tbill_units.0) * U256::from(tbill_index)
        >= U256::from(usdai_supply.0) * U256::from(WAD))
}

/// What a harvest would mint now: the ledger's surplus, and while attestations are required,
/// no more than the attested value's surplus over the supply.
///
/// # Errors
/// `base_yield_surplus_is_zero`, `reserve_attestation_is_stale`, `attested_surplus_is_zero`.
pub fn harvestable(state: &State) -> Result<Amount, TxError> {
    let surplus = backing(state)?.surplus;
    if surplus.is_zero() {
        return Err(ReserveError::BaseYieldSurplusIsZero.into());
    }
    if !state.governance.params.get().reserve_attestation_required {
        return Ok(surplus);
    }
    let attestation = require_fresh_attestation(state)?;
    let attested_surplus =
        attestation.market_value.saturating_sub(state.ledger.supply_of(Asset::Usdai));
    if attested_surplus.is_zero() {
        return Err(ReserveError::AttestedSurplusIsZero.into());
    }
    Ok(surplus.min(attested_surplus))
}

/// Whether `account` may have USDai minted to it: not frozen, and verified when KYC is
/// required. One rule for a direct mint, a queued deposit and its fill, so a queued deposit
/// cannot mint to an account the direct mint would refuse.
fn require_may_mint(state: &State, account: Address) -> Result<(), TxError> {
    if state.ledger.is_frozen(account) {
        return Err(LedgerError::SenderIsFrozen.into());
    }
    if state.governance.params.get().kyc_required
        && !state.ledger.kyc_verified.contains_key(&account)
    {
        return Err(ReserveError::SenderNotKycVerified.into());
    }
    Ok(())
}

fn require_supported(state: &State, token: Symbol) -> Result<Stablecoin, TxError> {
    state
        .reserve
        .stablecoins
        .get(&token)
        .cloned()
        .ok_or(ReserveError::StablecoinNotSupported.into())
}

/// Admin: support a new stablecoin.
///
/// Admin adds a stablecoin to the gateway; it mints once priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddStablecoin {
    /// The stablecoin to support.
    pub token: Symbol,
}

impl ActionHandler for AddStablecoin {
    const NAME: &'static str = "add_stablecoin";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let token = self.token;
        require_role(state, Role::Admin, sender)?;
        if state.reserve.stablecoins.contains_key(&token) {
            return Err(ReserveError::StablecoinAlreadySupported.into());
        }
        state.reserve.stablecoins.insert(token, Stablecoin::default());
        state.emit(Event::StablecoinAdded { token });
        Ok(())
    }
}

/// Post a stablecoin price (18-decimal USD).
///
/// The oracle posts a stablecoin's USD price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPrice {
    /// The stablecoin priced.
    pub token: Symbol,
    /// Its price in USD, 18-decimal fixed point (1.0 = 10^18).
    #[serde(with = "crate::math::u128_serde")]
    pub price_wad: u128,
}

impl ActionHandler for PostPrice {
    const NAME: &'static str = "post_price";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { token, price_wad } = *self;
        require_role(state, Role::Oracle, sender)?;
        require_supported(state, token)?;
        if price_wad == 0 || price_wad > PRICE_MAX {
            return Err(ReserveError::PriceOutOfRange.into());
        }
        let now = state.now();
        state.reserve.stablecoins.insert(token, Stablecoin { price_wad, price_posted_at: now });
        state.emit(Event::PricePosted { token, price_wad });
        Ok(())
    }
}

/// Post the T-bill per-second yield rate.
///
/// The oracle sets the T-bill yield rate; the index compounds at this moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostTbillRate {
    /// The T-bill yield, per second, 18-decimal fixed point.
    pub rate: Rate,
}

impl ActionHandler for PostTbillRate {
    const NAME: &'static str = "post_tbill_rate";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let rate = self.rate;
        require_role(state, Role::Oracle, sender)?;
        if rate.0 > tbill_rate_max(state.governance.params.get().max_tbill_apr_bps) {
            return Err(ReserveError::TbillRateExceedsMax.into());
        }
        let now = state.now();
        let index = state.reserve.tbill.get().at(now)?;
        *state.reserve.tbill.get_mut() =
            TbillIndex { index_at_update: index, rate_per_second: rate, updated_at: now };
        state.emit(Event::TbillRatePosted { rate, index });
        Ok(())
    }
}

/// Mint USDai from a stablecoin.
///
/// A stablecoin in, USDai out (SPEC 5). Checks in order: amount, support, pause,
/// frozen, KYC, price age, peg, balance, output and slippage, cap, and (while attestations are
/// required) the attestation's age and the attested bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintUsdai {
    /// The stablecoin paid in.
    pub token: Symbol,
    /// How much of it, in base units.
    pub amount: Amount,
    /// The least USDai the sender accepts (slippage bound).
    pub min_out: Amount,
}

impl ActionHandler for MintUsdai {
    const NAME: &'static str = "mint_usdai";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { token, amount, min_out } = *self;
        let stablecoin = require_supported(state, token)?;
        require_not_paused(state, PauseScope::Minting)?;
        require_may_mint(state, sender)?;
        require_mint_price(state, &stablecoin)?;
        if state.ledger.balance(sender, Asset::Stablecoin(token)) < amount {
            return Err(LedgerError::BalanceInsufficient.into());
        }
        // Queued deposits go first (issue 16): a direct mint would take the room they wait for.
        if !state.reserve.queued_deposits.is_empty() {
            return Err(ReserveError::DepositQueueIsNotEmpty.into());
        }
        let quote = quote_mint(state, &stablecoin, amount)?;
        if quote.rounds_to_zero() {
            return Err(ReserveError::OutputRoundsToZero.into());
        }
        if quote.out < min_out {
            return Err(ReserveError::OutputBelowMinimum.into());
        }
        require_issuance_room(state, quote.gross)?;
        // The last check: the USDai added (fee included) within the per-hour limit and the
        // sender's share of it.
        count_gateway_flow(state, sender, GatewayFlow::Mint, quote.gross)?;
        settle_mint(state, Account::User(sender), sender, token, amount, quote)?;
        Ok(())
    }
}

/// A mint of a stablecoin amount, quoted at the oracle price and the T-bill index now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MintQuote {
    /// TBILL units bought.
    pub(crate) tbill_units: Amount,
    /// USDai added to the supply (what the units back), fee included.
    pub(crate) gross: Amount,
    /// The mint fee, minted to the fee collector.
    pub(crate) fee: Amount,
    /// USDai to the depositor.
    pub(crate) out: Amount,
}

impl MintQuote {
    /// Whether the mint would issue nothing.
    pub(crate) fn rounds_to_zero(&self) -> bool {
        self.out.is_zero() || self.tbill_units.is_zero()
    }
}

/// Quotes a mint of `amount` of `stablecoin`: value in, rounded down; then TBILL units bought,
/// rounded down; then the USDai those units back, rounded down. Each floor leaves the dust in
/// the reserve, never with the user; the fee rounds up.
pub(crate) fn quote_mint(
    state: &State,
    stablecoin: &Stablecoin,
    amount: Amount,
) -> Result<MintQuote, TxError> {
    let value = amount.mul_wad(stablecoin.price_wad, Rounding::Down)?;
    let index = state.reserve.tbill.get().at(state.now())?;
    let tbill_units = value.div_wad(index, Rounding::Down)?;
    let gross = tbill_units.mul_wad(index, Rounding::Down)?;
    let fee = gross.mul_bps(state.governance.params.get().mint_fee_bps, Rounding::Up)?;
    Ok(MintQuote { tbill_units, gross, fee, out: gross.saturating_sub(fee) })
}

/// A stablecoin is minted against only at a fresh price within the depeg tolerance.
pub(crate) fn require_mint_price(state: &State, stablecoin: &Stablecoin) -> Result<(), TxError> {
    let params = state.governance.params.get();
    if stablecoin.price_wad == 0
        || state.now().saturating_sub(stablecoin.price_posted_at) > params.max_price_age_secs
    {
        return Err(ReserveError::PriceIsStale.into());
    }
    let tolerance = Amount(WAD).mul_bps(params.depeg_tolerance_bps, Rounding::Down)?.0;
    if stablecoin.price_wad.abs_diff(WAD) > tolerance {
        return Err(ReserveError::PriceOutsideDepegTolerance.into());
    }
    Ok(())
}

/// `gross` more USDai stays within the supply cap and, while attestations are required, the
/// fresh attested bound.
pub(crate) fn require_issuance_room(state: &State, gross: Amount) -> Result<(), TxError> {
    let params = state.governance.params.get();
    let supply_after = state.ledger.supply_of(Asset::Usdai).checked_add(gross)?;
    if supply_after > params.usdai_supply_cap {
        return Err(ReserveError::SupplyCapExceeded.into());
    }
    if params.reserve_attestation_required {
        let attestation = require_fresh_attestation(state)?;
        let bound =
            issuance_bound(attestation.market_value, params.reserve_attestation_tolerance_bps);
        if supply_after > bound {
            return Err(ReserveError::MintExceedsAttestedReserves.into());
        }
    }
    Ok(())
}

/// The USDai that may still be issued now: the supply cap's room and, while attestations are
/// required, the fresh attested bound's (zero while the attestation is stale).
pub fn issuance_room(state: &State) -> Amount {
    let params = state.governance.params.get();
    let supply = state.ledger.supply_of(Asset::Usdai);
    let mut room = params.usdai_supply_cap.saturating_sub(supply);
    if params.reserve_attestation_required {
        room = match require_fresh_attestation(state) {
            Ok(attestation) => room.min(
                issuance_bound(attestation.market_value, params.reserve_attestation_tolerance_bps)
                    .saturating_sub(supply),
            ),
            Err(_) => Amount::ZERO,
        };
    }
    room
}

/// Settles a quoted mint: `amount` of `token` from `payer` into the reserve (it leaves the
/// ledger to buy T-bills; TBILL stands for them), the USDai to `owner`, the fee to the fee
/// collector.
pub(crate) fn settle_mint(
    state: &mut State,
    payer: Account,
    owner: Address,
    token: Symbol,
    amount: Amount,
    quote: MintQuote,
) -> Result<(), TxError> {
    let stable = Asset::Stablecoin(token);
    ledger::transfer(state, stable, payer, ProtocolAccount::Reserve, amount)?;
    ledger::burn(state, stable, ProtocolAccount::Reserve, amount)?;
    ledger::mint(state, Asset::Tbill, ProtocolAccount::Reserve, quote.tbill_units)?;
    ledger::mint(state, Asset::Usdai, owner, quote.out)?;
    if !quote.fee.is_zero() {
        ledger::mint(state, Asset::Usdai, ProtocolAccount::FeeCollector, quote.fee)?;
    }
    state.emit(Event::UsdaiMinted {
        account: owner,
        token,
        amount_in: amount,
        usdai_out: quote.out,
        fee: quote.fee,
    });
    Ok(())
}

/// Redeem USDai for a stablecoin.
///
/// USDai in, a stablecoin out at par minus the redeem fee (SPEC 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemUsdai {
    /// The stablecoin paid out.
    pub token: Symbol,
    /// USDai burned, in base units.
    pub amount: Amount,
    /// The least stablecoin the sender accepts (slippage bound).
    pub min_out: Amount,
}

impl ActionHandler for RedeemUsdai {
    const NAME: &'static str = "redeem_usdai";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { token, amount, min_out } = *self;
        require_supported(state, token)?;
        if state.ledger.is_frozen(sender) {
            return Err(LedgerError::SenderIsFrozen.into());
        }
        if state.ledger.balance(sender, Asset::Usdai) < amount {
            return Err(LedgerError::BalanceInsufficient.into());
        }
        let params = state.governance.params.get();
        let fee = amount.mul_bps(params.redeem_fee_bps, Rounding::Up)?;
        let net = amount.saturating_sub(fee);
        let index = state.reserve.tbill.get().at(state.now())?;
        // TBILL units drawn for the USDai burned, rounded down, and the payout those units are worth,
        // rounded down: the reserve never loses more value than the supply it retires.
        let tbill_units = net.div_wad(index, Rounding::Down)?;
        let out = tbill_units.mul_wad(index, Rounding::Down)?;
        if out.is_zero() || tbill_units.is_zero() {
            return Err(ReserveError::OutputRoundsToZero.into());
        }
        if out < min_out {
            return Err(ReserveError::OutputBelowMinimum.into());
        }
        if state.ledger.balance(ProtocolAccount::Reserve, Asset::Tbill) < tbill_units {
            return Err(ReserveError::ReserveBackingInsufficient.into());
        }
        // The last check: the USDai retired (fee included) within the per-hour limit and the
        // sender's share of it.
        count_gateway_flow(state, sender, GatewayFlow::Redeem, amount)?;
        if !fee.is_zero() {
            ledger::transfer(state, Asset::Usdai, sender, ProtocolAccount::FeeCollector, fee)?;
        }
        ledger::burn(state, Asset::Usdai, sender, net)?;
        ledger::burn(state, Asset::Tbill, ProtocolAccount::Reserve, tbill_units)?;
        ledger::mint(state, Asset::Stablecoin(token), Account::User(sender), out)?;
        state.emit(Event::UsdaiRedeemed {
            account: sender,
            token,
            usdai_in: amount,
            amount_out: out,
            fee,
        });
        Ok(())
    }
}

/// Keeper: harvest the reserve's surplus into the vault.
///
/// Anyone mints the reserve's surplus as USDai into the vault, less the
/// protocol's yield fee; it vests into NAV over `yield_vesting_secs`. While no sUSDai exists
/// the surplus stays in the reserve (`vault::require_shares_outstanding` says why). While
/// attestations are required, only the surplus the custodian attests is minted
/// ([`harvestable`]): yield the ledger counts but nobody outside has seen is not issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HarvestBaseYield {}

impl ActionHandler for HarvestBaseYield {
    const NAME: &'static str = "harvest_base_yield";
    // It mints the reserve surplus into the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, _sender: Address) -> Result<(), TxError> {
        let surplus = harvestable(state)?;
        vault::require_shares_outstanding(state)?;
        let fee = surplus.mul_bps(state.governance.params.get().yield_fee_bps, Rounding::Up)?;
        let to_vault = surplus.saturating_sub(fee);
        if !fee.is_zero() {
            ledger::mint(state, Asset::Usdai, ProtocolAccount::FeeCollector, fee)?;
        }
        if !to_vault.is_zero() {
            ledger::mint(state, Asset::Usdai, ProtocolAccount::Vault, to_vault)?;
            vault::start_vesting(state, to_vault)?;
        }
        state.emit(Event::BaseYieldHarvested { surplus, fee, to_vault });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tbill_index_that_no_longer_fits_is_an_overflow_not_a_clamp() {
        let index = TbillIndex {
            index_at_update: u128::MAX / 2,
            rate_per_second: Rate(WAD),
            updated_at: 0,
        };
        assert_eq!(index.at(0), Ok(u128::MAX / 2));
        // Three seconds at 100% a second: the old code dropped the accrual (`unwrap_or(0)`)
        // and read the index of the last update, under-valuing the reserve.
        assert_eq!(index.at(3), Err(Overflow));
        let mut genesis = crate::Genesis::with_admin(Address::repeat_byte(1), 0);
        genesis.tbill_rate = Rate(tbill_rate_max(genesis.params.max_tbill_apr_bps) + 1);
        assert!(crate::State::from_genesis(&genesis).is_err(), "the cap holds at genesis too");
        genesis.tbill_rate.0 -= 1;
        let state = crate::State::from_genesis(&genesis).expect("at the cap");
        assert!(backing(&state).is_ok());
    }

    /// `reserve_backing_insufficient` (310) guards a redemption against a reserve that holds
    /// less TBILL than it must pay out. No transaction reaches it while SPEC 14.2 holds (the
    /// reserve is worth at least the USDai supply), so this test breaks the invariant from
    /// inside the crate: USDai minted with no TBILL behind it. The redemption is refused with
    /// the code, not an underflow, and changes nothing.
    #[test]
    fn a_redemption_the_reserve_cannot_back_is_refused_with_its_code() {
        use crate::{
            ids::USDC,
            table::Journaled,
            tx::{BlockContext, Transaction, apply},
        };
        let user = Address::repeat_byte(2);
        let genesis = crate::Genesis::with_admin(Address::repeat_byte(1), 0);
        let mut state = crate::State::from_genesis(&genesis).expect("a valid genesis");
        ledger::mint(&mut state, Asset::Usdai, user, Amount::from_whole(100)).expect("mints");
        state.commit();
        state.events.clear();
        let before = state.state_hash();
        let redeem =
            RedeemUsdai { token: USDC, amount: Amount::from_whole(100), min_out: Amount::ZERO };
        let tx = Transaction { sender: user, action: redeem.into() };
        let block = BlockContext { height: 0, timestamp: 0 };
        let refused = apply(&mut state, &block, &tx).expect_err("nothing backs the payout");
        assert_eq!(refused, ReserveError::ReserveBackingInsufficient.into());
        assert_eq!(refused.code(), 310);
        assert_eq!(state.state_hash(), before);
    }
}
