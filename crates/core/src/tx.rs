//! Transactions and the one entry point: [`apply`].
//!
//! A transaction is `(sender, action)`; signatures, nonces and chain ids are checked by the node
//! before it reaches here. `apply` runs the action against the state inside a journal: on
//! success the writes stand and the events are returned; on rejection every write is undone,
//! so the state is exactly as it was.

use crate::{
    error::TxError,
    event::Event,
    governance,
    ids::{Address, Asset, B256, PayoutId, RequestId, Symbol},
    ledger::{self, LedgerError},
    math::{Amount, Rate},
    params::{ParameterChange, PauseScope, Role},
    points, qev, queue, reserve,
    state::{Clock, State},
    table::Journaled,
    vault,
};
use serde::{Deserialize, Serialize};

/// The block a transaction executes in: the state machine's only source of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockContext {
    /// Block height.
    pub height: u64,
    /// Block timestamp, unix seconds.
    pub timestamp: u64,
}

/// Every action a transaction can carry, named as on the wire (`snake_case` `type` tag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // Each variant is documented; its fields are its arguments.
pub enum Action {
    // Ledger.
    /// Send an asset to another user.
    Transfer { asset: Asset, to: Address, amount: Amount },
    // Governance (admin, guardian, compliance, KYC registrar).
    /// Admin: grant a role.
    GrantRole { role: Role, account: Address },
    /// Admin: revoke a role.
    RevokeRole { role: Role, account: Address },
    /// Admin: change a parameter.
    SetParameter { change: ParameterChange },
    /// Admin: support a new stablecoin.
    AddStablecoin { token: Symbol },
    /// Guardian: pause or unpause a scope.
    SetPause { scope: PauseScope, paused: bool },
    /// Compliance: freeze an address.
    Freeze { account: Address },
    /// Compliance: unfreeze an address.
    Unfreeze { account: Address },
    /// KYC registrar: set an address's verification.
    SetKyc { account: Address, verified: bool },
    // Oracle.
    /// Post a stablecoin price (18-decimal USD).
    PostPrice { token: Symbol, price: u128 },
    /// Post the T-bill per-second yield rate.
    PostTbillRate { rate: Rate },
    // Gateway.
    /// Attestor: credit an external deposit.
    GatewayCredit { account: Address, token: Symbol, amount: Amount, external_id: B256 },
    /// User: withdraw a stablecoin to another chain.
    GatewayWithdraw { token: Symbol, amount: Amount, destination: String },
    /// Attestor: confirm a payout.
    GatewayConfirm { payout_id: PayoutId, external_id: B256 },
    /// Attestor: reject a payout.
    GatewayReject { payout_id: PayoutId, reason: String },
    // USDai.
    /// Mint USDai from a stablecoin.
    MintUsdai { token: Symbol, amount: Amount, min_out: Amount },
    /// Redeem USDai for a stablecoin.
    RedeemUsdai { token: Symbol, amount: Amount, min_out: Amount },
    /// Keeper: harvest the reserve's surplus into the vault.
    HarvestBaseYield {},
    // Vault.
    /// Stake USDai for at least `min_shares` sUSDai.
    Stake { assets: Amount, min_shares: Amount },
    /// Mint exactly `shares` sUSDai for at most `max_assets` USDai.
    MintShares { shares: Amount, max_assets: Amount },
    /// Give USDai to all shareholders.
    DonateToVault { amount: Amount },
    // Queue.
    /// Lock shares in a redemption request.
    RequestRedeem { shares: Amount },
    /// Cancel an unserved request.
    CancelRedeem { request_id: RequestId },
    /// Keeper: run a servicing round.
    ServiceQueue { max_requests: u32 },
    /// Claim what a request owes: served USDai, released escrow, vested wait-fees.
    Claim { request_id: RequestId },
    // QEV.
    /// Attach, raise, lower or withdraw (0) the open priority bid per share on one's request.
    SetBid { request_id: RequestId, price_wad: u128 },
    /// Commit a sealed bid with a USDai deposit (see `qev::sealed_bid_commitment`).
    CommitSealedBid { request_id: RequestId, commitment: B256, deposit: Amount },
    /// Reveal a sealed bid in the reveal window.
    RevealSealedBid { request_id: RequestId, price_wad: u128, salt: B256 },
    /// Give one's request to another address.
    TransferRequest { request_id: RequestId, to: Address },
    /// List one's request for sale at a USDai price.
    ListRequest { request_id: RequestId, price: Amount },
    /// Withdraw one's listing.
    DelistRequest { request_id: RequestId },
    /// Buy a listed request for at most `max_price` USDai.
    BuyRequest { request_id: RequestId, max_price: Amount },
}

impl Action {
    /// The wire name of the action.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Transfer { .. } => "transfer",
            Action::GrantRole { .. } => "grant_role",
            Action::RevokeRole { .. } => "revoke_role",
            Action::SetParameter { .. } => "set_parameter",
            Action::AddStablecoin { .. } => "add_stablecoin",
            Action::SetPause { .. } => "set_pause",
            Action::Freeze { .. } => "freeze",
            Action::Unfreeze { .. } => "unfreeze",
            Action::SetKyc { .. } => "set_kyc",
            Action::PostPrice { .. } => "post_price",
            Action::PostTbillRate { .. } => "post_tbill_rate",
            Action::GatewayCredit { .. } => "gateway_credit",
            Action::GatewayWithdraw { .. } => "gateway_withdraw",
            Action::GatewayConfirm { .. } => "gateway_confirm",
            Action::GatewayReject { .. } => "gateway_reject",
            Action::MintUsdai { .. } => "mint_usdai",
            Action::RedeemUsdai { .. } => "redeem_usdai",
            Action::HarvestBaseYield {} => "harvest_base_yield",
            Action::Stake { .. } => "stake",
            Action::MintShares { .. } => "mint_shares",
            Action::DonateToVault { .. } => "donate_to_vault",
            Action::RequestRedeem { .. } => "request_redeem",
            Action::CancelRedeem { .. } => "cancel_redeem",
            Action::ServiceQueue { .. } => "service_queue",
            Action::Claim { .. } => "claim",
            Action::SetBid { .. } => "set_bid",
            Action::CommitSealedBid { .. } => "commit_sealed_bid",
            Action::RevealSealedBid { .. } => "reveal_sealed_bid",
            Action::TransferRequest { .. } => "transfer_request",
            Action::ListRequest { .. } => "list_request",
            Action::DelistRequest { .. } => "delist_request",
            Action::BuyRequest { .. } => "buy_request",
        }
    }

    /// Whether the action can move the sUSDai share price (points then resample it).
    fn moves_share_price(&self) -> bool {
        matches!(
            self,
            Action::HarvestBaseYield {}
                | Action::Stake { .. }
                | Action::MintShares { .. }
                | Action::DonateToVault { .. }
                | Action::ServiceQueue { .. }
        )
    }
}

/// A transaction as the state machine sees it: who sends which action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The authenticated sender.
    pub sender: Address,
    /// What it does.
    pub action: Action,
}

/// Moves the state's clock to `block` and runs time-driven upkeep: scheduled parameter changes
/// and the points accumulators. Idempotent for the same block; rejects time going backwards.
pub fn begin_block(state: &mut State, block: &BlockContext) -> Result<Vec<Event>, TxError> {
    let result = advance_clock(state, block);
    finish(state, result)
}

fn advance_clock(state: &mut State, block: &BlockContext) -> Result<(), TxError> {
    let clock = *state.clock.get();
    if block.timestamp < clock.timestamp {
        return Err(LedgerError::BlockTimeMustNotDecrease.into());
    }
    if block.timestamp == clock.timestamp && block.height == clock.height {
        return Ok(());
    }
    *state.clock.get_mut() = Clock { height: block.height, timestamp: block.timestamp };
    points::advance(state);
    governance::apply_due_changes(state);
    points::sample_share_price(state);
    Ok(())
}

fn finish(state: &mut State, result: Result<(), TxError>) -> Result<Vec<Event>, TxError> {
    match result {
        Ok(()) => {
            state.commit();
            Ok(std::mem::take(&mut state.events))
        }
        Err(error) => {
            state.rollback();
            Err(error)
        }
    }
}

/// Applies one transaction in `block`. On success returns its events (including the block's
/// upkeep events if this is the block's first transaction); on rejection the state is exactly
/// as before the call.
pub fn apply(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
) -> Result<Vec<Event>, TxError> {
    assert!(state.events.is_empty(), "events left over from an earlier transaction");
    let result = advance_clock(state, block).and_then(|()| execute(state, tx));
    let result = result.map(|()| {
        if tx.action.moves_share_price() {
            points::sample_share_price(state);
        }
    });
    finish(state, result)
}

fn execute(state: &mut State, tx: &Transaction) -> Result<(), TxError> {
    let sender = tx.sender;
    match &tx.action {
        Action::Transfer { asset, to, amount } => {
            ledger::execute_transfer(state, sender, *asset, *to, *amount)
        }
        Action::GrantRole { role, account } => {
            governance::grant_role(state, sender, *role, *account)
        }
        Action::RevokeRole { role, account } => {
            governance::revoke_role(state, sender, *role, *account)
        }
        Action::SetParameter { change } => governance::set_parameter(state, sender, change.clone()),
        Action::AddStablecoin { token } => reserve::add_stablecoin(state, sender, *token),
        Action::SetPause { scope, paused } => governance::set_pause(state, sender, *scope, *paused),
        Action::Freeze { account } => governance::freeze(state, sender, *account),
        Action::Unfreeze { account } => governance::unfreeze(state, sender, *account),
        Action::SetKyc { account, verified } => {
            governance::set_kyc(state, sender, *account, *verified)
        }
        Action::PostPrice { token, price } => reserve::post_price(state, sender, *token, *price),
        Action::PostTbillRate { rate } => reserve::post_tbill_rate(state, sender, *rate),
        Action::GatewayCredit { account, token, amount, external_id } => {
            reserve::gateway_credit(state, sender, *account, *token, *amount, *external_id)
        }
        Action::GatewayWithdraw { token, amount, destination } => {
            reserve::gateway_withdraw(state, sender, *token, *amount, destination)
        }
        Action::GatewayConfirm { payout_id, external_id } => {
            reserve::gateway_confirm(state, sender, *payout_id, *external_id)
        }
        Action::GatewayReject { payout_id, reason } => {
            reserve::gateway_reject(state, sender, *payout_id, reason)
        }
        Action::MintUsdai { token, amount, min_out } => {
            reserve::mint_usdai(state, sender, *token, *amount, *min_out)
        }
        Action::RedeemUsdai { token, amount, min_out } => {
            reserve::redeem_usdai(state, sender, *token, *amount, *min_out)
        }
        Action::HarvestBaseYield {} => reserve::harvest_base_yield(state),
        Action::Stake { assets, min_shares } => vault::stake(state, sender, *assets, *min_shares),
        Action::MintShares { shares, max_assets } => {
            vault::mint_shares(state, sender, *shares, *max_assets)
        }
        Action::DonateToVault { amount } => vault::donate(state, sender, *amount),
        Action::RequestRedeem { shares } => queue::request_redeem(state, sender, *shares),
        Action::CancelRedeem { request_id } => queue::cancel_redeem(state, sender, *request_id),
        Action::ServiceQueue { max_requests } => queue::service_queue(state, *max_requests),
        Action::Claim { request_id } => queue::claim(state, sender, *request_id),
        Action::SetBid { request_id, price_wad } => {
            qev::set_bid(state, sender, *request_id, *price_wad)
        }
        Action::CommitSealedBid { request_id, commitment, deposit } => {
            qev::commit_sealed_bid(state, sender, *request_id, *commitment, *deposit)
        }
        Action::RevealSealedBid { request_id, price_wad, salt } => {
            qev::reveal_sealed_bid(state, sender, *request_id, *price_wad, *salt)
        }
        Action::TransferRequest { request_id, to } => {
            qev::transfer_request(state, sender, *request_id, *to)
        }
        Action::ListRequest { request_id, price } => {
            qev::list_request(state, sender, *request_id, *price)
        }
        Action::DelistRequest { request_id } => qev::delist_request(state, sender, *request_id),
        Action::BuyRequest { request_id, max_price } => {
            qev::buy_request(state, sender, *request_id, *max_price)
        }
    }
}
