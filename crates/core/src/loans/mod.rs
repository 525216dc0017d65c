//! Loans (SPEC 9): a curator's proposal, the borrower's acceptance and origination, payments
//! under both interest models, prepayment, LTV re-marks and margin calls, default, foreclosure,
//! sale reports and insurance claims through the waterfall, and impairment.
//!
//! Guarantees (SPEC 14.4): senior + junior principal = balance; a repaid loan has balance 0 and
//! has released its receipts; a receipt is pledged to at most one loan; every payment is split
//! between the tranches and conserves value (interest by rate x principal share, principal pro
//! rata); the vault's [`SeniorBook`](crate::vault::SeniorBook) is the exact sum of the loans'
//! senior positions; a loan's cash passes through its `ProtocolAccount::Loan(id)` account, which
//! is empty between transactions except for a surplus held for a frozen borrower.
//!
//! The module follows a loan's life, one file per phase: [`origination`] (terms, proposals,
//! acceptance), [`payment`] (the split between tranches, repayment, prepayment, scheduled
//! inflows), [`marks`] (collateral marks, margin calls, impairment) and [`liquidation`]
//! (default, foreclosure, sales, insurance claims, the waterfall, settlement). This file holds
//! the loan's types and the bookkeeping the phases share.

mod covenants;
mod liquidation;
mod marks;
pub mod open_books;
mod origination;
mod payment;
pub mod residual;

pub use covenants::{
    BorrowerReport, Breach, BreachReason, DebtServiceReserve, DrawDebtServiceReserve,
    FundDebtServiceReserve, LoanCovenants, PostBorrowerReport, REPORT_INTERVAL_SECS_MAX,
    REPORT_INTERVAL_SECS_MIN, RESERVE_GRACE_MARGIN_SECS, RESERVE_PERIODS_MAX, SetLoanCovenants,
    breach_reason, report_due_at,
};
pub use liquidation::{
    ClaimLoanSurplus, DecideHeldSale, ForecloseLoan, HeldSale, PayInsuranceClaim, ReportSale,
    SALE_PERIOD_SECS, SaleReport, TriggerDefault, WaterfallPass, WriteOffReceipt, sale_cost_bounds,
};
pub use marks::{CollateralMark, PledgeReceipts, RemarkLoans, mark_collateral};
pub use origination::{AcceptLoan, CancelLoanProposal, ProposeLoan, blended_rate, ltv_bps};
pub use payment::{
    PayCasualtyClaim, PaymentDue, PaymentSplit, PrepayLoan, RepayLoan, payment_due,
    scheduled_senior_repayments, split_payment,
};
pub use residual::{
    PayResidualClaim, RESIDUAL_CLAIM_PERIOD_SECS, ResidualClaim, WriteOffResidualClaim,
};

use crate::{
    error::TxError,
    ids::{Account, Address, Asset, LoanId, ReceiptId, SiloId},
    ledger,
    math::{Amount, Bps, Rate},
    result_codes,
    schedule::InterestModel,
    silos,
    state::State,
    table::{ByOwner, Owned, Slot, Table, TableIndex, component},
    vault::{self, SeniorAccrual},
};
use alloy_primitives::U256;
use open_books::{OpenLoanBooks, OpenPosition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

result_codes! {
    /// Rejections of loan actions.
    pub enum LoanError {
        LoanNotFound = 801 => "loan_not_found",
            "No loan has this id.";
        SenderIsNotLoanBorrower = 802 => "sender_is_not_loan_borrower",
            "Only the loan's borrower may do this.";
        LoanTermsInvalid = 803 => "loan_terms_invalid",
            "Loan terms need a principal, 1 to 32 distinct receipts, 1 to 600 periods, an interval of at most a year, rates of at most 100% APR, fees below the principal and a future expiry.";
        LoanProposalExpired = 804 => "loan_proposal_expired",
            "The proposal's acceptance deadline has passed.";
        LoanIsNotAProposal = 805 => "loan_is_not_a_proposal",
            "The loan is not a proposal waiting for acceptance.";
        LoanIsNotActive = 806 => "loan_is_not_active",
            "The loan is not active.";
        LoanLtvExceedsMax = 807 => "loan_ltv_exceeds_max",
            "The principal is above the silo's maximum initial LTV of the eligible collateral value.";
        ReceiptNotOwnedByBorrower = 808 => "receipt_not_owned_by_borrower",
            "A pledged receipt must belong to the borrower.";
        VaultMaxDeployedExceeded = 809 => "vault_max_deployed_exceeded",
            "The senior tranche would take the vault's deployed capital above its maximum share of NAV.";
        VaultLiquidityBufferWouldBeBreached = 810 => "vault_liquidity_buffer_would_be_breached",
            "The senior tranche would leave the vault's idle USDai below its liquidity buffer.";
        PaymentExceedsMaximum = 811 => "payment_exceeds_maximum",
            "What is due is more than the sender's maximum.";
        LoanDefaultIsPending = 812 => "loan_default_is_pending",
            "The loan's grace period or cure window has lapsed; it can only be defaulted.";
        LoanIsNotInDefault = 813 => "loan_is_not_in_default",
            "Neither the loan's grace period nor a cure window has lapsed.";
        LoanIsNotDefaulted = 814 => "loan_is_not_defaulted",
            "The loan has not been defaulted.";
        LiquidationAgentLacksRole = 815 => "liquidation_agent_lacks_role",
            "The named liquidation agent does not hold the liquidation agent role.";
        SenderIsNotLoanLiquidationAgent = 816 => "sender_is_not_loan_liquidation_agent",
            "Only the liquidation agent the loan was foreclosed to may report its sales.";
        LoanAlreadyForeclosed = 817 => "loan_already_foreclosed",
            "The loan's receipts were already handed to a liquidation agent; another may take them only after its sale deadline passes.";
        ReceiptIsNotForeclosed = 818 => "receipt_is_not_foreclosed",
            "The receipt is not foreclosed collateral of a defaulted loan.";
        SaleCostsExceedProceeds = 819 => "sale_costs_exceed_proceeds",
            "The reported costs add up to more than the gross proceeds.";
        InsuranceClaimExceedsCoverage = 820 => "insurance_claim_exceeds_coverage",
            "The claim is larger than the policy's coverage.";
        PrepaymentExceedsBalance = 821 => "prepayment_exceeds_balance",
            "The prepayment is larger than the outstanding balance.";
        LoanPaymentsOverdue = 822 => "loan_payments_overdue",
            "Missed payments must be repaid before a prepayment.";
        LoanReceiptsLimitReached = 823 => "loan_receipts_limit_reached",
            "A loan holds at most 32 distinct receipts.";
        RemarkBatchOutOfRange = 824 => "remark_batch_out_of_range",
            "A re-mark covers between 1 and 10,000 loans.";
        SenderMayNotCancelProposal = 825 => "sender_may_not_cancel_proposal",
            "Only the silo's curator or the borrower may cancel a proposal.";
        LoanSurplusIsZero = 826 => "loan_surplus_is_zero",
            "The loan holds no surplus for its borrower.";
        VaultLiquidityOwedToQueue = 827 => "vault_liquidity_owed_to_queue",
            "The senior tranche would take idle USDai that the redemption queue's requests are owed at the redemption price.";
        LoanCovenantsInvalid = 828 => "loan_covenants_invalid",
            "A debt-service reserve holds at most 12 payments, and a report interval is 0 or from a day to a year.";
        DebtServiceReserveExceedsProceeds = 829 => "debt_service_reserve_exceeds_proceeds",
            "The loan's proceeds after the origination fee cannot fund its debt-service reserve.";
        ReserveFundingExceedsRequirement = 830 => "reserve_funding_exceeds_requirement",
            "The debt-service reserve would hold more than its requirement.";
        NoPaymentIsMissed = 831 => "no_payment_is_missed",
            "The loan has no missed payment for its reserve to pay.";
        DebtServiceReserveInsufficient = 832 => "debt_service_reserve_insufficient",
            "The debt-service reserve holds less than the missed payments due.";
        MissedPaymentIsCoveredByReserve = 833 => "missed_payment_is_covered_by_reserve",
            "The loan's debt-service reserve covers its missed payments: draw on it instead of defaulting.";
        ReportDocumentHashMustNotBeZero = 834 => "report_document_hash_must_not_be_zero",
            "A borrower report must name the hash of its document.";
        ReceiptIsNotPledgedToActiveLoan = 835 => "receipt_is_not_pledged_to_active_loan",
            "A casualty claim pays on a receipt pledged to an active loan; after a default the claim goes through the foreclosure (pay_insurance_claim).";
        ReceiptSaleIsHeld = 836 => "receipt_sale_is_held",
            "A sale report of this receipt is held for the admin's decision: its costs are above the recovery cost model's bounds.";
        ReceiptSaleIsNotHeld = 837 => "receipt_sale_is_not_held",
            "No sale report of this receipt is held for the admin's decision.";
        SaleDeadlineNotPassed = 838 => "sale_deadline_not_passed",
            "A foreclosed receipt may be written off only after its loan's sale deadline has passed.";
        SenderMayNotHandOverAfterSaleDeadline = 839 => "sender_may_not_hand_over_after_sale_deadline",
            "Once the loan's sale deadline has passed, only the admin may hand its receipts to another liquidation agent (or write them off).";
    }
}

/// The most receipts one loan may hold.
pub const RECEIPTS_PER_LOAN_MAX: usize = 32;
/// The most loans one keeper re-mark may cover.
pub const REMARK_BATCH_MAX: u32 = 10_000;
/// The highest annual rate of a tranche or of grace interest, in basis points (100%).
pub const LOAN_APR_BPS_MAX: u32 = 10_000;

/// One tranche as proposed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrancheTerms {
    /// Principal it funds (zero for no tranche).
    pub amount: Amount,
    /// Its per-second rate.
    pub rate: Rate,
}

/// What a curator proposes (SPEC 9.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoanTerms {
    /// Who borrows.
    pub borrower: Address,
    /// The receipts pledged.
    pub receipts: Vec<ReceiptId>,
    /// Funded by the vault.
    pub senior: TrancheTerms,
    /// Funded by the silo's first-loss pool.
    pub junior: TrancheTerms,
    /// The interest model.
    pub model: InterestModel,
    /// Number of payments (default: `default_loan_periods`).
    pub periods: Option<u32>,
    /// Seconds between payments (default: `default_repayment_interval_secs`).
    pub interval_secs: Option<u64>,
    /// How long after a deadline a late payment is still accepted.
    pub grace_period_secs: u64,
    /// Per-second rate of grace interest on a late payment.
    pub grace_rate: Rate,
    /// Kept from the principal at origination.
    pub origination_fee_bps: Bps,
    /// Paid with the final payment, as a share of the original principal.
    pub exit_fee_bps: Bps,
    /// The last moment the borrower may accept.
    pub expires_at: u64,
}

/// One tranche of a loan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tranche {
    /// Principal funded at origination.
    pub funded: Amount,
    /// Principal outstanding.
    pub principal: Amount,
    /// Per-second rate.
    pub rate: Rate,
    /// After default: interest owed to the tranche in the waterfall, not yet recovered.
    pub interest_due: Amount,
}

/// Where a loan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoanStatus {
    /// Proposed, waiting for the borrower.
    Proposed,
    /// Originated and performing (possibly in margin call).
    Active,
    /// Paid in full; receipts released.
    Repaid,
    /// Defaulted; its receipts are being liquidated.
    Defaulted,
    /// Every receipt sold or claimed; losses recognised.
    Settled,
    /// A proposal cancelled before acceptance.
    Cancelled,
}

/// Why a cure window is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginCallReason {
    /// LTV above the silo's margin-call limit.
    LtvAboveLimit,
    /// A receipt lost eligibility (insurance lapsed, coverage short, valuation stale).
    CollateralIneligible,
    /// A payment is past its deadline: the loan is carried impaired from the first re-mark
    /// after the deadline (not only from the default, a grace period later), so a holder who
    /// sees the missed payment cannot leave through the queue at a price that ignores the
    /// likely loss. Paying what is due cures it; its window is the grace period (the
    /// default rule), so it never lapses on its own.
    PaymentMissed,
}

/// An open cure window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginCall {
    /// When it opened.
    pub opened_at: u64,
    /// When it lapses: after this the loan may be defaulted.
    pub cure_deadline_at: u64,
    /// Why it opened.
    pub reason: MarginCallReason,
}

/// The last re-mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// When.
    pub at: u64,
    /// Sum of the receipts' values for LTV.
    pub collateral_value: Amount,
    /// Balance / collateral value in basis points, rounded up (`u128::MAX` with no value).
    #[serde(with = "crate::math::u128_serde")]
    pub ltv_bps: u128,
}

/// What a liquidation has produced so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// Gross sale proceeds and insurance claims.
    pub gross: Amount,
    /// Liquidation costs reimbursed to the agent.
    pub costs: Amount,
    /// Liquidation fees to the fee collector.
    pub liquidation_fees: Amount,
    /// Paid to the senior tranche (principal and interest).
    pub to_senior: Amount,
    /// Paid to the junior tranche (principal and interest).
    pub to_junior: Amount,
    /// Paid (or held) for the borrower.
    pub to_borrower: Amount,
    /// Paid by the silo's free pool to the senior tranche at settlement.
    pub first_loss_cover: Amount,
    /// Senior principal written off at settlement: the vault's loss.
    pub senior_loss: Amount,
    /// Junior principal written off at settlement.
    pub junior_loss: Amount,
    /// What the tranches were owed when the loan defaulted: principal plus interest due
    /// (issue 16's recovery ledger measures recoveries against it).
    pub exposure_at_default: Amount,
    /// The agents' costs by kind (their sum is `costs`): ITAD commission.
    pub itad_commission: Amount,
    /// Legal enforcement.
    pub legal_costs: Amount,
    /// De-racking, packing and shipping.
    pub logistics_costs: Amount,
    /// Certified data destruction.
    pub data_destruction_costs: Amount,
    /// Insurance paid into the waterfall after default: claims on foreclosed receipts and
    /// residual-value claims (part of `gross`).
    pub insurance_paid: Amount,
    /// Residual-value claims booked and not yet paid or written off.
    pub residual_owed: Amount,
    /// Residual-value claims the insurer did not pay in time, written off.
    pub insurance_unpaid: Amount,
    /// Receipts written off unsold after the sale deadline (issue 11): each recovered nothing
    /// (no gross, no cost), and an insured floor on one is owed in full (a residual-value claim
    /// against net proceeds of zero).
    pub receipts_written_off: u64,
}

/// A loan, from proposal to its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loan {
    /// Its id.
    pub id: LoanId,
    /// Its silo.
    pub silo: SiloId,
    /// Its borrower.
    pub borrower: Address,
    /// Its collateral.
    pub receipts: Vec<ReceiptId>,
    /// Vault-funded tranche.
    pub senior: Tranche,
    /// Pool-funded tranche.
    pub junior: Tranche,
    /// Outstanding principal: senior + junior.
    pub balance: Amount,
    /// The blended rate R (principal-weighted, rounded up) that shapes the schedule.
    pub rate: Rate,
    /// The interest model.
    pub model: InterestModel,
    /// Payments in the schedule.
    pub periods: u32,
    /// Payments still to make, including the current one.
    pub periods_remaining: u32,
    /// Seconds between payments.
    pub interval_secs: u64,
    /// Grace after a deadline.
    pub grace_period_secs: u64,
    /// Grace interest rate.
    pub grace_rate: Rate,
    /// Kept at origination.
    pub origination_fee: Amount,
    /// Due with the final payment.
    pub exit_fee: Amount,
    /// Proposal acceptance deadline.
    pub expires_at: u64,
    /// Status.
    pub status: LoanStatus,
    /// When it was originated.
    pub originated_at: u64,
    /// The deadline of the next payment.
    pub next_due_at: u64,
    /// The open cure window, if any.
    pub margin_call: Option<MarginCall>,
    /// The last re-mark.
    pub mark: Option<Mark>,
    /// Its senior position in the vault's book.
    pub senior_accrual: SeniorAccrual,
    /// While impaired: senior principal its expected recovery would not cover.
    pub senior_uncovered: Amount,
    /// When it defaulted.
    pub defaulted_at: Option<u64>,
    /// Who liquidates it.
    pub liquidation_agent: Option<Address>,
    /// Until when that agent alone may sell its receipts (issue 11): set at each hand-over to
    /// an agent, [`SALE_PERIOD_SECS`] later. After it the admin alone may hand the unsold
    /// receipts to another agent or write them off.
    pub sale_deadline_at: Option<u64>,
    /// Its liquidation so far.
    pub recovery: Recovery,
    /// Surplus held in the loan account for a frozen borrower.
    pub surplus_held: Amount,
    /// Interest (including grace interest) paid so far.
    pub interest_paid: Amount,
    /// Principal repaid so far (excluding recoveries).
    pub principal_paid: Amount,
    /// The covenants it was originated under (its silo's at acceptance).
    pub covenants: LoanCovenants,
    /// Its debt-service reserve.
    pub reserve: DebtServiceReserve,
    /// The borrower's latest periodic report.
    pub last_report: Option<BorrowerReport>,
    /// While breached: the open cure window.
    pub breach: Option<Breach>,
}

impl Owned for Loan {
    fn owner(&self) -> Address {
        self.borrower
    }
}

impl Loan {
    /// Whether it is in margin call or default: carried at principal minus impairment.
    pub fn is_impaired(&self) -> bool {
        self.status == LoanStatus::Defaulted
            || (self.status == LoanStatus::Active && self.margin_call.is_some())
    }

    /// Whether it may be defaulted at `now`: its deadline plus grace, or its cure window, has
    /// passed.
    pub fn is_default_due(&self, now: u64) -> bool {
        self.status == LoanStatus::Active
            && (now > self.next_due_at.saturating_add(self.grace_period_secs)
                || self.is_cure_lapsed(now))
    }

    /// Whether a cure window (a margin call or a breach) has lapsed uncured at `now`.
    pub fn is_cure_lapsed(&self, now: u64) -> bool {
        self.status == LoanStatus::Active
            && (self.margin_call.is_some_and(|call| {
                call.reason != MarginCallReason::PaymentMissed && now > call.cure_deadline_at
            }) || self.breach.is_some_and(|breach| now > breach.cure_deadline_at))
    }

    /// Whether it is breached (issue 16): its reserve is short or its report overdue.
    pub fn is_breached(&self) -> bool {
        self.status == LoanStatus::Active && self.breach.is_some()
    }

    /// Deadlines strictly before `now` that are unpaid (0 when on time), at most the payments
    /// remaining.
    pub fn missed_periods(&self, now: u64) -> u32 {
        if now <= self.next_due_at || self.interval_secs == 0 {
            return 0;
        }
        let after_first = (now - self.next_due_at - 1) / self.interval_secs;
        let missed = u32::try_from(after_first.saturating_add(1)).unwrap_or(u32::MAX);
        missed.min(self.periods_remaining)
    }

    /// Sets the share of senior interest that reaches the vault from the fees in force (the
    /// performance fee and its silo's curator fee) and returns the senior position's rate:
    /// principal x rate x that share, rounded down (see [`vault::SeniorAccrual`]).
    fn senior_interest_per_second_wad(&mut self, state: &State) -> U256 {
        let curator_fee_bps =
            state.silos.silos.get(&self.silo).map_or(0, |silo| silo.terms.curator_fee_bps.0);
        let performance_fee_bps = state.governance.params.get().performance_fee_bps.0;
        self.senior_accrual.net_share_e8 =
            vault::net_share_e8(performance_fee_bps, curator_fee_bps);
        vault::senior_net_rate_wad(
            self.senior.principal,
            self.senior.rate.0,
            self.senior_accrual.net_share_e8,
        )
    }
}

/// What the loans table keeps of its loans besides the loans ([`TableIndex`]: derived from
/// them, kept by every write, rollback and decoding, not encoded, not a leaf): each borrower's
/// loans, each silo's open loans and the loans in recovery. A read of one of these visits its
/// own loans, whatever else the book holds (`GET /v1/loans?borrower=`, `GET /v1/silos/{id}`,
/// `GET /v1/recoveries`); and the sums over the open loans the vault's and the silos' books
/// must equal, which the node's per-block invariant check reads instead of walking the loans.
#[derive(Clone, Debug, Default)]
pub struct LoanIndex {
    /// Each borrower's loans.
    by_borrower: ByOwner<LoanId>,
    /// The open loans (active or defaulted: the `open` table's), by silo.
    open_by_silo: BTreeSet<(SiloId, LoanId)>,
    /// The loans that defaulted (defaulted or settled since): what recoveries are counted over.
    in_recovery: BTreeSet<LoanId>,
    /// Sums over the open loans: principal by tranche and silo, senior accrual.
    open_books: OpenLoanBooks,
}

/// What [`LoanIndex`] keeps of a loan: its borrower, its silo while it is open, whether it
/// has defaulted, and its open position. The first three change only when a loan opens,
/// defaults or closes; the position at every payment, so [`LoanIndex`] moves only what changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoanProjection {
    borrower: Address,
    open_in: Option<SiloId>,
    in_recovery: bool,
    position: Option<OpenPosition>,
}

impl LoanProjection {
    fn of(loan: &Loan) -> LoanProjection {
        let open = matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted);
        LoanProjection {
            borrower: loan.borrower,
            open_in: open.then_some(loan.silo),
            in_recovery: loan.defaulted_at.is_some(),
            position: OpenPosition::of(loan),
        }
    }
}

impl LoanIndex {
    /// Each borrower's loans.
    pub fn by_borrower(&self) -> &ByOwner<LoanId> {
        &self.by_borrower
    }

    /// The open loans of `silo`, in id order.
    pub fn open_in(&self, silo: SiloId) -> impl DoubleEndedIterator<Item = LoanId> + '_ {
        self.open_by_silo.range((silo, LoanId(0))..=(silo, LoanId(u64::MAX))).map(|(_, id)| *id)
    }

    /// The open loans of `silo` from id `from` on, in id order (a listing's next page).
    pub fn open_in_from(&self, silo: SiloId, from: LoanId) -> impl Iterator<Item = LoanId> + '_ {
        self.open_by_silo.range((silo, from)..=(silo, LoanId(u64::MAX))).map(|(_, id)| *id)
    }

    /// The loans that have defaulted (defaulted or settled since), in id order.
    pub fn in_recovery(&self) -> impl DoubleEndedIterator<Item = LoanId> + ExactSizeIterator + '_ {
        self.in_recovery.iter().copied()
    }

    /// The loans that have defaulted from id `from` on, in id order (a listing's next page).
    pub fn in_recovery_from(&self, from: LoanId) -> impl Iterator<Item = LoanId> + '_ {
        self.in_recovery.range(from..).copied()
    }

    /// The sums over the open loans.
    pub fn open_books(&self) -> &OpenLoanBooks {
        &self.open_books
    }

    /// Whether the index holds exactly what a scan of `loans` gives.
    pub fn equals_scan<'a>(&self, loans: impl Iterator<Item = (&'a LoanId, &'a Loan)>) -> bool {
        let loans: Vec<(&LoanId, &Loan)> = loans.collect();
        let mut open_by_silo = BTreeSet::new();
        let mut in_recovery = BTreeSet::new();
        let mut open_books = OpenLoanBooks::default();
        for &(&id, loan) in &loans {
            let projection = LoanProjection::of(loan);
            if let Some(position) = &projection.position {
                open_books.add(position);
            }
            if let Some(silo) = projection.open_in {
                open_by_silo.insert((silo, id));
            }
            if projection.in_recovery {
                in_recovery.insert(id);
            }
        }
        self.by_borrower.equals_scan(loans.into_iter())
            && open_by_silo == self.open_by_silo
            && in_recovery == self.in_recovery
            && open_books.same_sums(&self.open_books)
    }
}

impl TableIndex<LoanId, Loan> for LoanIndex {
    type Projection = LoanProjection;
    type Order = std::collections::BTreeSet<LoanId>;

    fn project(_: &LoanId, loan: &Loan) -> LoanProjection {
        LoanProjection::of(loan)
    }

    fn add(&mut self, id: &LoanId, projection: LoanProjection) {
        TableIndex::<LoanId, Loan>::add(&mut self.by_borrower, id, projection.borrower);
        if let Some(silo) = projection.open_in {
            self.open_by_silo.insert((silo, *id));
        }
        if projection.in_recovery {
            self.in_recovery.insert(*id);
        }
        if let Some(position) = &projection.position {
            self.open_books.add(position);
        }
    }

    fn remove(&mut self, id: &LoanId, projection: LoanProjection) {
        TableIndex::<LoanId, Loan>::remove(&mut self.by_borrower, id, projection.borrower);
        if let Some(silo) = projection.open_in {
            self.open_by_silo.remove(&(silo, *id));
        }
        if projection.in_recovery {
            self.in_recovery.remove(id);
        }
        if let Some(position) = &projection.position {
            self.open_books.remove(position);
        }
    }

    fn replace(&mut self, id: &LoanId, before: LoanProjection, after: LoanProjection) {
        // A payment moves only the position: the borrower's and silo's sets stay as they are.
        let LoanProjection { borrower, open_in, in_recovery, position } = before;
        if (borrower, open_in, in_recovery) != (after.borrower, after.open_in, after.in_recovery) {
            let keys =
                |projection: &LoanProjection| LoanProjection { position: None, ..*projection };
            self.remove(id, keys(&before));
            self.add(id, keys(&after));
        }
        if let Some(position) = &position {
            self.open_books.remove(position);
        }
        if let Some(position) = &after.position {
            self.open_books.add(position);
        }
    }

    fn rebuilt<'a>(loans: impl Iterator<Item = (&'a LoanId, &'a Loan)>) -> Self {
        let mut index = LoanIndex::default();
        for (id, loan) in loans {
            index.add(id, LoanProjection::of(loan));
        }
        index
    }
}

component! {
    /// Loans.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct LoansState at "loans" paths LoansPaths {
        /// Every loan and proposal; indexed by borrower, open loans by silo and loans in
        /// recovery ([`LoanIndex`]: derived, not encoded).
        pub loans: Table<LoanId, Loan, LoanIndex>,
        /// Loans active or defaulted: what keepers re-mark.
        pub open: Table<LoanId, ()>,
        /// Loans in margin call or default, by silo.
        pub impaired: Table<(SiloId, LoanId), ()>,
        /// The covenants each silo's new loans carry (issue 16); none set: no covenants.
        pub covenants: Table<SiloId, LoanCovenants>,
        /// Sale reports held for the admin's decision, by receipt (issue 11): a cost above the
        /// recovery cost model's bound. Their gross proceeds wait in `ProtocolAccount::HeldSales`.
        pub held_sales: Table<ReceiptId, HeldSale>,
        /// Residual-value claims booked after a sale and not yet paid or written off, by
        /// receipt (issue 16).
        pub residual_claims: Table<ReceiptId, ResidualClaim>,
        /// The next loan id.
        pub next_loan_id: Slot<u64>,
    }
}

/// The loan `id`, or `loan_not_found`.
pub fn loan(state: &State, id: LoanId) -> Result<Loan, TxError> {
    state.loans.loans.get(&id).cloned().ok_or(LoanError::LoanNotFound.into())
}

fn active_loan(state: &State, id: LoanId) -> Result<Loan, TxError> {
    let loan = loan(state, id)?;
    if loan.status != LoanStatus::Active {
        return Err(LoanError::LoanIsNotActive.into());
    }
    Ok(loan)
}

fn store(state: &mut State, loan: Loan) {
    state.loans.loans.insert(loan.id, loan);
}

fn send(
    state: &mut State,
    from: impl Into<Account>,
    to: impl Into<Account>,
    amount: Amount,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    ledger::transfer(state, Asset::Usdai, from, to, amount)
}

fn change_exposure(
    state: &mut State,
    silo: SiloId,
    borrower: Address,
    amount: Amount,
    increase: bool,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    let key = (silo, borrower);
    let current = state.silos.borrower_exposure.get(&key).copied().unwrap_or(Amount::ZERO);
    let after =
        if increase { current.checked_add(amount)? } else { current.checked_sub(amount)? };
    if after.is_zero() {
        state.silos.borrower_exposure.remove(&key);
    } else {
        state.silos.borrower_exposure.insert(key, after);
    }
    Ok(())
}

/// Reduces the loan's tranche principals (and every aggregate that sums them) by what was
/// repaid, recovered or written off.
fn reduce_principal(
    state: &mut State,
    loan: &mut Loan,
    senior: Amount,
    junior: Amount,
) -> Result<(), TxError> {
    loan.senior.principal = loan.senior.principal.checked_sub(senior)?;
    loan.junior.principal = loan.junior.principal.checked_sub(junior)?;
    loan.balance = loan.balance.checked_sub(senior.checked_add(junior)?)?;
    assert_eq!(loan.balance.0, loan.senior.principal.0 + loan.junior.principal.0);
    let book = &mut state.vault.globals.get_mut().senior;
    book.principal = book.principal.checked_sub(senior)?;
    silos::update(state, loan.silo, |silo| {
        silo.senior_outstanding = silo.senior_outstanding.checked_sub(senior)?;
        silo.junior_outstanding = silo.junior_outstanding.checked_sub(junior)?;
        Ok::<(), TxError>(())
    })?;
    change_exposure(state, loan.silo, loan.borrower, senior, false)
}
