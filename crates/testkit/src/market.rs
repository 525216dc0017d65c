//! The one market fixture of the tests: one table of role holders and parties ([`ROLE_HOLDERS`]
//! and the addresses next to it), one set of time constants ([`GENESIS_TIME`], [`DAY`], ...),
//! and a [`Market`] that applies transactions at chosen times and checks the SPEC 14
//! invariants after every transaction, accepted or rejected (a rejection must leave the state
//! hash and encoding exactly as they were). Helpers build real credit (a silo with first-loss
//! capital, insured and appraised receipts, loans proposed and accepted) out of ordinary
//! transactions, never by writing state directly.

use infrafi_core::{
    Account, Action, Address, Amount, Asset, AssetClassId, BlockContext, Bps, Event, Genesis,
    LoanId, ProtocolAccount, Rate, ReceiptId, Role, SiloId, State, Symbol, Transaction, TxError,
    WAD,
    action::{
        AcceptLoan, AddAssetClass, AttachPolicy, DepositFirstLoss, IssueReceipt, MintUsdai,
        OpenSilo, PostPrice, PostValuation, ProposeLoan, RemarkLoans, RepayLoan, SetSiloSeniorCap,
        Stake,
    },
    apply, begin_block,
    ids::{B256, USDC, USDT},
    invariants,
    loans::{Loan, LoanTerms, TrancheTerms},
    params::Params,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    schedule::InterestModel,
    silos::{Silo, SiloTerms},
    vault::{self, Nav, SeniorBook},
};

/// Genesis time of every fixture: 2023-11-14T22:13:20Z (any fixed instant works).
pub const GENESIS_TIME: u64 = 1_700_000_000;
/// Seconds in an hour.
pub const HOUR: u64 = 3_600;
/// Seconds in a day.
pub const DAY: u64 = 86_400;
/// Seconds in a 30-day month, the default payment interval.
pub const MONTH: u64 = 30 * DAY;
/// Seconds in a 365-day year.
pub const YEAR: u64 = 365 * DAY;

/// Role holders: one address per role, so a test can name exactly who acts.
pub const ADMIN: Address = Address::repeat_byte(0xa1);
/// Posts prices and the T-bill rate.
pub const ORACLE: Address = Address::repeat_byte(0xa2);
/// Credits gateway deposits and confirms or rejects payouts.
pub const ATTESTOR: Address = Address::repeat_byte(0xa3);
/// Pauses and unpauses.
pub const GUARDIAN: Address = Address::repeat_byte(0xa4);
/// Freezes and unfreezes.
pub const COMPLIANCE: Address = Address::repeat_byte(0xa5);
/// Marks addresses KYC-verified.
pub const REGISTRAR: Address = Address::repeat_byte(0xa6);
/// Anyone without a role who runs keeper actions.
pub const KEEPER: Address = Address::repeat_byte(0xa7);
/// Issues hardware receipts (CALIBER).
pub const CUSTODIAN: Address = Address::repeat_byte(0xa8);
/// Values receipts.
pub const APPRAISER: Address = Address::repeat_byte(0xa9);
/// Insures receipts.
pub const INSURER: Address = Address::repeat_byte(0xaa);
/// Runs a silo and its first-loss pool; funded with stablecoins like a user.
pub const CURATOR: Address = Address::repeat_byte(0xab);
/// Takes foreclosed receipts and reports their sales.
pub const LIQUIDATION_AGENT: Address = Address::repeat_byte(0xac);
/// Attests the T-bills behind USDai (issue 16).
pub const RESERVE_CUSTODIAN: Address = Address::repeat_byte(0xae);

/// Users, each funded at genesis with `USER_STABLECOIN_WHOLE` USDC and as much USDT.
pub const ALICE: Address = Address::repeat_byte(0x11);
/// A second user.
pub const BOB: Address = Address::repeat_byte(0x22);
/// A third user.
pub const CAROL: Address = Address::repeat_byte(0x33);
/// A fourth user (the inflation attacker in its test).
pub const DAVE: Address = Address::repeat_byte(0x44);
/// Borrows from the curator's silo against its GPUs; holds no role and starts with nothing.
pub const BORROWER: Address = Address::repeat_byte(0xb0);
/// Every funded user.
pub const USERS: [Address; 4] = [ALICE, BOB, CAROL, DAVE];
/// Each user's opening balance of each stablecoin, in whole tokens.
pub const USER_STABLECOIN_WHOLE: u128 = 1_000_000;

/// Every (role, holder) pair of the default market.
pub const ROLE_HOLDERS: [(Role, Address); 12] = [
    (Role::Admin, ADMIN),
    (Role::Oracle, ORACLE),
    (Role::GatewayAttestor, ATTESTOR),
    (Role::Guardian, GUARDIAN),
    (Role::Compliance, COMPLIANCE),
    (Role::KycRegistrar, REGISTRAR),
    (Role::Custodian, CUSTODIAN),
    (Role::Appraiser, APPRAISER),
    (Role::Insurer, INSURER),
    (Role::Curator, CURATOR),
    (Role::LiquidationAgent, LIQUIDATION_AGENT),
    (Role::ReserveCustodian, RESERVE_CUSTODIAN),
];

/// A second curator (holds the curator role in the credit fixture), for isolation between silos.
pub const CURATOR_TWO: Address = Address::repeat_byte(0xad);
/// A second borrower.
pub const BORROWER_TWO: Address = Address::repeat_byte(0xb1);
/// Deposits into the vault in the credit fixture.
pub const DEPOSITOR: Address = Address::repeat_byte(0xd1);
/// A second holder of a credit role (custodian, appraiser, insurer, curator, liquidation
/// agent) where a test grants it one, so that acting on another holder's receipt, policy,
/// silo or liquidation is tried.
pub const RIVAL: Address = Address::repeat_byte(0xc3);
/// Holds no role and no money: whoever acts without the right.
pub const STRANGER: Address = Address::repeat_byte(0xd2);

/// The address of user number `index`, for markets with many users (never one of the
/// addresses above: those repeat one byte, these start with 0x10 and end with the index).
pub fn user_address(index: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0x10;
    bytes[12..].copy_from_slice(&index.to_be_bytes());
    Address::from(bytes)
}

/// The address holding `role` in [`ROLE_HOLDERS`].
pub fn role_address(role: Role) -> Address {
    ROLE_HOLDERS
        .iter()
        .find_map(|&(held, holder)| (held == role).then_some(holder))
        .expect("every role has a holder in the fixture")
}

/// The GPU class of the credit examples.
pub const GPU: AssetClassId = match AssetClassId::new("gpu.h100-sxm") {
    Some(class) => class,
    None => panic!("valid class name"),
};

/// The GPU class's terms, chosen so that examples can be derived by hand: $30,000 a unit new,
/// no depreciation (a receipt is worth its latest appraisal) and no floor; a liquidation is
/// expected to cost the default 30% ITAD commission and nothing else. So the expected net
/// recovery of collateral worth `v` is `v - ceil(30% v)`, less the 2% liquidation fee
/// (rounded up): 68.6% of `v` when no rounding occurs.
pub fn gpu_terms() -> AssetClassTerms {
    AssetClassTerms {
        new_price_per_unit: whole(30_000),
        annual_depreciation_bps: Bps(0),
        floor_bps: Bps(0),
        recovery: RecoveryCostModel::default(),
    }
}

/// The description of a receipt for `units` GPUs.
pub fn gpu_receipt(units: u32) -> ReceiptDescription {
    ReceiptDescription {
        quantity: units,
        serials_hash: B256::repeat_byte(0x5e),
        facility: "Reno NV DC-2".into(),
        jurisdiction: "US-NV".into(),
        bailment_hash: B256::repeat_byte(0xba),
    }
}

/// Terms for a senior-only loan of `senior` at `apr_bps` to [`BORROWER`] against `receipt_id`:
/// fixed principal (12 monthly payments of `senior` / 12; interest-free when `apr_bps` is 0),
/// 15 days of grace at the same rate, no origination or exit fee, a week to accept. With no
/// junior tranche the blended rate is the senior rate exactly.
pub fn senior_loan(receipt_id: ReceiptId, senior: Amount, apr_bps: u32, now: u64) -> LoanTerms {
    let rate = Rate::from_apr_bps(apr_bps);
    LoanTerms {
        borrower: BORROWER,
        receipts: vec![receipt_id],
        senior: TrancheTerms { amount: senior, rate },
        junior: TrancheTerms::default(),
        model: InterestModel::FixedPrincipal,
        periods: Some(12),
        interval_secs: Some(30 * DAY),
        grace_period_secs: 15 * DAY,
        grace_rate: rate,
        origination_fee_bps: Bps(0),
        exit_fee_bps: Bps(0),
        expires_at: now + 7 * DAY,
    }
}

/// `whole` tokens as an amount.
pub const fn whole(whole: u128) -> Amount {
    Amount::from_whole(whole)
}

/// The default genesis: default parameters, the role holders above, USDC and USDT at 1.0, no
/// T-bill yield, every user funded, and the curator funded with USDC for its first-loss pool.
pub fn genesis() -> Genesis {
    let mut genesis = Genesis::with_admin(ADMIN, GENESIS_TIME);
    genesis.roles = ROLE_HOLDERS.to_vec();
    genesis.params = Params::default();
    for user in USERS {
        for token in [USDC, USDT] {
            genesis.stablecoin_balances.push((user, token, whole(USER_STABLECOIN_WHOLE)));
        }
    }
    genesis.stablecoin_balances.push((CURATOR, USDC, whole(USER_STABLECOIN_WHOLE)));
    genesis
}

/// A market under test: the state and the block the next transaction executes in.
#[derive(Clone)]
pub struct Market {
    /// The protocol state.
    pub state: State,
    /// The block of the next transaction.
    pub block: BlockContext,
}

impl Default for Market {
    fn default() -> Market {
        Market::new()
    }
}

impl Market {
    /// The default market at genesis.
    pub fn new() -> Market {
        Market::from_genesis(&genesis())
    }

    /// The default market with parameters changed by `edit` at genesis.
    pub fn with_params(edit: impl FnOnce(&mut Params)) -> Market {
        let mut genesis = genesis();
        edit(&mut genesis.params);
        Market::from_genesis(&genesis)
    }

    /// A market at `genesis`.
    pub fn from_genesis(genesis: &Genesis) -> Market {
        let state = State::from_genesis(genesis).expect("the test genesis is valid");
        invariants::check(&state).expect("invariants hold at genesis");
        Market { state, block: BlockContext { height: 0, timestamp: genesis.timestamp } }
    }

    /// The time of the next transaction.
    pub fn now(&self) -> u64 {
        self.block.timestamp
    }

    /// Moves the next transaction `secs` later, in a new block.
    pub fn advance(&mut self, secs: u64) {
        self.block.height += 1;
        self.block.timestamp += secs;
    }

    /// Applies `action` from `sender`. Whatever the outcome, the invariants must hold; a
    /// rejection must leave the state hash unchanged.
    pub fn try_apply(&mut self, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
        let tx = Transaction { sender, action };
        let before = self.state.state_hash();
        let result = apply(&mut self.state, &self.block, &tx);
        if let Err(error) = &result {
            assert_eq!(
                self.state.state_hash(),
                before,
                "rejected {tx:?} ({error}) changed the state"
            );
        }
        if let Err(broken) = invariants::check(&self.state) {
            panic!("invariant broken after {tx:?} -> {result:?}: {broken}");
        }
        if let Ok(events) = &result
            && let Err(broken) = invariants::check_attested_issuance(&self.state, events)
        {
            panic!("invariant broken after {tx:?}: {broken}");
        }
        result
    }

    /// Applies `action` from `sender` and expects it to be accepted; returns its events.
    #[track_caller]
    pub fn ok(&mut self, sender: Address, action: Action) -> Vec<Event> {
        let shown = format!("{action:?}");
        match self.try_apply(sender, action) {
            Ok(events) => events,
            Err(error) => panic!("{shown} from {sender} was rejected: {error}"),
        }
    }

    /// Applies `action` from `sender` and expects the rejection `expected`, state unchanged.
    #[track_caller]
    pub fn rejected(&mut self, sender: Address, action: Action, expected: impl Into<TxError>) {
        assert_rejected(self, Transaction { sender, action }, expected.into());
    }

    /// Runs the block upkeep (clock, scheduled changes, points) without a transaction.
    pub fn begin_block(&mut self) -> Vec<Event> {
        let events = begin_block(&mut self.state, &self.block).expect("time never goes back here");
        invariants::check(&self.state).expect("invariants hold after the block upkeep");
        events
    }

    /// `who`'s balance of `asset`.
    pub fn balance(&self, who: impl Into<Account>, asset: Asset) -> Amount {
        self.state.ledger.balance(who, asset)
    }

    /// `who`'s USDai.
    pub fn usdai(&self, who: impl Into<Account>) -> Amount {
        self.balance(who, Asset::Usdai)
    }

    /// `who`'s unlocked sUSDai.
    pub fn susdai(&self, who: impl Into<Account>) -> Amount {
        self.balance(who, Asset::Susdai)
    }

    /// `who`'s balance of a stablecoin.
    pub fn stable(&self, who: impl Into<Account>, token: Symbol) -> Amount {
        self.balance(who, Asset::Stablecoin(token))
    }

    /// The vault's USDai.
    pub fn vault_usdai(&self) -> Amount {
        self.usdai(ProtocolAccount::Vault)
    }

    /// NAV at the state's time.
    pub fn nav(&self) -> Nav {
        vault::nav(&self.state)
    }

    // -----------------------------------------------------------------------------------------
    // Credit (SPEC 8-10): real silos, receipts and loans, every step an ordinary transaction.

    /// Opens the curator's silo lending against [`GPU`] (registering the class first if it is
    /// not yet), with `first_loss` USDai in its pool (minted by the curator from USDC at 1.0)
    /// and a senior cap of `senior_cap`; default silo terms (initial LTV 70%, margin call
    /// above 80%, no concentration limit, no curator fee).
    pub fn open_silo(&mut self, first_loss: Amount, senior_cap: Amount) -> SiloId {
        if !self.state.receipts.classes.contains_key(&GPU) {
            self.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: GPU, terms: gpu_terms() }));
        }
        let silo_id = SiloId(*self.state.silos.next_silo_id.get());
        let terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
        self.ok(CURATOR, Action::OpenSilo(OpenSilo { terms }));
        if !first_loss.is_zero() {
            self.refresh_prices();
            self.mint(CURATOR, first_loss);
            self.ok(
                CURATOR,
                Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount: first_loss }),
            );
        }
        self.ok(ADMIN, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap: senior_cap }));
        silo_id
    }

    /// The custodian issues a receipt for `units` GPUs of [`GPU`] to `owner`; the insurer
    /// covers it for `appraisal` for two years and the appraiser values it at `appraisal`.
    pub fn issue_receipt(&mut self, owner: Address, units: u32, appraisal: Amount) -> ReceiptId {
        self.issue_receipt_of_class(owner, GPU, units, appraisal)
    }

    /// [`Market::issue_receipt`] for a receipt of `class`.
    pub fn issue_receipt_of_class(
        &mut self,
        owner: Address,
        class: AssetClassId,
        units: u32,
        appraisal: Amount,
    ) -> ReceiptId {
        let receipt_id = ReceiptId(*self.state.receipts.next_receipt_id.get());
        let description = gpu_receipt(units);
        self.ok(CUSTODIAN, Action::IssueReceipt(IssueReceipt { class, owner, description }));
        self.ok(
            INSURER,
            Action::AttachPolicy(AttachPolicy {
                receipt_id,
                policy_id: B256::repeat_byte(0x70),
                coverage: appraisal,
                expires_at: self.now() + 2 * YEAR,
            }),
        );
        self.ok(APPRAISER, Action::PostValuation(PostValuation { receipt_id, value: appraisal }));
        receipt_id
    }

    /// The id the next proposed loan will get.
    pub fn next_loan_id(&self) -> LoanId {
        LoanId(*self.state.loans.next_loan_id.get())
    }

    /// The silo's curator proposes `terms` and the borrower accepts: the loan is originated.
    pub fn originate(&mut self, silo_id: SiloId, terms: LoanTerms) -> LoanId {
        let borrower = terms.borrower;
        let loan_id = self.propose(silo_id, terms);
        self.ok(borrower, Action::AcceptLoan(AcceptLoan { loan_id }));
        loan_id
    }

    /// The appraiser values `receipt_id` at `value`, and a keeper re-marks every open loan.
    pub fn revalue_and_remark(&mut self, receipt_id: ReceiptId, value: Amount) -> Vec<Event> {
        self.ok(APPRAISER, Action::PostValuation(PostValuation { receipt_id, value }));
        self.ok(
            KEEPER,
            Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 100 }),
        )
    }

    /// The silo's curator proposes `terms` in `silo_id`; returns the proposed loan's id.
    pub fn propose(&mut self, silo_id: SiloId, terms: LoanTerms) -> LoanId {
        let loan_id = self.next_loan_id();
        let curator = self.silo(silo_id).curator;
        self.ok(curator, Action::ProposeLoan(ProposeLoan { silo_id, terms }));
        loan_id
    }

    /// The borrower of `loan_id` pays what is due now; returns the USDai it paid.
    pub fn repay(&mut self, loan_id: LoanId) -> Amount {
        let payer = self.loan(loan_id).borrower;
        let before = self.usdai(payer);
        self.ok(payer, Action::RepayLoan(RepayLoan { loan_id, max_amount: Amount::MAX }));
        before.checked_sub(self.usdai(payer)).expect("a payment does not add USDai")
    }

    /// The USDai in `silo_id`'s first-loss pool.
    pub fn pool(&self, silo_id: SiloId) -> Amount {
        self.usdai(ProtocolAccount::SiloPool(silo_id))
    }

    /// The fee collector's USDai.
    pub fn fees(&self) -> Amount {
        self.usdai(ProtocolAccount::FeeCollector)
    }

    /// The loan `loan_id`.
    pub fn loan(&self, loan_id: LoanId) -> Loan {
        self.state.loans.loans.get(&loan_id).cloned().expect("the loan exists")
    }

    /// The silo `silo_id`.
    pub fn silo(&self, silo_id: SiloId) -> Silo {
        self.state.silos.silos.get(&silo_id).cloned().expect("the silo exists")
    }

    /// The senior book.
    pub fn senior(&self) -> SeniorBook {
        self.state.vault.globals.get().senior.clone()
    }

    /// Mints `amount` USDai for `who` from USDC with no slippage limit.
    pub fn mint(&mut self, who: Address, amount: Amount) -> Vec<Event> {
        self.ok(who, Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO }))
    }

    /// Stakes `assets` USDai for `who` with no slippage limit.
    pub fn stake(&mut self, who: Address, assets: Amount) -> Vec<Event> {
        self.ok(who, Action::Stake(Stake { assets, min_shares: Amount::ZERO }))
    }

    /// The oracle posts 1.0 for every default stablecoin (prices go stale after a day).
    pub fn refresh_prices(&mut self) {
        for token in [USDC, USDT] {
            self.ok(ORACLE, Action::PostPrice(PostPrice { token, price_wad: WAD }));
        }
    }

    /// The id of the request made by the last `RedemptionRequested` event in `events`.
    pub fn request_id(events: &[Event]) -> infrafi_core::RequestId {
        events
            .iter()
            .rev()
            .find_map(|event| match event {
                Event::RedemptionRequested { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .expect("a redemption was requested")
    }
}

/// Applies `tx` to `market` and checks it is rejected with `expected` (the same variant and
/// the same stable code) while the state hash stays exactly as it was.
#[track_caller]
pub fn assert_rejected(market: &mut Market, tx: Transaction, expected: TxError) {
    let before = market.state.state_hash();
    let encoded_before = market.state.encode();
    let result = apply(&mut market.state, &market.block, &tx);
    match result {
        Ok(events) => panic!("{tx:?} was accepted ({events:?}); expected {expected}"),
        Err(error) => {
            assert_eq!(error.code(), expected.code(), "{tx:?}: got {error}, expected {expected}");
            assert_eq!(error, expected);
        }
    }
    assert_eq!(market.state.state_hash(), before, "rejected {tx:?} changed the state hash");
    assert!(market.state.encode() == encoded_before, "rejected {tx:?} changed the state");
    invariants::check(&market.state).expect("invariants hold after a rejection");
}

/// 10^18 as an amount: one whole token.
pub const ONE: Amount = Amount(WAD);

/// All supported default stablecoins.
pub const STABLECOINS: [Symbol; 2] = [USDC, USDT];

/// The record of the servicing round in `events`.
pub fn round_record(events: &[Event]) -> infrafi_core::queue::RoundRecord {
    events
        .iter()
        .find_map(|event| match event {
            Event::QueueRoundServiced { record } => Some(record.clone()),
            _ => None,
        })
        .expect("a servicing round ran")
}

/// `a * b / d` rounded down, computed here in 256 bits independently of the crate's `mul_div`.
pub fn floor_mul_div(a: u128, b: u128, d: u128) -> u128 {
    use alloy_primitives::U256;
    u128::try_from(U256::from(a) * U256::from(b) / U256::from(d)).expect("fits")
}

/// `a * b / d` rounded up, computed independently of the crate's `mul_div`.
pub fn ceil_mul_div(a: u128, b: u128, d: u128) -> u128 {
    use alloy_primitives::U256;
    let product = U256::from(a) * U256::from(b);
    let d = U256::from(d);
    u128::try_from((product + d - U256::from(1u8)) / d).expect("fits")
}

/// `a + b`, for expectations.
pub fn plus(a: Amount, b: Amount) -> Amount {
    a.checked_add(b).expect("expected amounts fit")
}

/// `a - b`, for expectations.
pub fn minus(a: Amount, b: Amount) -> Amount {
    a.checked_sub(b).expect("expected amounts do not go negative")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_exactly_one_holder_in_the_fixture() {
        for role in Role::ALL {
            let holders = ROLE_HOLDERS.iter().filter(|(held, _)| *held == role).count();
            assert_eq!(holders, 1, "{role:?} must have one fixture holder");
        }
        assert_eq!(ROLE_HOLDERS.len(), Role::ALL.len());
    }

    #[test]
    fn the_fixture_genesis_is_valid_and_keeps_every_invariant() {
        let market = Market::new();
        assert_eq!(market.now(), GENESIS_TIME);
        assert_eq!(market.stable(ALICE, USDC), whole(USER_STABLECOIN_WHOLE));
    }
}
