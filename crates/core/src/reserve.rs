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
    params::{Params, PauseScope, Role},
    result_codes,
    state::State,
    table::{Slot, Table, component},
    vault,
};
use alloy_primitives::U256;
pub use deposit_queue::{
    CancelQueuedDeposit, FILL_BATCH_MAX, FillQueuedDeposits, HeadFill, QUEUED_DEPOSIT_MIN,
    QUEUED_DEPOSITS_MAX, QUEUED_DEPOSITS_PER_OWNER_MAX, QueueDeposit, QueuedDeposit, head_fill,
    queued_escrow,
};

mod deposit_queue;
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

/// The longest gateway payout destination, in bytes.
pub const DESTINATION_LENGTH_MAX: usize = 128;
/// The longest payout rejection reason, in bytes.
pub const REASON_LENGTH_MAX: usize = 256;
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

/// Where a gateway payout stands. In JSON: `{"status": "confirmed", "external_id": "0x.."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    /// Debited from the user, waiting for the attestor.
    Pending,
    /// Paid out on the other chain; the stablecoin was burned here.
    Confirmed {
        /// The external transfer that paid it.
        external_id: B256,
    },
    /// Refused; the stablecoin went back to the owner.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// The serde mirrors of [`PayoutStatus`]: postcard cannot read the tagged JSON shape back, so
/// the state's binary encoding uses the plain enum (see `params::serde_by_format`).
mod payout_status_forms {
    use super::{B256, PayoutStatus};
    use serde::{Deserialize, Serialize};

    /// JSON form, tagged by `status`.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case", tag = "status")]
    pub(super) enum Tagged {
        Pending,
        Confirmed { external_id: B256 },
        Rejected { reason: String },
    }

    /// Binary form: variant index, then fields.
    #[derive(Serialize, Deserialize)]
    pub(super) enum Indexed {
        Pending,
        Confirmed { external_id: B256 },
        Rejected { reason: String },
    }

    macro_rules! convert {
        ($from:ty => $to:ty, $from_path:ident => $to_path:ident) => {
            impl From<$from> for $to {
                fn from(status: $from) -> $to {
                    match status {
                        $from_path::Pending => $to_path::Pending,
                        $from_path::Confirmed { external_id } => {
                            $to_path::Confirmed { external_id }
                        }
                        $from_path::Rejected { reason } => $to_path::Rejected { reason },
                    }
                }
            }
        };
    }
    convert!(PayoutStatus => Tagged, PayoutStatus => Tagged);
    convert!(Tagged => PayoutStatus, Tagged => PayoutStatus);
    convert!(PayoutStatus => Indexed, PayoutStatus => Indexed);
    convert!(Indexed => PayoutStatus, Indexed => PayoutStatus);
}

crate::params::serde_by_format!(
    PayoutStatus,
    human: payout_status_forms::Tagged,
    binary: payout_status_forms::Indexed
);

/// A withdrawal to another chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// Its id.
    pub id: PayoutId,
    /// Who withdrew.
    pub owner: Address,
    /// Which stablecoin.
    pub token: Symbol,
    /// How much.
    pub amount: Amount,
    /// Where to (an address on the other chain).
    pub destination: String,
    /// When it was requested.
    pub requested_at: u64,
    /// Its status.
    pub status: PayoutStatus,
}

/// The seconds a rate limit is measured over: limits are amounts per hour.
pub const RATE_LIMIT_PERIOD_SECS: u64 = 3_600;

/// One direction's use of its per-hour limit, as a leaky bucket: what passed is counted, and
/// the count drains at the limit's pace (the full limit per hour), so at any moment the USDai
/// that passed over the last hour is at most the limit, with no burst at an hour's edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowWindow {
    /// USDai counted against the limit at `updated_at`.
    pub used: Amount,
    /// When `used` was last counted.
    pub updated_at: u64,
}

impl FlowWindow {
    /// What is still counted at `now` against `limit_per_hour`: `used` less what drained
    /// since `updated_at`. The drain rounds down (the room returns no faster than the limit).
    pub fn used_at(&self, limit_per_hour: Amount, now: u64) -> Amount {
        let elapsed = u128::from(now.saturating_sub(self.updated_at));
        let period = u128::from(RATE_LIMIT_PERIOD_SECS);
        match limit_per_hour.mul_div(elapsed, period, Rounding::Down) {
            Ok(drained) => self.used.saturating_sub(drained),
            // A drain beyond the largest amount exceeds any count: all of it has drained
            // (exact, not a clamp).
            Err(Overflow) => Amount::ZERO,
        }
    }

    /// What may still pass at `now` (`None`: the limit is zero, no limit).
    pub fn room(&self, limit_per_hour: Amount, now: u64) -> Option<Amount> {
        (!limit_per_hour.is_zero())
            .then(|| limit_per_hour.saturating_sub(self.used_at(limit_per_hour, now)))
    }

    /// Counts `amount` passing at `now`, or refuses with `exceeded` and changes nothing. With
    /// no limit nothing is counted.
    fn count(
        &mut self,
        limit_per_hour: Amount,
        amount: Amount,
        now: u64,
        exceeded: ReserveError,
    ) -> Result<(), TxError> {
        if limit_per_hour.is_zero() {
            return Ok(());
        }
        let used = self.used_at(limit_per_hour, now).checked_add(amount)?;
        if used > limit_per_hour {
            return Err(exceeded.into());
        }
        *self = FlowWindow { used, updated_at: now };
        Ok(())
    }
}

/// The gateway's flows against their per-hour limits (the whole gateway's, or one account's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayFlows {
    /// USDai added to the supply by mints (fees included).
    pub minted: FlowWindow,
    /// USDai retired by redemptions (fees included).
    pub redeemed: FlowWindow,
}

/// Which way USDai passes the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayFlow {
    /// Stablecoin in, USDai minted.
    Mint,
    /// USDai burned, stablecoin out.
    Redeem,
}

impl GatewayFlows {
    /// The window counting `flow`.
    pub fn window(&self, flow: GatewayFlow) -> &FlowWindow {
        match flow {
            GatewayFlow::Mint => &self.minted,
            GatewayFlow::Redeem => &self.redeemed,
        }
    }

    fn window_mut(&mut self, flow: GatewayFlow) -> &mut FlowWindow {
        match flow {
            GatewayFlow::Mint => &mut self.minted,
            GatewayFlow::Redeem => &mut self.redeemed,
        }
    }
}

/// The per-hour limit of `flow` (zero: no limit).
pub fn rate_limit_per_hour(params: &Params, flow: GatewayFlow) -> Amount {
    match flow {
        GatewayFlow::Mint => params.mint_limit_per_hour,
        GatewayFlow::Redeem => params.redeem_limit_per_hour,
    }
}

/// One account's per-hour limit of `flow`: its share of the gateway's limit, rounded down but
/// at least one base unit (a limit of zero would mean none), or `None` when the gateway has no
/// limit or an account may use all of it.
pub fn account_rate_limit_per_hour(params: &Params, flow: GatewayFlow) -> Option<Amount> {
    let limit = rate_limit_per_hour(params, flow);
    let share = params.rate_limit_account_share_bps;
    if limit.is_zero() || share >= Bps::ONE {
        return None;
    }
    // A share of a limit is at most the limit: the product cannot overflow past it.
    let part = limit.mul_bps(share, Rounding::Down).unwrap_or(limit);
    Some(part.max(Amount(1)))
}

/// What `account` may pass of `flow` at `now`: the least of the gateway's room and the
/// account's own (`None`: no limit applies).
pub fn gateway_room(state: &State, account: Address, flow: GatewayFlow) -> Option<Amount> {
    let params = state.governance.params.get();
    let now = state.now();
    let whole =
        state.reserve.flows.get().window(flow).room(rate_limit_per_hour(params, flow), now)?;
    let own = account_rate_limit_per_hour(params, flow).map(|limit| {
        let mine = state.reserve.account_flows.get(&account).copied().unwrap_or_default();
        mine.window(flow).room(limit, now).unwrap_or(limit)
    });
    Some(own.map_or(whole, |own| own.min(whole)))
}

/// Counts `amount` of USDai passing the gateway as `flow` for `account` against the per-hour
/// limit and the account's share of it, or refuses with the limit it would exceed and changes
/// nothing. With no limit nothing is counted.
fn count_gateway_flow(
    state: &mut State,
    account: Address,
    flow: GatewayFlow,
    amount: Amount,
) -> Result<(), TxError> {
    let params = state.governance.params.get();
    let limit = rate_limit_per_hour(params, flow);
    if limit.is_zero() {
        return Ok(());
    }
    let account_limit = account_rate_limit_per_hour(params, flow);
    let now = state.now();
    let (exceeded, account_exceeded) = match flow {
        GatewayFlow::Mint => {
            (ReserveError::MintRateLimitExceeded, ReserveError::MintAccountRateLimitExceeded)
        }
        GatewayFlow::Redeem => {
            (ReserveError::RedeemRateLimitExceeded, ReserveError::RedeemAccountRateLimitExceeded)
        }
    };
    let mut flows = *state.reserve.flows.get();
    flows.window_mut(flow).count(limit, amount, now, exceeded)?;
    if let Some(account_limit) = account_limit {
        let mut mine = state.reserve.account_flows.get(&account).copied().unwrap_or_default();
        mine.window_mut(flow).count(account_limit, amount, now, account_exceeded)?;
        state.reserve.account_flows.insert(account, mine);
    }
    *state.reserve.flows.get_mut() = flows;
    Ok(())
}

/// A reserve custodian's signed statement of the T-bills behind USDai: the transaction that
/// posts it is signed by the custodian (EIP-712), and the document it hashes is the custodian's
/// statement or the auditor's report that anyone holding it can check against the hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveAttestation {
    /// Its number, in posting order from 0.
    pub id: u64,
    /// The reserve custodian who signed it.
    pub custodian: Address,
    /// Face value of the T-bills held, in USD (18 decimals).
    pub par_amount: Amount,
    /// Their market value at `as_of`, in USD (18 decimals): the figure backing is measured by.
    pub market_value: Amount,
    /// The time the holdings were measured (unix seconds), at most the posting block's time.
    pub as_of: u64,
    /// The keccak-256 of the statement or report it summarises.
    pub document_hash: B256,
    /// When it was posted (the block's time).
    pub posted_at: u64,
}

component! {
    /// The reserve, prices and the gateway.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct ReserveState at "reserve" paths ReservePaths {
        /// Supported stablecoins and their prices.
        pub stablecoins: Table<Symbol, Stablecoin>,
        /// The T-bill index.
        pub tbill: Slot<TbillIndex>,
        /// External transfer ids already credited.
        pub credited_external_ids: Table<B256, ()>,
        /// External transfer ids that confirmed a payout.
        pub confirmed_external_ids: Table<B256, PayoutId>,
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
        /// (only while a share below the whole limit applies).
        pub account_flows: Table<Address, GatewayFlows>,
        /// Deposits waiting for room to mint, first in first out by id (issue 16).
        pub queued_deposits: Table<u64, QueuedDeposit>,
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

/// The backing as the custodian attests it, beside the ledger's own figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestedBacking {
    /// The newest attestation's id.
    pub attestation_id: u64,
    /// Its attested market value.
    pub attested_value: Amount,
    /// Its as-of time.
    pub as_of: u64,
    /// Seconds from its as-of time to the state's time.
    pub age_secs: u64,
    /// Whether it is older than `reserve_attestation_max_age_secs`.
    pub is_stale: bool,
    /// Attested value / USDai supply in basis points, rounded down (`None` with no supply).
    pub backing_bps: Option<u128>,
    /// The most the supply may reach by minting: attested value plus the tolerance, rounded
    /// down.
    pub issuance_bound: Amount,
    /// What a mint may still add now (0 when stale or at the bound).
    pub mint_headroom: Amount,
}

/// The newest reserve attestation, if any.
pub fn latest_attestation(state: &State) -> Option<&ReserveAttestation> {
    state.reserve.attestations.iter().next_back().map(|(_, attestation)| attestation)
}

/// `value` / `supply` in basis points, rounded down; `None` when nothing is issued.
///
/// A ratio above `u128::MAX` basis points (a value more than about 3.4 x 10^34 times the
/// supply) is shown as `u128::MAX`: the figure is for display only (`backing_bps`,
/// `ledger_backing_bps`), no rule reads it, and the shown ratio is then below the true one,
/// never above (the backing is understated, not overstated). Returning an overflow error
/// instead would hide a reserve that is merely very large. Pinned by
/// `tests::a_ratio_beyond_the_largest_number_is_shown_below_the_truth_and_decides_nothing`.
pub fn ratio_bps(value: Amount, supply: Amount) -> Option<u128> {
    if supply.is_zero() {
        return None;
    }
    let ratio = U256::from(value.0) * U256::from(BPS_DENOMINATOR) / U256::from(supply.0);
    Some(u128::try_from(ratio).unwrap_or(u128::MAX))
}

/// The attested backing at the state's time, if any attestation was posted.
pub fn attested_backing(state: &State) -> Option<AttestedBacking> {
    let attestation = latest_attestation(state)?;
    let params = state.governance.params.get();
    let supply = state.ledger.supply_of(Asset::Usdai);
    let age_secs = state.now().saturating_sub(attestation.as_of);
    let is_stale = age_secs > params.reserve_attestation_max_age_secs;
    let issuance_bound =
        issuance_bound(attestation.market_value, params.reserve_attestation_tolerance_bps);
    Some(AttestedBacking {
        attestation_id: attestation.id,
        attested_value: attestation.market_value,
        as_of: attestation.as_of,
        age_secs,
        is_stale,
        backing_bps: ratio_bps(attestation.market_value, supply),
        issuance_bound,
        mint_headroom: if is_stale { Amount::ZERO } else { issuance_bound.saturating_sub(supply) },
    })
}

/// Attested value plus `tolerance_bps` of it, rounded down (less room to mint, never more).
///
/// A true bound above `Amount::MAX` is returned as `Amount::MAX`. This decides every mint
/// exactly as the true bound would: the bound is only compared with a supply after a mint,
/// which the ledger keeps at most `Amount::MAX` (its additions are checked), so both admit
/// every supply; and the headroom shown (bound - supply) is then below the true headroom,
/// never above. Saturating never lets more USDai be issued than the attestation covers, and
/// returning the overflow code instead would refuse mints that the attestation does cover.
/// Pinned by `tests::an_issuance_bound_beyond_the_largest_amount_decides_mints_as_the_true_bound`.
fn issuance_bound(attested_value: Amount, tolerance_bps: Bps) -> Amount {
    let extra = attested_value.mul_bps(tolerance_bps, Rounding::Down).unwrap_or(Amount::MAX);
    attested_value.checked_add(extra).unwrap_or(Amount::MAX)
}

/// The newest attestation when it is fresh enough to issue against.
///
/// # Errors
/// `reserve_attestation_is_stale` when there is none or it is too old.
fn require_fresh_attestation(state: &State) -> Result<ReserveAttestation, TxError> {
    let max_age_secs = state.governance.params.get().reserve_attestation_max_age_secs;
    match latest_attestation(state) {
        Some(attestation) if state.now().saturating_sub(attestation.as_of) <= max_age_secs => {
            Ok(attestation.clone())
        }
        _ => Err(ReserveError::ReserveAttestationIsStale.into()),
    }
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

/// Attestor: credit an external deposit.
///
/// The attestor credits an external deposit, once per external id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayCredit {
    /// The user credited.
    pub account: Address,
    /// The stablecoin deposited on the other chain.
    pub token: Symbol,
    /// How much, in base units.
    pub amount: Amount,
    /// The external transfer id: a second credit with the same id is refused.
    pub external_id: B256,
}

impl ActionHandler for GatewayCredit {
    const NAME: &'static str = "gateway_credit";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { account, token, amount, external_id } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        require_supported(state, token)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if state.reserve.credited_external_ids.contains_key(&external_id) {
            return Err(ReserveError::ExternalIdAlreadyCredited.into());
        }
        state.reserve.credited_external_ids.insert(external_id, ());
        ledger::mint(state, Asset::Stablecoin(token), account, amount)?;
        state.emit(Event::GatewayCredited { account, token, amount, external_id });
        Ok(())
    }
}

fn is_printable_ascii(text: &str, length_max: usize) -> bool {
    !text.is_empty() && text.len() <= length_max && text.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// User: withdraw a stablecoin to another chain.
///
/// A user sends a stablecoin to another chain; it waits as a payout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayWithdraw {
    /// The stablecoin withdrawn.
    pub token: Symbol,
    /// How much, in base units.
    pub amount: Amount,
    /// Where the attestor pays it out (printable ASCII, bounded length).
    pub destination: String,
}

impl ActionHandler for GatewayWithdraw {
    const NAME: &'static str = "gateway_withdraw";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { token, amount, ref destination } = *self;
        require_supported(state, token)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if !is_printable_ascii(destination, DESTINATION_LENGTH_MAX) {
            return Err(ReserveError::DestinationInvalid.into());
        }
        ledger::transfer(
            state,
            Asset::Stablecoin(token),
            sender,
            ProtocolAccount::GatewayOut,
            amount,
        )?;
        let id = PayoutId(*state.reserve.next_payout_id.get());
        *state.reserve.next_payout_id.get_mut() += 1;
        let payout = Payout {
            id,
            owner: sender,
            token,
            amount,
            destination: destination.to_string(),
            requested_at: state.now(),
            status: PayoutStatus::Pending,
        };
        state.reserve.payouts.insert(id, payout);
        state.emit(Event::PayoutRequested { payout_id: id, owner: sender, token, amount });
        Ok(())
    }
}

fn pending_payout(state: &State, payout_id: PayoutId) -> Result<Payout, TxError> {
    let payout = state.reserve.payouts.get(&payout_id).ok_or(ReserveError::PayoutNotFound)?;
    if payout.status != PayoutStatus::Pending {
        return Err(ReserveError::PayoutNotPending.into());
    }
    Ok(payout.clone())
}

/// Attestor: confirm a payout.
///
/// The attestor confirms a payout was made; the stablecoin is burned here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfirm {
    /// The payout confirmed.
    pub payout_id: PayoutId,
    /// The id of the external payment that settled it.
    pub external_id: B256,
}

impl ActionHandler for GatewayConfirm {
    const NAME: &'static str = "gateway_confirm";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { payout_id, external_id } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        let mut payout = pending_payout(state, payout_id)?;
        if state.reserve.confirmed_external_ids.contains_key(&external_id) {
            return Err(ReserveError::ExternalIdAlreadyUsed.into());
        }
        ledger::burn(
            state,
            Asset::Stablecoin(payout.token),
            ProtocolAccount::GatewayOut,
            payout.amount,
        )?;
        state.reserve.confirmed_external_ids.insert(external_id, payout_id);
        payout.status = PayoutStatus::Confirmed { external_id };
        state.reserve.payouts.insert(payout_id, payout);
        state.emit(Event::PayoutConfirmed { payout_id, external_id });
        Ok(())
    }
}

/// Attestor: reject a payout.
///
/// The attestor refuses a payout; the stablecoin returns to its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayReject {
    /// The payout rejected; its funds return to the user.
    pub payout_id: PayoutId,
    /// Why (printable ASCII, bounded length).
    pub reason: String,
}

impl ActionHandler for GatewayReject {
    const NAME: &'static str = "gateway_reject";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { payout_id, ref reason } = *self;
        require_role(state, Role::GatewayAttestor, sender)?;
        let mut payout = pending_payout(state, payout_id)?;
        if !is_printable_ascii(reason, REASON_LENGTH_MAX) {
            return Err(ReserveError::ReasonInvalid.into());
        }
        let asset = Asset::Stablecoin(payout.token);
        ledger::transfer(state, asset, ProtocolAccount::GatewayOut, payout.owner, payout.amount)?;
        payout.status = PayoutStatus::Rejected { reason: reason.to_string() };
        state.reserve.payouts.insert(payout_id, payout);
        state.emit(Event::PayoutRejected { payout_id });
        Ok(())
    }
}

/// Reserve custodian: attest the T-bill holdings behind USDai.
///
/// Checks in order: role, document hash, as-of not in the future, as-of later than the newest
/// attestation's (a custodian cannot replay an older, better statement over a newer one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostReserveAttestation {
    /// Face value of the T-bills held, in USD.
    pub par_amount: Amount,
    /// Their market value at `as_of`, in USD.
    pub market_value: Amount,
    /// When the holdings were measured (unix seconds).
    pub as_of: u64,
    /// The keccak-256 of the statement or report.
    pub document_hash: B256,
}

impl ActionHandler for PostReserveAttestation {
    const NAME: &'static str = "post_reserve_attestation";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.document_hash.is_zero() {
            return Err(ReserveError::AttestationDocumentHashMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { par_amount, market_value, as_of, document_hash } = *self;
        require_role(state, Role::ReserveCustodian, sender)?;
        let now = state.now();
        if as_of > now {
            return Err(ReserveError::AttestationAsOfIsInTheFuture.into());
        }
        if latest_attestation(state).is_some_and(|newest| as_of <= newest.as_of) {
            return Err(ReserveError::AttestationIsNotNewer.into());
        }
        let id = *state.reserve.next_attestation_id.get();
        *state.reserve.next_attestation_id.get_mut() += 1;
        let attestation = ReserveAttestation {
            id,
            custodian: sender,
            par_amount,
            market_value,
            as_of,
            document_hash,
            posted_at: now,
        };
        state.reserve.attestations.insert(id, attestation);
        state.emit(Event::ReserveAttested {
            attestation_id: id,
            custodian: sender,
            par_amount,
            market_value,
            as_of,
            document_hash,
        });
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

    #[test]
    fn an_issuance_bound_beyond_the_largest_amount_decides_mints_as_the_true_bound() {
        // In range: value + 1% of it, rounded down.
        assert_eq!(issuance_bound(Amount(1_001), Bps(100)), Amount(1_011));
        // The true bound of the largest attestation with a 1% tolerance is 1.01 x MAX: every
        // supply the ledger can hold (at most MAX) is within it, and within MAX too.
        let bound = issuance_bound(Amount::MAX, Bps(100));
        assert_eq!(bound, Amount::MAX);
        for supply in [Amount::ZERO, Amount(u128::MAX / 2), Amount::MAX] {
            assert!(supply <= bound, "a supply the true bound admits is admitted");
        }
        // The headroom shown is the saturated one: below the true 1.01 x MAX - supply.
        let supply = Amount(u128::MAX / 2);
        let true_headroom = U256::from(u128::MAX) * U256::from(10_100u32) / U256::from(10_000u32)
            - U256::from(supply.0);
        assert!(U256::from(bound.saturating_sub(supply).0) < true_headroom);
        // A tolerance so large its product overflows saturates the same way.
        assert_eq!(issuance_bound(Amount(u128::MAX / 3), Bps(u32::MAX)), Amount::MAX);
    }

    #[test]
    fn a_ratio_beyond_the_largest_number_is_shown_below_the_truth_and_decides_nothing() {
        assert_eq!(ratio_bps(Amount(1_005), Amount(1_000)), Some(10_050));
        assert_eq!(ratio_bps(Amount(999), Amount(1_000)), Some(9_990), "rounded down");
        assert_eq!(ratio_bps(Amount(5), Amount::ZERO), None, "nothing issued");
        // MAX / 1 = MAX x 10,000 bps, beyond u128: shown as u128::MAX, below the truth.
        assert_eq!(ratio_bps(Amount::MAX, Amount(1)), Some(u128::MAX));
    }

    #[test]
    fn payout_statuses_round_trip_through_the_binary_encoding() {
        // Regression: the internally tagged derive could be written to postcard but not read
        // back, so `State::decode` failed as soon as any payout existed.
        let statuses = [
            PayoutStatus::Pending,
            PayoutStatus::Confirmed { external_id: B256::repeat_byte(7) },
            PayoutStatus::Rejected { reason: "bad address".into() },
        ];
        for status in statuses {
            let bytes = postcard::to_stdvec(&status).expect("encodes");
            assert_eq!(postcard::from_bytes::<PayoutStatus>(&bytes), Ok(status));
        }
    }
}
