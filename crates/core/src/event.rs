//! Events: one for every state change, in the order it happened. Ledger movements are
//! `Transferred`, `Minted` and `Burned`; each action adds its own semantic event.

use crate::{
    ids::{Account, Address, Asset, B256, PayoutId, RequestId, Symbol},
    math::{Amount, Rate},
    params::{ParameterChange, PauseScope, Role},
    queue::RoundRecord,
};
use serde::{Deserialize, Serialize};

/// Something that happened in a committed transaction or block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)] // Field names say what they carry; each variant is documented.
pub enum Event {
    /// A ledger transfer.
    Transferred { asset: Asset, from: Account, to: Account, amount: Amount },
    /// Supply created.
    Minted { asset: Asset, to: Account, amount: Amount },
    /// Supply destroyed.
    Burned { asset: Asset, from: Account, amount: Amount },
    /// A role was granted.
    RoleGranted { role: Role, account: Address },
    /// A role was revoked.
    RoleRevoked { role: Role, account: Address },
    /// A parameter change waits for the governance delay.
    ParameterChangeScheduled { change: ParameterChange, effective_at: u64 },
    /// A parameter changed.
    ParameterChanged { change: ParameterChange },
    /// A pause scope changed.
    PauseChanged { scope: PauseScope, paused: bool },
    /// An address was frozen.
    AccountFrozen { account: Address },
    /// An address was unfrozen.
    AccountUnfrozen { account: Address },
    /// An address's KYC status changed.
    KycStatusChanged { account: Address, verified: bool },
    /// A stablecoin was added to the gateway.
    StablecoinAdded { token: Symbol },
    /// The oracle posted a stablecoin price.
    PricePosted { token: Symbol, price: u128 },
    /// The oracle posted the T-bill rate; `index` is the compounded index at that moment.
    TbillRatePosted { rate: Rate, index: u128 },
    /// The gateway credited an external deposit.
    GatewayCredited { account: Address, token: Symbol, amount: Amount, external_id: B256 },
    /// A user asked for a payout to another chain.
    PayoutRequested { payout_id: PayoutId, owner: Address, token: Symbol, amount: Amount },
    /// A payout was made.
    PayoutConfirmed { payout_id: PayoutId, external_id: B256 },
    /// A payout was refused and returned.
    PayoutRejected { payout_id: PayoutId },
    /// USDai was minted from a stablecoin.
    UsdaiMinted {
        account: Address,
        token: Symbol,
        amount_in: Amount,
        usdai_out: Amount,
        fee: Amount,
    },
    /// USDai was redeemed for a stablecoin.
    UsdaiRedeemed {
        account: Address,
        token: Symbol,
        usdai_in: Amount,
        amount_out: Amount,
        fee: Amount,
    },
    /// Base yield was harvested into the vault.
    BaseYieldHarvested { surplus: Amount, fee: Amount, to_vault: Amount },
    /// USDai was staked for sUSDai.
    Staked { account: Address, assets: Amount, shares: Amount },
    /// USDai was donated to the vault.
    DonatedToVault { account: Address, amount: Amount },
    /// A redemption request was made.
    RedemptionRequested { request_id: RequestId, owner: Address, shares: Amount, eligible_at: u64 },
    /// A redemption request was cancelled.
    RedemptionCancelled { request_id: RequestId, shares: Amount },
    /// A request was served, in full or in part.
    RedemptionServed { request_id: RequestId, shares: Amount, assets: Amount, fully_served: bool },
    /// Served USDai was claimed.
    RedemptionClaimed { request_id: RequestId, owner: Address, assets: Amount },
    /// A servicing round ran.
    QueueRoundServiced { record: RoundRecord },
    /// An open bid was set (0 withdraws it); `escrow` is what `BidEscrow` now holds for it.
    BidSet { request_id: RequestId, price_wad: u128, escrow: Amount },
    /// A sealed bid was committed for round `round`.
    SealedBidCommitted { request_id: RequestId, commitment: B256, deposit: Amount, round: u64 },
    /// A sealed bid was revealed and became the open bid; `returned` went back to the owner.
    SealedBidRevealed { request_id: RequestId, price_wad: u128, escrow: Amount, returned: Amount },
    /// A sealed bid ended unrevealed (or was cancelled): `penalty` to the fee pool, `returned`
    /// owed back to the owner.
    SealedBidReleased { request_id: RequestId, penalty: Amount, returned: Amount },
    /// A served request with a bid was charged: `fee` = clearing price x shares (0 unless it
    /// jumped an older request); `escrow_released` is owed back to its owner.
    PriorityFeeCharged {
        request_id: RequestId,
        bid_price_wad: u128,
        clearing_price_wad: u128,
        shares: Amount,
        fee: Amount,
        escrow_released: Amount,
    },
    /// Wait-fees were settled into a request, vesting from `credited_at`.
    WaitFeesCredited { request_id: RequestId, amount: Amount, credited_at: u64 },
    /// A cancelled request's unvested wait-fees returned to the fee pool.
    WaitFeesForfeited { request_id: RequestId, amount: Amount },
    /// Vested wait-fees were claimed.
    WaitFeesClaimed { request_id: RequestId, owner: Address, amount: Amount },
    /// Escrow released by rounds or sealed bids was claimed.
    EscrowRefundClaimed { request_id: RequestId, owner: Address, amount: Amount },
    /// A request changed owner by gift.
    RequestTransferred { request_id: RequestId, from: Address, to: Address },
    /// A request was listed for sale (or its price changed).
    RequestListed { request_id: RequestId, seller: Address, price: Amount },
    /// A listing was withdrawn.
    RequestDelisted { request_id: RequestId },
    /// A listed request was bought.
    RequestSold { request_id: RequestId, seller: Address, buyer: Address, price: Amount },
}
