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
}
