//! The built-in keeper: which permissionless upkeep transactions are due in a state.
//!
//! It only reads the state and names actions; the node signs them with the keeper's key and
//! submits them like any other transaction, so a keeper run by anyone else does the same.

use infrafi_core::{
    Action, Amount, Asset, ProtocolAccount, State, WAD,
    action::{
        DrawDebtServiceReserve, FillQueuedDeposits, HarvestBaseYield, RemarkLoans, ServiceQueue,
        TriggerDefault,
    },
    loans::{self, Loan, LoanStatus},
    queue, reserve,
};

/// The smallest surplus worth a harvest (one USDai): smaller ones wait to grow.
pub const HARVEST_SURPLUS_MIN: Amount = Amount(WAD);
/// Requests one keeper round serves at most: the protocol's own bound. A smaller limit would
/// be rejected whenever it cut the round short (`round_request_limit_cuts_round_short`).
pub const ROUND_REQUESTS_KEEPER: u32 = queue::ROUND_REQUESTS_MAX;

/// How old a loan's mark may grow before the keeper re-marks it.
pub const REMARK_INTERVAL_SECS: u64 = 86_400;
/// Loans one `remark_loans` covers.
pub const REMARK_BATCH_LOANS: u32 = 500;
/// `remark_loans` batches submitted per block at most.
pub const REMARK_BATCHES_PER_BLOCK_MAX: usize = 4;
/// `trigger_default` transactions submitted per block at most.
pub const DEFAULTS_PER_BLOCK_MAX: usize = 16;

/// The upkeep actions due now, in the order to submit them: harvest, round, queued deposits,
/// re-marks (a fresh mark may open a margin call or cure one), debt-service reserve draws (a
/// missed payment draws on the borrower's reserve first), then default triggers.
pub fn due_actions(state: &State) -> Vec<Action> {
    let mut due = Vec::new();
    // What a harvest would mint (bounded by the attested surplus while attestations are
    // required), so a stale or short attestation does not make the keeper send rejections.
    if reserve::harvestable(state).is_ok_and(|surplus| surplus >= HARVEST_SURPLUS_MIN) {
        due.push(Action::HarvestBaseYield(HarvestBaseYield {}));
    }
    if round_is_due(state) {
        due.push(Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_KEEPER }));
    }
    // Queued deposits (issue 16) fill, or go back, as soon as their head can.
    if reserve::head_fill(state)
        .is_ok_and(|head| head.is_some_and(|(_, _, fill)| fill != reserve::HeadFill::Wait))
    {
        due.push(Action::FillQueuedDeposits(FillQueuedDeposits {
            max_deposits: reserve::FILL_BATCH_MAX,
        }));
    }
    due.extend(remarks_due(state));
    due.extend(draws_due(state));
    due.extend(defaults_due(state));
    due
}

/// `remark_loans` batches covering every open loan (active, or defaulted and not yet settled)
/// whose mark is missing or older than [`REMARK_INTERVAL_SECS`]: each batch starts at the first
/// such loan not yet covered and takes the next [`REMARK_BATCH_LOANS`] open loans. Defaulted
/// loans are re-marked too: their impairment is the senior principal the expected recovery of
/// the collateral still held would not cover, so it must follow the collateral's depreciation
/// until the sale settles (SPEC 9.6), or conservative NAV would carry stale collateral value.
fn remarks_due(state: &State) -> Vec<Action> {
    let now = state.now();
    let mut batches = Vec::new();
    let mut covered = 0usize;
    let mut open = state.loans.open.iter().map(|(id, ())| *id).enumerate();
    while batches.len() < REMARK_BATCHES_PER_BLOCK_MAX {
        let stale = open.by_ref().find(|(index, id)| {
            *index >= covered
                && state.loans.loans.get(id).is_some_and(|loan| {
                    matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted)
                        && loan
                            .mark
                            .is_none_or(|m| m.at.saturating_add(REMARK_INTERVAL_SECS) <= now)
                })
        });
        let Some((index, first_loan_id)) = stale else { break };
        batches.push(Action::RemarkLoans(RemarkLoans {
            first_loan_id,
            max_loans: REMARK_BATCH_LOANS,
        }));
        covered = index + REMARK_BATCH_LOANS as usize;
    }
    batches
}

/// Whether `loan`'s missed payments can be paid out of its debt-service reserve now.
fn reserve_covers_missed(loan: &Loan, now: u64) -> bool {
    loan.status == LoanStatus::Active
        && loan.missed_periods(now) > 0
        && !loan.is_cure_lapsed(now)
        && !loan.reserve.balance.is_zero()
        && loans::payment_due(loan, now)
            .ok()
            .and_then(|due| due.total().ok())
            .is_some_and(|total| total <= loan.reserve.balance)
}

/// The open loans, in id order: the scan both reserve draws and defaults walk.
fn open_loans(state: &State) -> impl Iterator<Item = &loans::Loan> {
    state.loans.open.iter().filter_map(|(id, ())| state.loans.loans.get(id))
}

/// `draw_debt_service_reserve` for loans whose reserve covers their missed payments.
fn draws_due(state: &State) -> Vec<Action> {
    let now = state.now();
    open_loans(state)
        .filter(|loan| reserve_covers_missed(loan, now))
        .take(DEFAULTS_PER_BLOCK_MAX)
        .map(|loan| Action::DrawDebtServiceReserve(DrawDebtServiceReserve { loan_id: loan.id }))
        .collect()
}

/// `trigger_default` for active loans past their grace period or cure window (not those whose
/// reserve pays instead).
fn defaults_due(state: &State) -> Vec<Action> {
    let now = state.now();
    open_loans(state)
        .filter(|loan| loan.is_default_due(now) && !reserve_covers_missed(loan, now))
        .take(DEFAULTS_PER_BLOCK_MAX)
        .map(|loan| Action::TriggerDefault(TriggerDefault { loan_id: loan.id }))
        .collect()
}

/// A round is due when the round interval has passed (or the last round stopped at the
/// protocol's bound with liquidity left), some request is (or becomes) eligible, and there is
/// liquidity to serve it.
fn round_is_due(state: &State) -> bool {
    let now = state.now();
    if state.queue.globals.get().last_round_at.is_some()
        && now < queue::next_round_earliest_at(state)
    {
        return false;
    }
    let has_eligible = !state.queue.eligible.is_empty()
        || state.queue.waiting.first().is_some_and(|((eligible_at, _), _)| *eligible_at <= now);
    if !has_eligible {
        return false;
    }
    let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
    !locked.is_zero() && queue::round_liquidity(state).is_ok_and(|l| !l.is_zero())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::{
        Address, BlockContext, Genesis, Transaction,
        action::{HarvestBaseYield, MintUsdai, RequestRedeem, ServiceQueue, Stake},
        ids::USDC,
        math::Rate,
        tx::apply,
    };

    #[test]
    fn upkeep_comes_due_as_yield_accrues_and_requests_become_eligible() {
        let user = Address::repeat_byte(7);
        let mut genesis = Genesis::with_admin(Address::repeat_byte(1), 1_000);
        genesis.tbill_rate = Rate::from_apr_bps(500);
        genesis.stablecoin_balances.push((user, USDC, Amount::from_whole(100_000)));
        let mut state = State::from_genesis(&genesis).unwrap();
        assert!(due_actions(&state).is_empty(), "nothing is due in a fresh market");
        let block = BlockContext { height: 1, timestamp: 1_000 };
        let run = |state: &mut State, block: &BlockContext, action: Action| {
            apply(state, block, &Transaction { sender: user, action }).unwrap();
        };
        run(
            &mut state,
            &block,
            Action::MintUsdai(MintUsdai {
                token: USDC,
                amount: Amount::from_whole(100_000),
                min_out: Amount::ZERO,
            }),
        );
        run(
            &mut state,
            &block,
            Action::Stake(Stake { assets: Amount::from_whole(50_000), min_shares: Amount::ZERO }),
        );
        run(
            &mut state,
            &block,
            Action::RequestRedeem(RequestRedeem { shares: Amount::from_whole(10) }),
        );
        assert!(due_actions(&state).is_empty(), "no yield yet, and the request waits");
        let later = BlockContext { height: 2, timestamp: 1_000 + 8 * 86_400 };
        infrafi_core::begin_block(&mut state, &later).unwrap();
        let due = due_actions(&state);
        assert_eq!(
            due,
            vec![
                Action::HarvestBaseYield(HarvestBaseYield {}),
                Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_KEEPER })
            ]
        );
        for action in due {
            run(&mut state, &later, action);
        }
        assert!(due_actions(&state).is_empty(), "the upkeep is done");
    }

    /// A defaulted loan's receipts lose value while they wait for a buyer: the keeper keeps
    /// re-marking the loan every day until the sale settles, so its impairment (the senior
    /// principal the expected recovery would not cover) follows the depreciation into
    /// conservative NAV. Once settled, the loan is no longer open and nothing is due for it.
    #[test]
    fn the_keeper_keeps_re_marking_defaulted_collateral_until_the_sale_settles() {
        use infrafi_core::{
            action::{AddAssetClass, ForecloseLoan, ReportSale, Transfer},
            loans::SaleReport,
            math::Bps,
            receipts::AssetClassTerms,
        };
        use infrafi_testkit::market::*;

        let mut market = Market::new();
        // GPUs that lose their whole new price in a year: a month costs about 8% of it.
        let terms = AssetClassTerms { annual_depreciation_bps: Bps(10_000), ..gpu_terms() };
        market.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: GPU, terms }));
        market.mint(ALICE, whole(1_000_000));
        market.stake(ALICE, whole(1_000_000));
        let silo = market.open_silo(whole(60_000), whole(1_000_000));
        let receipt = market.issue_receipt(BORROWER, 29, whole(870_000));
        let loan_id =
            market.originate(silo, senior_loan(receipt, whole(600_000), 1_000, market.now()));
        let loan = market.loan(loan_id);
        market.advance(loan.next_due_at + loan.grace_period_secs + 1 - market.now());
        let keep = |market: &mut Market| {
            market.begin_block();
            let due = due_actions(&market.state);
            for action in due.clone() {
                market.ok(KEEPER, action);
            }
            due
        };
        keep(&mut market);
        assert_eq!(market.loan(loan_id).status, LoanStatus::Defaulted, "the keeper defaulted it");
        let mut uncovered = market.loan(loan_id).senior_uncovered;
        let at_default = market.nav().senior_impairment;
        for _ in 0..30 {
            market.advance(REMARK_INTERVAL_SECS);
            let due = keep(&mut market);
            assert!(
                due.iter().any(|action| matches!(action, Action::RemarkLoans(_))),
                "a defaulted loan's day-old mark is due again: {due:?}"
            );
            let loan = market.loan(loan_id);
            assert_eq!(loan.mark.map(|mark| mark.at), Some(market.now()));
            assert!(loan.senior_uncovered > uncovered, "the impairment follows depreciation");
            uncovered = loan.senior_uncovered;
        }
        let impairment = market.nav().senior_impairment;
        assert!(
            impairment > at_default,
            "a month of depreciation reached conservative NAV: {at_default:?} -> {impairment:?}"
        );

        let agent = LIQUIDATION_AGENT;
        market.ok(
            CURATOR,
            Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent: agent }),
        );
        let proceeds = Transfer { asset: Asset::Usdai, to: agent, amount: whole(500_000) };
        market.refresh_prices();
        market.mint(BOB, whole(500_000));
        market.ok(BOB, Action::Transfer(proceeds));
        let report = SaleReport { gross_proceeds: whole(500_000), ..SaleReport::default() };
        market.ok(agent, Action::ReportSale(ReportSale { receipt_id: receipt, report }));
        assert_eq!(market.loan(loan_id).status, LoanStatus::Settled);
        assert_eq!(market.nav().senior_impairment, Amount::ZERO, "released on settlement");
        market.advance(REMARK_INTERVAL_SECS);
        market.begin_block();
        assert!(due_actions(&market.state).is_empty(), "a settled loan is not re-marked");
    }
}
