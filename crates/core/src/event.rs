//! Events: one for every state change, in the order it happened. Ledger movements are
//! `Transferred`, `Minted` and `Burned`; each action adds its own semantic event.

use crate::{
    ids::{
        Account, Address, Asset, AssetClassId, B256, LoanId, PayoutId, ReceiptId, RequestId,
        SiloId, Symbol,
    },
    loans::{
        BreachReason, LoanCovenants, MarginCallReason, PaymentDue, PaymentSplit, SaleReport,
        WaterfallPass,
    },
    math::{Amount, Bps, Rate},
    params::{ParameterChange, PauseScope, Role},
    queue::RoundRecord,
    receipts::{AssetClassTerms, ReceiptStatus},
    rental_index::IncomeTerms,
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
    PricePosted {
        token: Symbol,
        #[serde(with = "crate::math::u128_serde")]
        price_wad: u128,
    },
    /// The oracle posted the T-bill rate; `index` is the compounded index at that moment.
    TbillRatePosted {
        rate: Rate,
        #[serde(with = "crate::math::u128_serde")]
        index: u128,
    },
    /// The reserve custodian attested the T-bills behind USDai.
    ReserveAttested {
        attestation_id: u64,
        custodian: Address,
        par_amount: Amount,
        market_value: Amount,
        as_of: u64,
        document_hash: B256,
    },
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
    // Receipts (SPEC 8).
    /// Admin registered an asset class.
    AssetClassAdded { class: AssetClassId, terms: AssetClassTerms },
    /// Admin stepped a class down for a new generation.
    GenerationStepDownApplied {
        class: AssetClassId,
        step_down_bps: Bps,
        #[serde(with = "crate::math::u128_serde")]
        value_index_wad: u128,
    },
    /// A custodian issued a receipt.
    ReceiptIssued { receipt_id: ReceiptId, class: AssetClassId, custodian: Address, owner: Address },
    /// Its custodian amended a receipt.
    ReceiptAmended { receipt_id: ReceiptId },
    /// Its custodian released an issued receipt.
    ReceiptReleased { receipt_id: ReceiptId },
    /// An owner transferred a receipt.
    ReceiptTransferred { receipt_id: ReceiptId, from: Address, to: Address },
    /// An owner asked to redeem a receipt.
    ReceiptRedemptionRequested { receipt_id: ReceiptId, owner: Address },
    /// A receipt was redeemed and burned.
    ReceiptRedeemed { receipt_id: ReceiptId, owner: Address },
    /// An insurer attached a policy.
    PolicyAttached { receipt_id: ReceiptId, insurer: Address, coverage: Amount, expires_at: u64 },
    /// An insurer renewed a policy.
    PolicyRenewed { receipt_id: ReceiptId, coverage: Amount, expires_at: u64 },
    /// An appraiser valued a receipt.
    ValuationPosted { receipt_id: ReceiptId, appraiser: Address, value: Amount },
    /// A loan moved a receipt (pledge, release, foreclosure, sale).
    ReceiptStatusChanged {
        receipt_id: ReceiptId,
        status: ReceiptStatus,
        loan: Option<LoanId>,
        owner: Address,
    },
    // Silos (SPEC 10).
    /// A curator opened a silo.
    SiloOpened { silo_id: SiloId, curator: Address },
    /// First-loss capital went in.
    FirstLossDeposited { silo_id: SiloId, amount: Amount },
    /// First-loss capital came out.
    FirstLossWithdrawn { silo_id: SiloId, amount: Amount },
    /// Admin set a senior cap.
    SiloSeniorCapSet { silo_id: SiloId, cap: Amount },
    /// Admin froze or unfroze a silo.
    SiloFrozenChanged { silo_id: SiloId, frozen: bool },
    /// Admin assigned a successor curator.
    SiloCuratorAssigned { silo_id: SiloId, curator: Address },
    /// A silo's share of the vault's senior impairment changed.
    SiloImpairmentChanged { silo_id: SiloId, impairment: Amount },
    // Loans (SPEC 9).
    /// A curator proposed a loan.
    LoanProposed { loan_id: LoanId, silo_id: SiloId, borrower: Address, principal: Amount },
    /// A proposal was cancelled.
    LoanProposalCancelled { loan_id: LoanId },
    /// A borrower accepted and the loan was originated.
    LoanOriginated { loan_id: LoanId, senior: Amount, junior: Amount, collateral_value: Amount },
    /// A scheduled (or late) payment was made.
    LoanPaymentMade { loan_id: LoanId, payer: Address, due: PaymentDue, split: PaymentSplit },
    /// Principal was prepaid.
    LoanPrepaid {
        loan_id: LoanId,
        payer: Address,
        principal: Amount,
        interest: Amount,
        exit_fee: Amount,
        split: PaymentSplit,
    },
    /// A loan was paid in full; its receipts were released.
    LoanRepaid { loan_id: LoanId },
    /// A borrower pledged more receipts.
    ReceiptsPledged { loan_id: LoanId, receipt_ids: Vec<ReceiptId> },
    /// A re-mark opened a cure window.
    MarginCallOpened { loan_id: LoanId, cure_deadline_at: u64, reason: MarginCallReason },
    /// A loan cured its margin call.
    MarginCallCured { loan_id: LoanId },
    /// A curator set the covenants of its silo's new loans (issue 16).
    LoanCovenantsSet { silo_id: SiloId, covenants: LoanCovenants },
    /// USDai went into a loan's debt-service reserve (at origination, or a refill).
    DebtServiceReserveFunded { loan_id: LoanId, payer: Address, amount: Amount, balance: Amount },
    /// A loan's missed payments were paid out of its debt-service reserve.
    DebtServiceReserveDrawn { loan_id: LoanId, amount: Amount, balance: Amount },
    /// A borrower posted its periodic report.
    BorrowerReportPosted { loan_id: LoanId, document_hash: B256 },
    /// A loan became breached: its reserve is short or its report overdue; a cure window opened.
    LoanBreached { loan_id: LoanId, cure_deadline_at: u64, reason: BreachReason },
    /// A breached loan was cured.
    LoanBreachCured { loan_id: LoanId },
    /// A keeper re-marked a batch of loans.
    LoansRemarked { first: LoanId, last: Option<LoanId>, count: u32 },
    /// A loan defaulted.
    LoanDefaulted { loan_id: LoanId, senior_interest_due: Amount, junior_interest_due: Amount },
    /// A defaulted loan's unsold receipts went to a liquidation agent, who alone may sell them
    /// until `sale_deadline_at`.
    LoanForeclosed { loan_id: LoanId, liquidation_agent: Address, sale_deadline_at: u64 },
    /// A liquidation agent reported a sale.
    SaleReported { receipt_id: ReceiptId, loan_id: LoanId, report: SaleReport },
    /// An insurer paid a claim.
    InsuranceClaimPaid { receipt_id: ReceiptId, loan_id: LoanId, insurer: Address, amount: Amount },
    /// An insurer paid a casualty claim on a receipt of an active loan: the claim prepaid the
    /// loan (its `LoanPrepaid` event shows the split) and the receipt went to the insurer.
    CasualtyClaimPaid { receipt_id: ReceiptId, loan_id: LoanId, insurer: Address, amount: Amount },
    /// Recovered cash went through the waterfall.
    WaterfallDistributed { loan_id: LoanId, pass: WaterfallPass },
    /// A liquidated loan was settled and its losses recognised.
    LoanSettled {
        loan_id: LoanId,
        first_loss_cover: Amount,
        senior_loss: Amount,
        junior_loss: Amount,
    },
    /// A borrower claimed the surplus held for it.
    LoanSurplusClaimed { loan_id: LoanId, amount: Amount },
    /// An open bid was set (0 withdraws it); `escrow` is what `BidEscrow` now holds for it.
    BidSet {
        request_id: RequestId,
        #[serde(with = "crate::math::u128_serde")]
        price_wad: u128,
        escrow: Amount,
    },
    /// A sealed bid was committed for round `round`.
    SealedBidCommitted { request_id: RequestId, commitment: B256, deposit: Amount, round: u64 },
    /// A sealed bid was revealed and became the open bid; `returned` went back to the owner.
    SealedBidRevealed {
        request_id: RequestId,
        #[serde(with = "crate::math::u128_serde")]
        price_wad: u128,
        escrow: Amount,
        returned: Amount,
    },
    /// A sealed bid ended unrevealed (or was cancelled): `penalty` to the fee pool, `returned`
    /// owed back to the owner.
    SealedBidReleased { request_id: RequestId, penalty: Amount, returned: Amount },
    /// A served request with a bid was charged: `fee` = clearing price x shares (0 unless it
    /// jumped an older request); `escrow_released` is owed back to its owner.
    PriorityFeeCharged {
        request_id: RequestId,
        #[serde(with = "crate::math::u128_serde")]
        bid_price_wad: u128,
        #[serde(with = "crate::math::u128_serde")]
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
    /// A round burned the last share; the USDai left in the vault went to the fee collector.
    OrphanedVaultAssetsSwept { amount: Amount },
    /// A sale report with a cost above the recovery cost model's bound (`bounds`: the most
    /// each cost may be) is held for the admin; its gross proceeds wait in the held-sales
    /// account.
    SaleHeld { receipt_id: ReceiptId, loan_id: LoanId, report: SaleReport, bounds: SaleReport },
    /// The admin decided a held sale report: approved, it executes (a `SaleReported` follows);
    /// rejected, its gross proceeds went back to the agent.
    HeldSaleDecided { receipt_id: ReceiptId, loan_id: LoanId, approved: bool },
    /// After its loan's sale deadline the admin wrote off a foreclosed receipt nobody sold:
    /// it recovers nothing, and the loan settles once nothing is left to sell.
    ReceiptWrittenOff { receipt_id: ReceiptId, loan_id: LoanId },
    /// A deposit was queued: its stablecoin is escrowed until there is room to mint (issue 16).
    DepositQueued { deposit_id: u64, owner: Address, token: Symbol, amount: Amount },
    /// A queued deposit was minted (`remaining` waits on at the head).
    QueuedDepositFilled {
        deposit_id: u64,
        owner: Address,
        amount_in: Amount,
        usdai_out: Amount,
        remaining: Amount,
    },
    /// A queued deposit was cancelled by its depositor and its escrow returned.
    QueuedDepositCancelled { deposit_id: u64, owner: Address, token: Symbol, amount: Amount },
    /// A queued deposit's escrow was returned unfilled (depositor frozen or unverified, or a
    /// remainder that would mint nothing).
    QueuedDepositReturned { deposit_id: u64, owner: Address, token: Symbol, amount: Amount },
    /// A monitor attested what it saw of a receipt's hardware (issue 16); `all_present`: it saw
    /// every unit, the receipt's serial list, at its facility.
    PresenceAttested {
        receipt_id: ReceiptId,
        monitor: Address,
        units_seen: u32,
        serials_hash: B256,
        uptime_bps: Bps,
        as_of: u64,
        all_present: bool,
    },
    /// Admin set a class's presence limit (0: not monitored), in force from `effective_at`.
    PresenceLimitSet { class: AssetClassId, max_age_secs: u64, effective_at: u64 },
    /// A policy's insurer set its residual-value floor (issue 16).
    ResidualFloorSet { receipt_id: ReceiptId, insurer: Address, floor_value: Amount },
    /// A liquidation sale left the insured floor above the net proceeds: the insurer owes
    /// `amount` = `floor_value - net_proceeds`.
    ResidualClaimBooked {
        receipt_id: ReceiptId,
        loan_id: LoanId,
        insurer: Address,
        floor_value: Amount,
        net_proceeds: Amount,
        amount: Amount,
    },
    /// The insurer paid a residual-value claim into the waterfall.
    ResidualClaimPaid { receipt_id: ReceiptId, loan_id: LoanId, insurer: Address, amount: Amount },
    /// The admin wrote off a residual-value claim its insurer did not pay in time.
    ResidualClaimWrittenOff {
        receipt_id: ReceiptId,
        loan_id: LoanId,
        insurer: Address,
        amount: Amount,
    },
    /// Admin set a class's income terms (issue 16).
    IncomeTermsSet { class: AssetClassId, terms: IncomeTerms },
    /// The oracle posted a class's rental index, USD per unit-hour; `window_reference` is the
    /// value the current move window's posts are bounded against.
    RentalIndexPosted { class: AssetClassId, rent_per_unit_hour: Amount, window_reference: Amount },
}
