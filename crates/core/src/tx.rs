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
    ids::{
        Address, Asset, AssetClassId, B256, LoanId, PayoutId, ReceiptId, RequestId, SiloId, Symbol,
    },
    ledger::{self, LedgerError},
    loans::{self, LoanTerms, SaleReport},
    math::{Amount, Bps, Rate},
    params::{ParameterChange, PauseScope, Role},
    points, qev, queue,
    receipts::{self, AssetClassTerms, ReceiptDescription},
    reserve,
    silos::{self, SiloTerms},
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
    PostPrice {
        token: Symbol,
        #[serde(with = "crate::math::u128_serde")]
        price: u128,
    },
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
    // Receipts (SPEC 8).
    /// Admin: register an asset class.
    AddAssetClass { class: AssetClassId, terms: AssetClassTerms },
    /// Admin: step a class down when a new generation launches.
    ApplyGenerationStepDown { class: AssetClassId, step_down_bps: Bps },
    /// Custodian: issue a receipt to `owner`.
    IssueReceipt { class: AssetClassId, owner: Address, description: ReceiptDescription },
    /// Issuing custodian: amend a receipt's description.
    AmendReceipt { receipt_id: ReceiptId, description: ReceiptDescription },
    /// Issuing custodian: release an issued receipt.
    ReleaseReceipt { receipt_id: ReceiptId },
    /// Owner: transfer a free receipt.
    TransferReceipt { receipt_id: ReceiptId, to: Address },
    /// Owner: ask for the hardware back.
    RequestReceiptRedemption { receipt_id: ReceiptId },
    /// Issuing custodian: hand the hardware back and burn the receipt.
    RedeemReceipt { receipt_id: ReceiptId },
    /// Insurer: attach a policy.
    AttachPolicy { receipt_id: ReceiptId, policy_id: B256, coverage: Amount, expires_at: u64 },
    /// The policy's insurer: renew it.
    RenewPolicy { receipt_id: ReceiptId, coverage: Amount, expires_at: u64 },
    /// Appraiser: value a receipt.
    PostValuation { receipt_id: ReceiptId, value: Amount },
    // Silos (SPEC 10).
    /// Curator: open a silo.
    OpenSilo { terms: SiloTerms },
    /// Curator: add first-loss capital.
    DepositFirstLoss { silo_id: SiloId, amount: Amount },
    /// Curator: withdraw first-loss capital.
    WithdrawFirstLoss { silo_id: SiloId, amount: Amount },
    /// Admin: set a silo's senior cap.
    SetSiloSeniorCap { silo_id: SiloId, cap: Amount },
    /// Admin: freeze or unfreeze a silo.
    SetSiloFrozen { silo_id: SiloId, frozen: bool },
    /// Admin: assign a frozen silo to a successor curator.
    AssignSuccessorCurator { silo_id: SiloId, curator: Address },
    // Loans (SPEC 9).
    /// Curator: propose a loan in its silo.
    ProposeLoan { silo_id: SiloId, terms: LoanTerms },
    /// Curator or borrower: cancel a proposal.
    CancelLoanProposal { loan_id: LoanId },
    /// Borrower: accept a proposal (originates the loan).
    AcceptLoan { loan_id: LoanId },
    /// Anyone: pay what is due, at most `max_amount`.
    RepayLoan { loan_id: LoanId, max_amount: Amount },
    /// Anyone: prepay `principal` (with interest on it for the current period).
    PrepayLoan { loan_id: LoanId, principal: Amount, max_amount: Amount },
    /// Borrower: pledge more receipts.
    PledgeReceipts { loan_id: LoanId, receipt_ids: Vec<ReceiptId> },
    /// Keeper: re-mark up to `max_loans` open loans from `first_loan_id` on.
    RemarkLoans { first_loan_id: LoanId, max_loans: u32 },
    /// Anyone: default a loan past its grace period or cure window.
    TriggerDefault { loan_id: LoanId },
    /// Curator or admin: hand a defaulted loan's receipts to a liquidation agent.
    ForecloseLoan { loan_id: LoanId, liquidation_agent: Address },
    /// Liquidation agent: report a receipt's sale and pay its proceeds.
    ReportSale { receipt_id: ReceiptId, report: SaleReport },
    /// Insurer: pay a claim on a foreclosed receipt.
    PayInsuranceClaim { receipt_id: ReceiptId, amount: Amount },
    /// Borrower: claim a liquidation surplus held while it was frozen.
    ClaimLoanSurplus { loan_id: LoanId },
    // QEV.
    /// Attach, raise, lower or withdraw (0) the open priority bid per share on one's request.
    SetBid {
        request_id: RequestId,
        #[serde(with = "crate::math::u128_serde")]
        price_wad: u128,
    },
    /// Commit a sealed bid with a USDai deposit (see `qev::sealed_bid_commitment`).
    CommitSealedBid { request_id: RequestId, commitment: B256, deposit: Amount },
    /// Reveal a sealed bid in the reveal window.
    RevealSealedBid {
        request_id: RequestId,
        #[serde(with = "crate::math::u128_serde")]
        price_wad: u128,
        salt: B256,
    },
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
            Action::AddAssetClass { .. } => "add_asset_class",
            Action::ApplyGenerationStepDown { .. } => "apply_generation_step_down",
            Action::IssueReceipt { .. } => "issue_receipt",
            Action::AmendReceipt { .. } => "amend_receipt",
            Action::ReleaseReceipt { .. } => "release_receipt",
            Action::TransferReceipt { .. } => "transfer_receipt",
            Action::RequestReceiptRedemption { .. } => "request_receipt_redemption",
            Action::RedeemReceipt { .. } => "redeem_receipt",
            Action::AttachPolicy { .. } => "attach_policy",
            Action::RenewPolicy { .. } => "renew_policy",
            Action::PostValuation { .. } => "post_valuation",
            Action::OpenSilo { .. } => "open_silo",
            Action::DepositFirstLoss { .. } => "deposit_first_loss",
            Action::WithdrawFirstLoss { .. } => "withdraw_first_loss",
            Action::SetSiloSeniorCap { .. } => "set_silo_senior_cap",
            Action::SetSiloFrozen { .. } => "set_silo_frozen",
            Action::AssignSuccessorCurator { .. } => "assign_successor_curator",
            Action::ProposeLoan { .. } => "propose_loan",
            Action::CancelLoanProposal { .. } => "cancel_loan_proposal",
            Action::AcceptLoan { .. } => "accept_loan",
            Action::RepayLoan { .. } => "repay_loan",
            Action::PrepayLoan { .. } => "prepay_loan",
            Action::PledgeReceipts { .. } => "pledge_receipts",
            Action::RemarkLoans { .. } => "remark_loans",
            Action::TriggerDefault { .. } => "trigger_default",
            Action::ForecloseLoan { .. } => "foreclose_loan",
            Action::ReportSale { .. } => "report_sale",
            Action::PayInsuranceClaim { .. } => "pay_insurance_claim",
            Action::ClaimLoanSurplus { .. } => "claim_loan_surplus",
            Action::SetBid { .. } => "set_bid",
            Action::CommitSealedBid { .. } => "commit_sealed_bid",
            Action::RevealSealedBid { .. } => "reveal_sealed_bid",
            Action::TransferRequest { .. } => "transfer_request",
            Action::ListRequest { .. } => "list_request",
            Action::DelistRequest { .. } => "delist_request",
            Action::BuyRequest { .. } => "buy_request",
        }
    }

    /// Whether the action can move the sUSDai redemption share price, which the points
    /// accumulator advances at: after such an action `apply` samples the price again. An action
    /// missing here would let points accrue at a stale price until the next sample (the next
    /// listed action or block), so the property tests check after every transaction that the
    /// sample equals the live price.
    ///
    /// The redemption price is conservative NAV (idle USDai + senior principal - impairment)
    /// over the share supply, so the credit actions listed are those that can move the vault's
    /// USDai, the senior principal or the impairment:
    /// - repayments and prepayments pay senior interest into the vault, and a payment that cures
    ///   a margin call releases the loan's impairment;
    /// - re-marks, pledges and defaults recompute impairment (a lower appraisal or a
    ///   generation step-down reaches NAV only here, through the re-mark);
    /// - sale reports and insurance claims pay the waterfall into the vault and, at settlement,
    ///   write off senior principal and release impairment;
    /// - first-loss deposits and withdrawals, and origination (its junior tranche leaves the
    ///   pool and its origination fee enters it), change the free pool that absorbs a silo's
    ///   uncovered principal before the vault does, so they move the vault's impairment when
    ///   the silo has an impaired loan. Origination itself swaps idle USDai for senior
    ///   principal one for one.
    ///
    /// Not listed, because they move none of the three: proposals and their cancellation,
    /// receipt, policy and valuation actions (a new valuation or step-down waits for a
    /// re-mark), silo terms, caps, freezes and successors, foreclosure (it only names the
    /// liquidation agent) and the borrower's surplus claim (paid from the loan's account).
    pub fn moves_share_price(&self) -> bool {
        matches!(
            self,
            Action::HarvestBaseYield {}
                | Action::Stake { .. }
                | Action::MintShares { .. }
                | Action::DonateToVault { .. }
                | Action::ServiceQueue { .. }
                | Action::DepositFirstLoss { .. }
                | Action::WithdrawFirstLoss { .. }
                | Action::AcceptLoan { .. }
                | Action::RepayLoan { .. }
                | Action::PrepayLoan { .. }
                | Action::PledgeReceipts { .. }
                | Action::RemarkLoans { .. }
                | Action::TriggerDefault { .. }
                | Action::ReportSale { .. }
                | Action::PayInsuranceClaim { .. }
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
/// and the points accumulators. Idempotent for the same block; rejects time or height going
/// backwards.
pub fn begin_block(state: &mut State, block: &BlockContext) -> Result<Vec<Event>, TxError> {
    let result = advance_clock(state, block);
    finish(state, result)
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

fn advance_clock(state: &mut State, block: &BlockContext) -> Result<(), TxError> {
    let clock = *state.clock.get();
    if block.timestamp < clock.timestamp {
        return Err(LedgerError::BlockTimeMustNotDecrease.into());
    }
    if block.height < clock.height {
        return Err(LedgerError::BlockHeightMustNotDecrease.into());
    }
    if block.timestamp == clock.timestamp && block.height == clock.height {
        return Ok(());
    }
    // The price in force since the last transaction that moved it, valued at that time.
    points::resolve_share_price(state);
    *state.clock.get_mut() = Clock { height: block.height, timestamp: block.timestamp };
    points::advance(state);
    governance::apply_due_changes(state);
    // Time accrues interest into NAV, and a parameter change may move the price.
    points::share_price_moved(state);
    Ok(())
}

/// Applies one transaction in `block`. On success returns its events (including the block's
/// upkeep events if this is the block's first transaction); on rejection the state is exactly
/// as before the call.
pub fn apply(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
) -> Result<Vec<Event>, TxError> {
    let mut events = Vec::new();
    apply_into(state, block, tx, &mut events)?;
    Ok(events)
}

/// [`apply`] for a caller that applies many transactions: the events replace the contents of
/// `events` (on rejection it is left empty). The buffer is exchanged with the state's, not
/// copied, so a caller that passes the same vector each time allocates nothing in the steady
/// state.
pub fn apply_into(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
    events: &mut Vec<Event>,
) -> Result<(), TxError> {
    assert!(state.events.is_empty(), "events left over from an earlier transaction");
    events.clear();
    let result = advance_clock(state, block).and_then(|()| execute(state, tx));
    let result = result.map(|()| {
        if tx.action.moves_share_price() {
            points::share_price_moved(state);
        }
    });
    match result {
        Ok(()) => {
            state.commit();
            // The state takes the caller's (cleared) buffer for the next transaction.
            std::mem::swap(&mut state.events, events);
            Ok(())
        }
        Err(error) => {
            state.rollback();
            Err(error)
        }
    }
}

/// A preview of `tx`: applies it as [`apply`] would, hands the state after it and its events
/// to `inspect`, then undoes every write, whether the action succeeded or not. The state is
/// exactly as before the call (its hash and its tracked changes too). The node's dry-run
/// runs this on its own copy of the committed state, so previews are the state machine's own
/// answers and never a second implementation.
pub fn preview<R>(
    state: &mut State,
    block: &BlockContext,
    tx: &Transaction,
    inspect: impl FnOnce(&State, &[Event]) -> R,
) -> Result<R, TxError> {
    assert!(state.events.is_empty(), "events left over from an earlier transaction");
    let result = advance_clock(state, block).and_then(|()| execute(state, tx));
    let outcome = result.map(|()| {
        if tx.action.moves_share_price() {
            points::share_price_moved(state);
        }
        inspect(state, &state.events)
    });
    state.rollback();
    outcome
}

/// Consumes `sender`'s nonce: checks that `nonce` is its next one and advances it, committed
/// at once. The node calls this for every validly signed transaction it includes, before
/// [`apply`], so a rejected transaction still uses up its nonce (SPEC 3).
pub fn consume_nonce(state: &mut State, sender: Address, nonce: u64) -> Result<(), TxError> {
    let expected = state.ledger.nonce(sender);
    if nonce != expected {
        return Err(LedgerError::NonceMismatch.into());
    }
    let next = expected.checked_add(1).ok_or(LedgerError::ArithmeticOverflow)?;
    state.ledger.nonces.insert(sender, next);
    state.ledger.nonces.commit();
    Ok(())
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
        Action::AddAssetClass { class, terms } => {
            receipts::add_asset_class(state, sender, *class, terms.clone())
        }
        Action::ApplyGenerationStepDown { class, step_down_bps } => {
            receipts::apply_generation_step_down(state, sender, *class, *step_down_bps)
        }
        Action::IssueReceipt { class, owner, description } => {
            receipts::issue_receipt(state, sender, *class, *owner, description.clone())
        }
        Action::AmendReceipt { receipt_id, description } => {
            receipts::amend_receipt(state, sender, *receipt_id, description.clone())
        }
        Action::ReleaseReceipt { receipt_id } => {
            receipts::release_receipt(state, sender, *receipt_id)
        }
        Action::TransferReceipt { receipt_id, to } => {
            receipts::transfer_receipt(state, sender, *receipt_id, *to)
        }
        Action::RequestReceiptRedemption { receipt_id } => {
            receipts::request_receipt_redemption(state, sender, *receipt_id)
        }
        Action::RedeemReceipt { receipt_id } => {
            receipts::redeem_receipt(state, sender, *receipt_id)
        }
        Action::AttachPolicy { receipt_id, policy_id, coverage, expires_at } => {
            receipts::attach_policy(state, sender, *receipt_id, *policy_id, *coverage, *expires_at)
        }
        Action::RenewPolicy { receipt_id, coverage, expires_at } => {
            receipts::renew_policy(state, sender, *receipt_id, *coverage, *expires_at)
        }
        Action::PostValuation { receipt_id, value } => {
            receipts::post_valuation(state, sender, *receipt_id, *value)
        }
        Action::OpenSilo { terms } => silos::open_silo(state, sender, terms.clone()),
        Action::DepositFirstLoss { silo_id, amount } => {
            silos::deposit_first_loss(state, sender, *silo_id, *amount)
        }
        Action::WithdrawFirstLoss { silo_id, amount } => {
            silos::withdraw_first_loss(state, sender, *silo_id, *amount)
        }
        Action::SetSiloSeniorCap { silo_id, cap } => {
            silos::set_senior_cap(state, sender, *silo_id, *cap)
        }
        Action::SetSiloFrozen { silo_id, frozen } => {
            silos::set_frozen(state, sender, *silo_id, *frozen)
        }
        Action::AssignSuccessorCurator { silo_id, curator } => {
            silos::assign_successor_curator(state, sender, *silo_id, *curator)
        }
        Action::ProposeLoan { silo_id, terms } => {
            loans::propose_loan(state, sender, *silo_id, terms.clone())
        }
        Action::CancelLoanProposal { loan_id } => loans::cancel_proposal(state, sender, *loan_id),
        Action::AcceptLoan { loan_id } => loans::accept_loan(state, sender, *loan_id),
        Action::RepayLoan { loan_id, max_amount } => {
            loans::repay_loan(state, sender, *loan_id, *max_amount)
        }
        Action::PrepayLoan { loan_id, principal, max_amount } => {
            loans::prepay_loan(state, sender, *loan_id, *principal, *max_amount)
        }
        Action::PledgeReceipts { loan_id, receipt_ids } => {
            loans::pledge_receipts(state, sender, *loan_id, receipt_ids)
        }
        Action::RemarkLoans { first_loan_id, max_loans } => {
            loans::remark_loans(state, *first_loan_id, *max_loans)
        }
        Action::TriggerDefault { loan_id } => loans::trigger_default(state, *loan_id),
        Action::ForecloseLoan { loan_id, liquidation_agent } => {
            loans::foreclose_loan(state, sender, *loan_id, *liquidation_agent)
        }
        Action::ReportSale { receipt_id, report } => {
            loans::report_sale(state, sender, *receipt_id, *report)
        }
        Action::PayInsuranceClaim { receipt_id, amount } => {
            loans::pay_insurance_claim(state, sender, *receipt_id, *amount)
        }
        Action::ClaimLoanSurplus { loan_id } => loans::claim_surplus(state, sender, *loan_id),
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
