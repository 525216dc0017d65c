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
        AcceptLoan, AddAssetClass, AttachPolicy, Claim, DepositFirstLoss, ForecloseLoan,
        IssueReceipt, MintUsdai, OpenSilo, PostPrice, PostValuation, ProposeLoan, RemarkLoans,
        RepayLoan, ReportSale, RequestRedeem, ServiceQueue, SetSiloSeniorCap, Stake, Transfer,
        TriggerDefault,
    },
    apply, begin_block,
    ids::{B256, USDC, USDT},
    invariants,
    loans::{Loan, LoanTerms, SaleReport, TrancheTerms},
    math::Rounding,
    params::Params,
    queue::ROUND_REQUESTS_MAX,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    rental_index::IncomeTerms,
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
/// Attests the presence of receipts' hardware (issue 16).
pub const MONITOR: Address = Address::repeat_byte(0xaf);

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
pub const ROLE_HOLDERS: [(Role, Address); 13] = [
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
    (Role::Monitor, MONITOR),
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

/// The GPU class's income terms of the worked example (docs/valuation.md), set at `now`: 70%
/// utilisation, 40% operating costs, 12% a year, 36 months of life left, an index good for 7
/// days that a day's posts move by at most 25%. At $2.00 an hour a unit's income value is
/// $18,252.13 (`RENT_TWO_DOLLARS`).
pub fn gpu_income_terms(now: u64) -> IncomeTerms {
    IncomeTerms {
        utilisation_bps: Bps(7_000),
        opex_share_bps: Bps(4_000),
        discount_rate_bps_per_year: Bps(1_200),
        economic_life_ends_at: now + 36 * MONTH,
        index_max_age_secs: 7 * DAY,
        index_max_move_bps: Bps(2_500),
    }
}

/// $2.00 a unit-hour: the worked example's rental index.
pub const RENT_TWO_DOLLARS: Amount = Amount(2 * WAD);

/// A unit's income value at [`RENT_TWO_DOLLARS`] under [`gpu_income_terms`] set now.
pub const INCOME_VALUE_PER_UNIT_AT_TWO_DOLLARS: Amount = Amount(18_252_133_832_145_831_272_524);

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

    /// A builder of the default market for a test that states only what differs from it
    /// (parameters, the T-bill rate, who has staked or minted what, the curator's silo).
    pub fn builder() -> MarketBuilder {
        MarketBuilder { genesis: genesis(), holders: Vec::new() }
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
        self.open_silo_with(first_loss, senior_cap, |_| {})
    }

    /// [`Market::open_silo`] with the silo's terms changed by `edit` (they start from the
    /// defaults lending against [`GPU`]).
    pub fn open_silo_with(
        &mut self,
        first_loss: Amount,
        senior_cap: Amount,
        edit: impl FnOnce(&mut SiloTerms),
    ) -> SiloId {
        if !self.state.receipts.classes.contains_key(&GPU) {
            self.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: GPU, terms: gpu_terms() }));
        }
        let silo_id = SiloId(*self.state.silos.next_silo_id.get());
        let mut terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
        edit(&mut terms);
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

    /// A new receipt for `loan.units` GPUs of [`BORROWER`]'s, insured and appraised at
    /// `loan.appraisal`, and a senior-only loan against it ([`senior_loan`]) originated in
    /// `silo_id`. Returns the loan and the receipt.
    pub fn lend(&mut self, silo_id: SiloId, loan: GpuLoan) -> (LoanId, ReceiptId) {
        let receipt_id = self.issue_receipt(BORROWER, loan.units, loan.appraisal);
        let terms = senior_loan(receipt_id, loan.senior, loan.apr_bps, self.now());
        (self.originate(silo_id, terms), receipt_id)
    }

    /// Moves the clock one second past `loan_id`'s next deadline and grace period, and a
    /// keeper defaults the loan.
    pub fn default_after_grace(&mut self, loan_id: LoanId) -> Vec<Event> {
        let loan = self.loan(loan_id);
        let default_at = loan.next_due_at + loan.grace_period_secs + 1;
        self.advance(default_at.checked_sub(self.now()).expect("the loan is not overdue yet"));
        self.ok(KEEPER, Action::TriggerDefault(TriggerDefault { loan_id }))
    }

    /// The curator of the defaulted loan's silo forecloses it to `agent`.
    pub fn foreclose(&mut self, loan_id: LoanId, agent: Address) -> Vec<Event> {
        let curator = self.silo(self.loan(loan_id).silo).curator;
        self.ok(curator, Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent: agent }))
    }

    /// A buyer of foreclosed hardware pays `gross` USDai (minted from its USDC) to `agent`.
    pub fn buyer_pays(&mut self, buyer: Address, agent: Address, gross: Amount) {
        self.refresh_prices();
        self.mint(buyer, gross);
        self.ok(
            buyer,
            Action::Transfer(Transfer { asset: Asset::Usdai, to: agent, amount: gross }),
        );
    }

    /// `agent` reports the sale of `receipt_id`.
    pub fn report_sale(
        &mut self,
        agent: Address,
        receipt_id: ReceiptId,
        report: SaleReport,
    ) -> Vec<Event> {
        self.ok(agent, Action::ReportSale(ReportSale { receipt_id, report }))
    }

    /// A keeper re-marks every open loan.
    pub fn remark_loans(&mut self) -> Vec<Event> {
        self.ok(
            KEEPER,
            Action::RemarkLoans(RemarkLoans { first_loan_id: LoanId(0), max_loans: 100 }),
        )
    }

    /// `who` asks to redeem its whole sUSDai balance; after the notice period a keeper's round
    /// serves the queue and `who` claims. Returns the USDai it was paid.
    pub fn leave(&mut self, who: Address) -> Amount {
        let shares = self.susdai(who);
        let request_id =
            Market::request_id(&self.ok(who, Action::RequestRedeem(RequestRedeem { shares })));
        self.advance(self.state.governance.params.get().notice_period_secs);
        self.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }));
        let before = self.usdai(who);
        self.ok(who, Action::Claim(Claim { request_id }));
        self.usdai(who).checked_sub(before).expect("a claim only pays")
    }

    /// The appraiser values `receipt_id` at `value`, and a keeper re-marks every open loan.
    pub fn revalue_and_remark(&mut self, receipt_id: ReceiptId, value: Amount) -> Vec<Event> {
        self.ok(APPRAISER, Action::PostValuation(PostValuation { receipt_id, value }));
        self.remark_loans()
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

/// A senior-only loan against a new receipt of [`GPU`]s: [`Market::lend`].
#[derive(Clone, Copy, Debug)]
pub struct GpuLoan {
    /// GPUs on the receipt.
    pub units: u32,
    /// What the appraiser values the receipt at, and its insurance cover.
    pub appraisal: Amount,
    /// The senior principal lent.
    pub senior: Amount,
    /// The senior rate, in basis points a year.
    pub apr_bps: u32,
}

/// The report of a sale for `gross` that the fixture class's cost model allows exactly: the
/// 30% ITAD commission (rounded up) and no other cost.
pub fn model_sale(gross: Amount) -> SaleReport {
    let commission_bps = gpu_terms().recovery.itad_commission_bps;
    SaleReport {
        gross_proceeds: gross,
        itad_commission: gross.mul_bps(commission_bps, Rounding::Up).expect("a test's gross fits"),
        ..SaleReport::default()
    }
}

/// Builds the default market step by step: see [`Market::builder`]. Holders mint and stake in
/// the order given, after genesis.
#[must_use]
pub struct MarketBuilder {
    genesis: Genesis,
    /// Who mints how much USDai, and whether it stakes it.
    holders: Vec<(Address, Amount, bool)>,
}

impl MarketBuilder {
    /// Changes the genesis parameters.
    pub fn params(mut self, edit: impl FnOnce(&mut Params)) -> MarketBuilder {
        edit(&mut self.genesis.params);
        self
    }

    /// The reserve's T-bill rate at genesis, in basis points a year.
    pub fn tbill_apr_bps(mut self, apr_bps: u32) -> MarketBuilder {
        self.genesis.tbill_rate = Rate::from_apr_bps(apr_bps);
        self
    }

    /// `who` mints `amount` USDai from its USDC and stakes all of it.
    pub fn staked(mut self, who: Address, amount: Amount) -> MarketBuilder {
        self.holders.push((who, amount, true));
        self
    }

    /// `who` mints `amount` USDai from its USDC and keeps it.
    pub fn holding(mut self, who: Address, amount: Amount) -> MarketBuilder {
        self.holders.push((who, amount, false));
        self
    }

    /// The market, every holder minted and staked.
    pub fn build(self) -> Market {
        let mut market = Market::from_genesis(&self.genesis);
        for (who, amount, stake) in self.holders {
            market.mint(who, amount);
            if stake {
                market.stake(who, amount);
            }
        }
        market
    }

    /// The market with the curator's silo open: [`Market::open_silo`].
    pub fn with_silo(self, first_loss: Amount, senior_cap: Amount) -> (Market, SiloId) {
        self.with_silo_terms(first_loss, senior_cap, |_| {})
    }

    /// The market with the curator's silo open on edited terms: [`Market::open_silo_with`].
    pub fn with_silo_terms(
        self,
        first_loss: Amount,
        senior_cap: Amount,
        edit: impl FnOnce(&mut SiloTerms),
    ) -> (Market, SiloId) {
        let mut market = self.build();
        let silo_id = market.open_silo_with(first_loss, senior_cap, edit);
        (market, silo_id)
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
