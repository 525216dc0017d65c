//! A credit market for tests: roles, funded accounts, a GPU class, and helpers that apply
//! transactions and check every SPEC 14 invariant after each one.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use infrafi_core::{
    Account, Action, Address, Amount, AssetClassId, BlockContext, Event, Genesis, LoanId,
    ProtocolAccount, ReceiptId, SiloId, State, Transaction, TxError,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, DepositFirstLoss, IssueReceipt, MintUsdai,
        OpenSilo, PostValuation, ProposeLoan, RepayLoan, SetSiloSeniorCap, Stake,
    },
    apply,
    ids::{Asset, B256, USDC},
    invariants,
    loans::{Loan, LoanTerms, TrancheTerms},
    math::{Bps, Rate},
    params::Role,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    schedule::InterestModel,
    silos::{Silo, SiloTerms},
    vault,
};

pub const GENESIS_TIME: u64 = 1_700_000_000;
pub const DAY: u64 = 86_400;
pub const MONTH: u64 = 30 * DAY;

pub const ADMIN: Address = Address::repeat_byte(0x01);
pub const CUSTODIAN: Address = Address::repeat_byte(0x02);
pub const APPRAISER: Address = Address::repeat_byte(0x03);
pub const INSURER: Address = Address::repeat_byte(0x04);
pub const CURATOR: Address = Address::repeat_byte(0x05);
pub const CURATOR_TWO: Address = Address::repeat_byte(0x06);
pub const AGENT: Address = Address::repeat_byte(0x07);
pub const BORROWER: Address = Address::repeat_byte(0x08);
pub const BORROWER_TWO: Address = Address::repeat_byte(0x09);
pub const DEPOSITOR: Address = Address::repeat_byte(0x0a);
pub const KEEPER: Address = Address::repeat_byte(0x0b);
pub const GUARDIAN: Address = Address::repeat_byte(0x0c);
pub const STRANGER: Address = Address::repeat_byte(0x0d);
pub const COMPLIANCE: Address = Address::repeat_byte(0x0e);

pub fn usd(whole: u128) -> Amount {
    Amount::from_whole(whole)
}

pub fn h100() -> AssetClassId {
    AssetClassId::new("gpu.h100-sxm").unwrap()
}

pub fn a100() -> AssetClassId {
    AssetClassId::new("gpu.a100").unwrap()
}

/// H100 SXM: $30,000 new, 20%/year, floor 10%, default recovery model (30% ITAD), plus $100
/// legal, $200 logistics and $50 data destruction per unit, 10% condition haircut.
pub fn h100_terms() -> AssetClassTerms {
    AssetClassTerms {
        new_price_per_unit: usd(30_000),
        annual_depreciation_bps: Bps(2_000),
        floor_bps: Bps(1_000),
        recovery: RecoveryCostModel {
            itad_commission_bps: Bps(3_000),
            legal_cost_per_unit: usd(100),
            logistics_cost_per_unit: usd(200),
            data_destruction_cost_per_unit: usd(50),
            condition_haircut_bps: Bps(1_000),
        },
    }
}

pub fn description(quantity: u32) -> ReceiptDescription {
    ReceiptDescription {
        quantity,
        serials_hash: B256::repeat_byte(0x33),
        facility: "Reno NV DC-2".into(),
        jurisdiction: "US-NV".into(),
        bailment_hash: B256::repeat_byte(0x44),
    }
}

pub struct Market {
    pub state: State,
    pub height: u64,
}

impl Market {
    /// Roles granted, USDC balances for every participant, the H100 and A100 classes, and a
    /// vault with `vault_usd` staked by the depositor.
    pub fn new(vault_usd: u128) -> Market {
        let mut genesis = Genesis::with_admin(ADMIN, GENESIS_TIME);
        genesis.roles.extend([
            (Role::Custodian, CUSTODIAN),
            (Role::Appraiser, APPRAISER),
            (Role::Insurer, INSURER),
            (Role::Curator, CURATOR),
            (Role::Curator, CURATOR_TWO),
            (Role::LiquidationAgent, AGENT),
            (Role::Guardian, GUARDIAN),
            (Role::Compliance, COMPLIANCE),
        ]);
        for who in [CURATOR, CURATOR_TWO, AGENT, BORROWER, BORROWER_TWO, DEPOSITOR, INSURER] {
            genesis.stablecoin_balances.push((who, USDC, usd(1_000_000_000)));
        }
        let state = State::from_genesis(&genesis).unwrap();
        let mut market = Market { state, height: 0 };
        for who in [CURATOR, CURATOR_TWO, AGENT, BORROWER, BORROWER_TWO, DEPOSITOR, INSURER] {
            market.mint(who, usd(100_000_000));
        }
        market
            .ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: h100(), terms: h100_terms() }));
        let mut a100_terms = h100_terms();
        a100_terms.new_price_per_unit = usd(10_000);
        market.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: a100(), terms: a100_terms }));
        if vault_usd > 0 {
            market.ok(
                DEPOSITOR,
                Action::Stake(Stake { assets: usd(vault_usd), min_shares: Amount::ZERO }),
            );
        }
        market
    }

    pub fn now(&self) -> u64 {
        self.state.now()
    }

    pub fn advance(&mut self, secs: u64) {
        let now = self.now() + secs;
        self.set_time(now);
    }

    pub fn set_time(&mut self, timestamp: u64) {
        assert!(timestamp >= self.now());
        self.height += 1;
        let block = BlockContext { height: self.height, timestamp };
        infrafi_core::begin_block(&mut self.state, &block).unwrap();
    }

    /// Applies a transaction in a new block at the current time.
    pub fn apply(&mut self, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
        self.height += 1;
        let block = BlockContext { height: self.height, timestamp: self.now() };
        apply(&mut self.state, &block, &Transaction { sender, action })
    }

    /// Applies a transaction that must succeed, then checks every invariant.
    pub fn ok(&mut self, sender: Address, action: Action) -> Vec<Event> {
        let name = action.name();
        let events = match self.apply(sender, action) {
            Ok(events) => events,
            Err(error) => panic!("{name} by {sender} was rejected: {error}"),
        };
        self.check(&events);
        events
    }

    pub fn check(&self, events: &[Event]) {
        if let Err(broken) = invariants::check(&self.state) {
            panic!("invariant broken: {broken}");
        }
        if let Err(broken) = invariants::check_isolation(events) {
            panic!("isolation broken: {broken}");
        }
    }

    /// Applies a transaction that must be rejected with `expected`, leaving the state
    /// byte-for-byte as it was.
    pub fn reject(&mut self, sender: Address, action: Action, expected: impl Into<TxError>) {
        let expected = expected.into();
        let before = self.state.state_hash();
        let name = action.name();
        let height = self.height;
        // Apply in the block of the previous transaction so the clock does not move.
        let block = BlockContext { height, timestamp: self.now() };
        match apply(&mut self.state, &block, &Transaction { sender, action }) {
            Ok(_) => panic!("{name} should have been rejected with {expected}"),
            Err(error) => {
                assert_eq!(error, expected, "{name} was rejected with {error}, not {expected}");
                assert_eq!(error.code(), expected.code());
            }
        }
        assert_eq!(self.state.state_hash(), before, "{name}'s rejection changed the state");
    }

    pub fn mint(&mut self, who: Address, amount: Amount) {
        self.ok(who, Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO }));
    }

    pub fn usdai(&self, account: impl Into<Account>) -> Amount {
        self.state.ledger.balance(account.into(), Asset::Usdai)
    }

    pub fn vault_usdai(&self) -> Amount {
        self.usdai(ProtocolAccount::Vault)
    }

    pub fn pool(&self, silo: SiloId) -> Amount {
        self.usdai(ProtocolAccount::SiloPool(silo))
    }

    pub fn fees(&self) -> Amount {
        self.usdai(ProtocolAccount::FeeCollector)
    }

    pub fn nav(&self) -> vault::Nav {
        vault::nav(&self.state)
    }

    /// Issues, insures (coverage = value, for two years) and appraises a receipt.
    pub fn receipt(
        &mut self,
        owner: Address,
        class: AssetClassId,
        quantity: u32,
        value: Amount,
    ) -> ReceiptId {
        let id = ReceiptId(*self.state.receipts.next_receipt_id.get());
        self.ok(
            CUSTODIAN,
            Action::IssueReceipt(IssueReceipt { class, owner, description: description(quantity) }),
        );
        let expires_at = self.now() + 2 * 365 * DAY;
        self.ok(
            INSURER,
            Action::AttachPolicy(AttachPolicy {
                receipt_id: id,
                policy_id: B256::repeat_byte(0x55),
                coverage: value,
                expires_at,
            }),
        );
        self.ok(APPRAISER, Action::PostValuation(PostValuation { receipt_id: id, value }));
        id
    }

    /// Opens a silo for `curator` lending against H100 and A100, posts `first_loss`, and has
    /// admin set `senior_cap`.
    pub fn silo(&mut self, curator: Address, first_loss: Amount, senior_cap: Amount) -> SiloId {
        self.silo_with(curator, first_loss, senior_cap, SiloTerms::default())
    }

    pub fn silo_with(
        &mut self,
        curator: Address,
        first_loss: Amount,
        senior_cap: Amount,
        mut terms: SiloTerms,
    ) -> SiloId {
        if terms.eligible_classes.is_empty() {
            let mut classes = vec![h100(), a100()];
            classes.sort();
            terms.eligible_classes = classes;
        }
        let id = SiloId(*self.state.silos.next_silo_id.get());
        self.ok(curator, Action::OpenSilo(OpenSilo { terms }));
        if !first_loss.is_zero() {
            self.ok(
                curator,
                Action::DepositFirstLoss(DepositFirstLoss { silo_id: id, amount: first_loss }),
            );
        }
        self.ok(ADMIN, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: id, cap: senior_cap }));
        id
    }

    pub fn next_loan_id(&self) -> LoanId {
        LoanId(*self.state.loans.next_loan_id.get())
    }

    /// Proposes `terms` in `silo` (as its curator) and has the borrower accept.
    pub fn originate(&mut self, silo: SiloId, terms: LoanTerms) -> LoanId {
        let id = self.propose(silo, terms.clone());
        self.ok(terms.borrower, Action::AcceptLoan(AcceptLoan { loan_id: id }));
        id
    }

    pub fn propose(&mut self, silo: SiloId, terms: LoanTerms) -> LoanId {
        let id = self.next_loan_id();
        let curator = self.silo_state(silo).curator;
        self.ok(curator, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }));
        id
    }

    pub fn loan(&self, id: LoanId) -> Loan {
        self.state.loans.loans.get(&id).cloned().unwrap()
    }

    pub fn silo_state(&self, id: SiloId) -> Silo {
        self.state.silos.silos.get(&id).cloned().unwrap()
    }

    /// Pays what is due now and returns the amount paid.
    pub fn repay(&mut self, id: LoanId) -> Amount {
        let payer = self.loan(id).borrower;
        let before = self.usdai(payer);
        self.ok(payer, Action::RepayLoan(RepayLoan { loan_id: id, max_amount: Amount::MAX }));
        before.checked_sub(self.usdai(payer)).unwrap()
    }
}

/// Standard terms: amortized, 36 monthly payments, 15% senior / 20% junior APR, 15 days of
/// grace at 20% APR, 1% origination fee, 0.5% exit fee, a week to accept.
pub fn terms(
    market: &Market,
    borrower: Address,
    receipts: Vec<ReceiptId>,
    senior: Amount,
    junior: Amount,
) -> LoanTerms {
    LoanTerms {
        borrower,
        receipts,
        senior: TrancheTerms { amount: senior, rate: Rate::from_apr_bps(1_500) },
        junior: TrancheTerms { amount: junior, rate: Rate::from_apr_bps(2_000) },
        model: InterestModel::Amortized,
        periods: Some(36),
        interval_secs: None,
        grace_period_secs: 15 * DAY,
        grace_rate: Rate::from_apr_bps(2_000),
        origination_fee_bps: Bps(100),
        exit_fee_bps: Bps(50),
        expires_at: market.now() + 7 * DAY,
    }
}
