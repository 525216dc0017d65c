//! The credit tests' market: the one market fixture (`infrafi_testkit::market`) with a second
//! curator, two borrowers and a depositor funded with USDai, the H100 and A100 classes
//! registered, and every transaction in a block of its own (so a test reads the state between
//! transactions exactly as the chain would). After each accepted transaction every SPEC 14
//! invariant and silo isolation are checked; a rejection must leave the state unchanged.
#![allow(dead_code, unused_imports, unreachable_pub, missing_docs)] // Each test uses a subset.

use infrafi_core::{
    Action, Address, Amount, AssetClassId, Event, LoanId, ReceiptId, SiloId, TxError,
    action::{AddAssetClass, DepositFirstLoss, OpenSilo, SetSiloSeniorCap, Stake},
    ids::USDC,
    invariants,
    loans::{LoanTerms, TrancheTerms},
    math::{Bps, Rate},
    params::Role,
    receipts::{AssetClassTerms, RecoveryCostModel},
    schedule::InterestModel,
    silos::SiloTerms,
};
pub use infrafi_testkit::market::{
    ADMIN, APPRAISER, BORROWER, BORROWER_TWO, COMPLIANCE, CURATOR, CURATOR_TWO, CUSTODIAN, DAY,
    DEPOSITOR, GENESIS_TIME, GUARDIAN, INSURER, KEEPER, LIQUIDATION_AGENT, MONTH, RIVAL, STRANGER,
    gpu_receipt, whole,
};
use std::ops::{Deref, DerefMut};

/// The parties the credit market funds with USDC at genesis and USDai after it.
const FUNDED: [Address; 7] =
    [CURATOR, CURATOR_TWO, LIQUIDATION_AGENT, BORROWER, BORROWER_TWO, DEPOSITOR, INSURER];

pub fn h100() -> AssetClassId {
    AssetClassId::new("gpu.h100-sxm").expect("valid class name")
}

pub fn a100() -> AssetClassId {
    AssetClassId::new("gpu.a100").expect("valid class name")
}

/// H100 SXM: the random workload's GPU class ($30,000 new, 20%/year, floor 10%, 30% ITAD, $350
/// of fixed costs a unit, 10% condition haircut), declared once in the testkit.
pub fn h100_terms() -> AssetClassTerms {
    infrafi_testkit::workload::gpu_class_terms()
}

/// The fixture's market with the credit tests' block rule: see the module doc.
#[derive(Clone)]
pub struct Market {
    inner: infrafi_testkit::market::Market,
}

impl Deref for Market {
    type Target = infrafi_testkit::market::Market;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl DerefMut for Market {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl Market {
    /// The fixture's genesis with [`CURATOR_TWO`] as a second curator and 1,000,000,000 USDC
    /// for each funded party, who mint 100,000,000 USDai; the H100 and A100 classes; a vault
    /// with `vault_usd` staked by the depositor.
    pub fn new(vault_usd: u128) -> Market {
        let mut genesis = infrafi_testkit::market::genesis();
        genesis.roles.push((Role::Curator, CURATOR_TWO));
        genesis.stablecoin_balances.retain(|(holder, _, _)| !FUNDED.contains(holder));
        for party in FUNDED {
            genesis.stablecoin_balances.push((party, USDC, whole(1_000_000_000)));
        }
        let inner = infrafi_testkit::market::Market::from_genesis(&genesis);
        let mut market = Market { inner };
        for party in FUNDED {
            market.mint(party, whole(100_000_000));
        }
        market
            .ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: h100(), terms: h100_terms() }));
        let mut a100_terms = h100_terms();
        a100_terms.new_price_per_unit = whole(10_000);
        market.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: a100(), terms: a100_terms }));
        if vault_usd > 0 {
            market.ok(
                DEPOSITOR,
                Action::Stake(Stake { assets: whole(vault_usd), min_shares: Amount::ZERO }),
            );
        }
        market
    }

    /// Moves the clock `secs` later in a new block and runs its upkeep.
    pub fn advance(&mut self, secs: u64) {
        self.inner.advance(secs);
        self.inner.begin_block();
    }

    /// Moves the clock to `timestamp` (not earlier than now) in a new block.
    pub fn set_time(&mut self, timestamp: u64) {
        let secs = timestamp.checked_sub(self.now()).expect("time only moves forward");
        self.advance(secs);
    }

    /// Applies a transaction in a new block at the current time (a rejection leaves the state
    /// exactly as it was, and the invariants hold either way).
    pub fn apply(&mut self, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
        self.inner.advance(0);
        self.inner.try_apply(sender, action)
    }

    /// Applies a transaction that must succeed, then checks every invariant and isolation.
    #[track_caller]
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

    /// Applies a transaction that must be rejected with `expected` in the block of the previous
    /// transaction (so the clock does not move), leaving the state byte-for-byte as it was.
    #[track_caller]
    pub fn reject(&mut self, sender: Address, action: Action, expected: impl Into<TxError>) {
        self.inner.rejected(sender, action, expected);
    }

    /// The silo's curator proposes `terms` and the borrower accepts (the fixture's, here so
    /// that `market.originate(silo, terms(&market, ..))` borrows `market` in two phases).
    pub fn originate(&mut self, silo_id: SiloId, terms: LoanTerms) -> LoanId {
        self.inner.originate(silo_id, terms)
    }

    /// The silo's curator proposes `terms` (the fixture's, borrowing as `originate` does).
    pub fn propose(&mut self, silo_id: SiloId, terms: LoanTerms) -> LoanId {
        self.inner.propose(silo_id, terms)
    }

    /// Mints `amount` USDai for `who` from USDC with no slippage limit.
    pub fn mint(&mut self, who: Address, amount: Amount) {
        self.ok(
            who,
            Action::MintUsdai(infrafi_core::action::MintUsdai {
                token: USDC,
                amount,
                min_out: Amount::ZERO,
            }),
        );
    }

    /// Opens a silo for `curator` lending against H100 and A100, posts `first_loss` from the
    /// curator's USDai, and has admin set `senior_cap`.
    pub fn open_silo_of(
        &mut self,
        curator: Address,
        first_loss: Amount,
        senior_cap: Amount,
    ) -> SiloId {
        self.open_silo_of_with(curator, first_loss, senior_cap, SiloTerms::default())
    }

    /// [`Market::open_silo_of`] with `terms` (H100 and A100 when it names no class).
    pub fn open_silo_of_with(
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
