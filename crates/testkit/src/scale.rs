//! A market at a node's scale, for `infrafi bench-node --queued Q --loans L`: `Q` redemption
//! requests waiting in the queue and `L` active loans in one silo (with a second, empty silo
//! beside it), built out of ordinary transactions (the
//! credit fixture's: [`crate::market`]'s role holders, GPU class, insured and appraised
//! receipts, senior loans proposed by the curator and accepted by their borrowers) applied to
//! a genesis before its first block. The node runs them as a genesis history, so every run
//! and every node builds the same state.
//!
//! Guarantees: [`ScaleMarket::actions`] is a pure function of `queued`, `loans` and the
//! genesis time; applied in order to a genesis that [`ScaleMarket::fund`] prepared, every
//! action is accepted (ids are predicted from counters that start at zero: nothing else
//! makes receipts, silos, loans or requests before them) and the invariants hold after.

use crate::market::{
    ADMIN, APPRAISER, CURATOR, CUSTODIAN, GPU, INSURER, ROLE_HOLDERS, YEAR, gpu_receipt, gpu_terms,
    senior_loan, user_address,
};
use infrafi_core::{
    Action, Address, Amount, Genesis, LoanId, ReceiptId, SiloId,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, DepositFirstLoss, IssueReceipt, MintUsdai,
        OpenSilo, PostValuation, ProposeLoan, RequestRedeem, SetSiloSeniorCap, Stake,
    },
    ids::{B256, USDC},
    silos::SiloTerms,
};

/// Requests each requester holds: the default `max_active_requests`, the most one owner may.
pub const REQUESTS_PER_REQUESTER: u64 = 50;
/// GPUs on each loan's receipt.
pub const LOAN_UNITS: u32 = 8;
/// Each receipt's appraisal and insurance cover: its 8 GPUs at the class's $30,000 a unit.
pub const LOAN_APPRAISAL: Amount = Amount::from_whole(240_000);
/// Each loan's senior principal (an LTV of about 42%).
pub const LOAN_SENIOR: Amount = Amount::from_whole(100_000);
/// Each loan's senior rate, in basis points a year.
pub const LOAN_APR_BPS: u32 = 1_200;

/// Where the scale market's own accounts start among [`user_address`]es: far above the
/// indices a benchmark gives its users, so they never meet.
const ACCOUNT_BASE: u64 = 1 << 48;

/// A market with `queued` one-share redemption requests waiting and `loans` active loans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleMarket {
    /// Requests waiting in the queue.
    pub queued: u64,
    /// Active loans.
    pub loans: u64,
}

impl ScaleMarket {
    /// The silo holding every loan.
    pub const LOANS_SILO: SiloId = SiloId(0);
    /// A silo opened after the loans, holding none (only when there are loans).
    pub const EMPTY_SILO: SiloId = SiloId(1);

    /// The lender whose stake the loans' senior tranches are lent from.
    pub fn lender() -> Address {
        user_address(ACCOUNT_BASE)
    }

    /// The owner of requests `index * REQUESTS_PER_REQUESTER ..` (each holds as many).
    pub fn requester(index: u64) -> Address {
        user_address(ACCOUNT_BASE + 1 + index)
    }

    /// The borrower of loan `index` (each loan its own borrower).
    pub fn borrower(index: u64) -> Address {
        user_address(2 * ACCOUNT_BASE + index)
    }

    /// How many requesters hold the queue.
    pub fn requesters(&self) -> u64 {
        self.queued.div_ceil(REQUESTS_PER_REQUESTER)
    }

    /// The requests requester `index` makes (the last may make fewer).
    fn requests_of(&self, index: u64) -> u64 {
        (self.queued - index * REQUESTS_PER_REQUESTER).min(REQUESTS_PER_REQUESTER)
    }

    /// Senior principal lent in all: what the lender stakes backs it with room to spare
    /// (the vault lends at most 90% and keeps a 5% buffer) and the curator's first loss covers
    /// 10% of it (the default `min_first_loss_bps`).
    fn senior_total(&self) -> Amount {
        Amount(LOAN_SENIOR.0 * u128::from(self.loans))
    }

    fn lender_stake(&self) -> Amount {
        Amount(self.senior_total().0 / 4 * 5)
    }

    fn first_loss(&self) -> Amount {
        Amount(self.senior_total().0 / 10)
    }

    /// Adds to `genesis` the credit fixture's role holders and the USDC the market's actions
    /// mint from (the lender's, each requester's, the curator's first loss).
    pub fn fund(&self, genesis: &mut Genesis) {
        for &(role, holder) in ROLE_HOLDERS.iter() {
            if !genesis.roles.contains(&(role, holder)) {
                genesis.roles.push((role, holder));
            }
        }
        let balances = &mut genesis.stablecoin_balances;
        for index in 0..self.requesters() {
            let shares = Amount::from_whole(u128::from(self.requests_of(index)));
            balances.push((ScaleMarket::requester(index), USDC, shares));
        }
        if self.loans > 0 {
            balances.push((ScaleMarket::lender(), USDC, self.lender_stake()));
            balances.push((CURATOR, USDC, self.first_loss()));
        }
    }

    /// The actions, in order, as (sender, action), all at the genesis time `now`.
    pub fn actions(&self, now: u64) -> Vec<(Address, Action)> {
        let mint =
            |amount| Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO });
        let stake = |assets| Action::Stake(Stake { assets, min_shares: Amount::ZERO });
        let mut actions = Vec::new();
        if self.loans > 0 {
            let stake_amount = self.lender_stake();
            actions.push((ScaleMarket::lender(), mint(stake_amount)));
            actions.push((ScaleMarket::lender(), stake(stake_amount)));
        }
        for index in 0..self.requesters() {
            let requester = ScaleMarket::requester(index);
            let requests = self.requests_of(index);
            let shares = Amount::from_whole(u128::from(requests));
            actions.push((requester, mint(shares)));
            actions.push((requester, stake(shares)));
            let one = Action::RequestRedeem(RequestRedeem { shares: Amount::from_whole(1) });
            actions.extend((0..requests).map(|_| (requester, one.clone())));
        }
        if self.loans == 0 {
            return actions;
        }
        let silo_id = ScaleMarket::LOANS_SILO;
        let terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
        actions.extend([
            (ADMIN, Action::AddAssetClass(AddAssetClass { class: GPU, terms: gpu_terms() })),
            (CURATOR, Action::OpenSilo(OpenSilo { terms })),
            (CURATOR, mint(self.first_loss())),
            (
                CURATOR,
                Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount: self.first_loss() }),
            ),
            (
                ADMIN,
                Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap: self.senior_total() }),
            ),
        ]);
        for index in 0..self.loans {
            let borrower = ScaleMarket::borrower(index);
            let receipt_id = ReceiptId(index);
            let mut description = gpu_receipt(LOAN_UNITS);
            description.serials_hash = B256::from(alloy_primitives::keccak256(index.to_be_bytes()));
            let mut terms = senior_loan(receipt_id, LOAN_SENIOR, LOAN_APR_BPS, now);
            terms.borrower = borrower;
            actions.extend([
                (
                    CUSTODIAN,
                    Action::IssueReceipt(IssueReceipt { class: GPU, owner: borrower, description }),
                ),
                (
                    INSURER,
                    Action::AttachPolicy(AttachPolicy {
                        receipt_id,
                        policy_id: B256::from(alloy_primitives::keccak256(
                            receipt_id.0.to_le_bytes(),
                        )),
                        coverage: LOAN_APPRAISAL,
                        expires_at: now + 2 * YEAR,
                    }),
                ),
                (
                    APPRAISER,
                    Action::PostValuation(PostValuation { receipt_id, value: LOAN_APPRAISAL }),
                ),
                (CURATOR, Action::ProposeLoan(ProposeLoan { silo_id, terms })),
                (borrower, Action::AcceptLoan(AcceptLoan { loan_id: LoanId(index) })),
            ]);
        }
        // A second silo with no loans ([`ScaleMarket::EMPTY_SILO`]): its reads show what
        // another silo's book costs them.
        let terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
        actions.push((CURATOR, Action::OpenSilo(OpenSilo { terms })));
        actions
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use crate::market::GENESIS_TIME;
    use infrafi_core::{
        Asset, BlockContext, State, Transaction, apply, ids::ProtocolAccount, invariants,
        loans::LoanStatus,
    };

    #[test]
    fn the_scale_market_holds_its_queued_requests_and_active_loans_and_keeps_every_invariant() {
        let market = ScaleMarket { queued: 120, loans: 7 };
        let mut genesis = Genesis::with_admin(ADMIN, GENESIS_TIME);
        market.fund(&mut genesis);
        let mut state = State::from_genesis(&genesis).unwrap();
        let block = BlockContext { height: 1, timestamp: GENESIS_TIME };
        let actions = market.actions(GENESIS_TIME);
        assert_eq!(actions, market.actions(GENESIS_TIME), "a pure function of its inputs");
        // 3 requesters (50, 50, 20) mint and stake; the lender mints and stakes; 5 set-up
        // actions for the silo; 5 per loan; the empty silo.
        assert_eq!(actions.len(), 3 * 2 + 120 + 2 + 5 + 7 * 5 + 1);
        for (sender, action) in actions {
            let tx = Transaction { sender, action };
            if let Err(error) = apply(&mut state, &block, &tx) {
                panic!("{:?} from {sender} was rejected: {error}", tx.action);
            }
        }
        invariants::check(&state).unwrap();
        assert_eq!(state.queue.requests.len(), 120);
        let locked = state.ledger.balance(ProtocolAccount::QueueEscrow, Asset::Susdai);
        assert_eq!(locked, Amount::from_whole(120));
        assert_eq!(state.loans.loans.len(), 7);
        for (_, loan) in state.loans.loans.iter() {
            assert_eq!(loan.status, LoanStatus::Active);
        }
        let borrowed = state.ledger.balance(ScaleMarket::borrower(6), Asset::Usdai);
        assert_eq!(borrowed, LOAN_SENIOR);
        let empty = state.silos.silos.get(&ScaleMarket::EMPTY_SILO).unwrap();
        assert_eq!(empty.loans_outstanding, 0);
    }

    #[test]
    fn a_scale_market_without_loans_or_requests_adds_nothing() {
        let market = ScaleMarket { queued: 0, loans: 0 };
        let mut genesis = Genesis::with_admin(ADMIN, GENESIS_TIME);
        market.fund(&mut genesis);
        assert!(genesis.stablecoin_balances.is_empty());
        assert!(market.actions(GENESIS_TIME).is_empty());
    }
}
