//! The shared fixture of the integration tests: a [`Market`] with every role held by its own
//! address and a few users funded with stablecoins, which applies transactions at chosen times
//! and checks the SPEC 14 invariants after every transaction, accepted or rejected; helpers
//! that build real credit (a silo with first-loss capital, insured and appraised receipts,
//! loans proposed and accepted) out of ordinary transactions; [`assert_rejected`], which checks
//! a rejection's code and that the state hash did not move; and the random [`workload`].
//!
//! Each test binary uses a different part of this module, so unused items are expected.
#![allow(dead_code, unreachable_pub)]

use infrafi_core::{
    Account, Action, Address, Amount, Asset, AssetClassId, BlockContext, Bps, Event, Genesis,
    LoanId, ProtocolAccount, Rate, ReceiptId, Role, SiloId, State, Symbol, Transaction, TxError,
    WAD,
    action::{
        AcceptLoan, AddAssetClass, AddStablecoin, AmendReceipt, ApplyGenerationStepDown,
        AssignSuccessorCurator, AttachPolicy, CancelLoanProposal, CancelRedeem, Claim,
        ClaimLoanSurplus, DepositFirstLoss, DonateToVault, ForecloseLoan, Freeze, GatewayConfirm,
        GatewayCredit, GatewayReject, GatewayWithdraw, GrantRole, HarvestBaseYield, IssueReceipt,
        MintShares, MintUsdai, OpenSilo, PayInsuranceClaim, PledgeReceipts, PostPrice,
        PostTbillRate, PostValuation, PrepayLoan, ProposeLoan, RedeemReceipt, RedeemUsdai,
        ReleaseReceipt, RemarkLoans, RenewPolicy, RepayLoan, ReportSale, RequestReceiptRedemption,
        RequestRedeem, RevokeRole, ServiceQueue, SetKyc, SetParameter, SetPause, SetSiloFrozen,
        SetSiloSeniorCap, Stake, Transfer, TransferReceipt, TriggerDefault, Unfreeze,
        WithdrawFirstLoss,
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

/// Genesis time: 2023-11-14T22:13:20Z, any fixed instant works.
pub const GENESIS_TIME: u64 = 1_700_000_000;
/// Seconds in an hour and a day, for readable schedules.
pub const HOUR: u64 = 3_600;
/// Seconds in a day.
pub const DAY: u64 = 86_400;

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
pub const ROLE_HOLDERS: [(Role, Address); 11] = [
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
];

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

    /// The custodian issues a receipt for `units` GPUs to `owner`; the insurer covers it for
    /// `appraisal` for two years and the appraiser values it at `appraisal`.
    pub fn issue_receipt(&mut self, owner: Address, units: u32, appraisal: Amount) -> ReceiptId {
        let receipt_id = ReceiptId(*self.state.receipts.next_receipt_id.get());
        let description = gpu_receipt(units);
        self.ok(CUSTODIAN, Action::IssueReceipt(IssueReceipt { class: GPU, owner, description }));
        self.ok(
            INSURER,
            Action::AttachPolicy(AttachPolicy {
                receipt_id,
                policy_id: B256::repeat_byte(0x70),
                coverage: appraisal,
                expires_at: self.now() + 2 * 365 * DAY,
            }),
        );
        self.ok(APPRAISER, Action::PostValuation(PostValuation { receipt_id, value: appraisal }));
        receipt_id
    }

    /// The silo's curator proposes `terms` and the borrower accepts: the loan is originated.
    pub fn originate(&mut self, silo_id: SiloId, terms: LoanTerms) -> LoanId {
        let loan_id = LoanId(*self.state.loans.next_loan_id.get());
        let borrower = terms.borrower;
        self.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id, terms }));
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
            self.ok(ORACLE, Action::PostPrice(PostPrice { token, price: WAD }));
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

// ---------------------------------------------------------------------------------------------
// Random workloads: after a fixed set-up (stakes, a silo, receipts and two loans), sequences
// of steps from six actors and the credit parties that mix valid and invalid actions of every
// `Action` variant with time advancing. A step is resolved against the current state ("a
// quarter of the sender's USDai", "one of the sender's requests", "a loan whose payment is
// due", "a receipt the borrower could pledge"), deterministically, so the same steps applied
// to the same state give the same transactions.

pub mod workload {
    use super::*;
    use infrafi_core::{
        ParameterChange, RequestId,
        ids::PayoutId,
        loans::{self, LoanStatus, SaleReport},
        params::{DURATION_SECS_MAX, PauseScope},
        receipts::{self, Receipt, ReceiptStatus},
        reserve::PayoutStatus,
    };
    use proptest::prelude::*;

    /// Holds admin, guardian and compliance.
    pub const OPS: Address = Address::repeat_byte(0xc1);
    /// Holds oracle, gateway attestor and KYC registrar.
    pub const FEEDS: Address = Address::repeat_byte(0xc2);
    /// The six actors whose value the properties follow: two role holders (who also hold
    /// money) and four users.
    pub const ACTORS: [Address; 6] = [OPS, FEEDS, ALICE, BOB, CAROL, DAVE];

    /// A second borrower.
    pub const BORROWER_TWO: Address = Address::repeat_byte(0xb1);
    /// A second holder of every credit role (custodian, appraiser, insurer, curator and
    /// liquidation agent), so that acting on another holder's receipt, policy, silo or
    /// liquidation is tried too.
    pub const RIVAL: Address = Address::repeat_byte(0xc3);
    /// The credit parties: the role holders of SPEC 8-10 and two borrowers. They are outside
    /// the actors whose value the properties follow: a borrower's USDai is what it owes, and a
    /// silo's pool is its curator's capital at risk. What they pay into the actors' accounts,
    /// the vault or the fee collector (interest, fees, recoveries) is value from outside; what
    /// the vault lends them stays in NAV as senior principal. Actors never own receipts, so
    /// they never borrow.
    pub const CREDIT_PARTIES: [Address; 8] =
        [CUSTODIAN, APPRAISER, INSURER, CURATOR, LIQUIDATION_AGENT, RIVAL, BORROWER, BORROWER_TWO];
    const BORROWERS: [Address; 2] = [BORROWER, BORROWER_TWO];
    /// Everyone who sends transactions.
    pub const PARTICIPANTS: [Address; 14] = [
        OPS,
        FEEDS,
        ALICE,
        BOB,
        CAROL,
        DAVE,
        CUSTODIAN,
        APPRAISER,
        INSURER,
        CURATOR,
        LIQUIDATION_AGENT,
        RIVAL,
        BORROWER,
        BORROWER_TWO,
    ];
    /// Stablecoins each credit party starts with; the set-up mints USDai from some of it.
    const CREDIT_PARTY_STABLECOIN_WHOLE: u128 = 10_000_000;

    const fn class(name: &str) -> AssetClassId {
        match AssetClassId::new(name) {
            Some(class) => class,
            None => panic!("valid class name"),
        }
    }

    /// Class names: the GPU class of the set-up, two that admin may add, one never registered.
    const CLASSES: [AssetClassId; 4] =
        [GPU, class("gpu.b200"), class("gpu.a100"), class("gpu.mi300x")];

    /// A stablecoin the market does not support at genesis (the admin may add it).
    pub const DAI: Symbol = match Symbol::new("DAI") {
        Some(symbol) => symbol,
        None => panic!("valid symbol"),
    };
    const TOKENS: [Symbol; 3] = [USDC, USDT, DAI];

    /// The workload's genesis: every actor funded with 1,000,000 USDC and USDT, a 4.5% T-bill
    /// rate, small fees so that every fee path runs, the other parameters at their defaults.
    pub fn genesis() -> Genesis {
        let mut genesis = Genesis::with_admin(OPS, GENESIS_TIME);
        genesis.roles = vec![
            (Role::Admin, OPS),
            (Role::Guardian, OPS),
            (Role::Compliance, OPS),
            (Role::Oracle, FEEDS),
            (Role::GatewayAttestor, FEEDS),
            (Role::KycRegistrar, FEEDS),
            (Role::Custodian, CUSTODIAN),
            (Role::Appraiser, APPRAISER),
            (Role::Insurer, INSURER),
            (Role::Curator, CURATOR),
            (Role::LiquidationAgent, LIQUIDATION_AGENT),
        ];
        for role in
            [Role::Custodian, Role::Appraiser, Role::Insurer, Role::Curator, Role::LiquidationAgent]
        {
            genesis.roles.push((role, RIVAL));
        }
        genesis.tbill_rate = Rate::from_apr_bps(450);
        genesis.params.mint_fee_bps = Bps(5);
        genesis.params.redeem_fee_bps = Bps(5);
        genesis.params.yield_fee_bps = Bps(1_000);
        // Prices stay fresh for 30 days: the oracle posts one token's price about one step in
        // thirty and steps are a day apart on average, so with the default (one day) nearly
        // every mint would be stale. Staleness still happens, through parameter changes.
        genesis.params.max_price_age_secs = 30 * DAY;
        // Loans deploy the vault's USDai down to the default 5% buffer (and at most the default
        // 90% of NAV), so rounds are often short of liquidity and partial fills happen. Silos
        // need 5% first-loss capital (not 10%): the same pool backs twice the senior exposure
        // and absorbs less of it, so losses reach the vault and share prices fall below 1.
        genesis.params.min_first_loss_bps = Bps(500);
        for actor in ACTORS {
            for token in [USDC, USDT] {
                genesis.stablecoin_balances.push((actor, token, whole(USER_STABLECOIN_WHOLE)));
            }
        }
        for party in CREDIT_PARTIES {
            let amount = whole(CREDIT_PARTY_STABLECOIN_WHOLE);
            genesis.stablecoin_balances.push((party, USDC, amount));
        }
        genesis
    }

    /// The workload's GPU class: $30,000 new, 20% a year straight-line depreciation to a 10%
    /// floor, the default 30% ITAD commission, a 10% condition haircut and $350 of fixed
    /// liquidation costs a unit; so time alone erodes collateral and opens margin calls.
    pub fn gpu_class_terms() -> AssetClassTerms {
        AssetClassTerms {
            new_price_per_unit: whole(30_000),
            annual_depreciation_bps: Bps(2_000),
            floor_bps: Bps(1_000),
            recovery: RecoveryCostModel {
                itad_commission_bps: Bps(3_000),
                legal_cost_per_unit: whole(100),
                logistics_cost_per_unit: whole(200),
                data_destruction_cost_per_unit: whole(50),
                condition_haircut_bps: Bps(1_000),
            },
        }
    }

    /// What runs before the steps: every actor mints 200,000 USDai and stakes 100,000 of it
    /// (so the vault has capital to lend from the first step), the credit parties mint the
    /// USDai their roles need, admin registers the GPU class, the curator opens silo 0 (GPUs,
    /// default terms) with 100,000 of first-loss capital, admin caps its senior exposure at
    /// 5,000,000, and each borrower gets three receipts (10, 20 and 40 GPUs), insured for two years
    /// for 120% of their new price and appraised at 90% of it.
    pub fn setup() -> Vec<Transaction> {
        let mint = |sender: Address, whole_tokens: u128| Transaction {
            sender,
            action: Action::MintUsdai(MintUsdai {
                token: USDC,
                amount: whole(whole_tokens),
                min_out: Amount::ZERO,
            }),
        };
        let mut setup = Vec::new();
        for actor in ACTORS {
            setup.push(mint(actor, 200_000));
            setup.push(Transaction {
                sender: actor,
                action: Action::Stake(Stake { assets: whole(100_000), min_shares: Amount::ZERO }),
            });
        }
        // Only what their roles need: every USDai in existence earns T-bill yield for the vault
        // through harvests, and millions held outside would lift the share price far above
        // any loss the credit book can cause.
        let needs = [
            (CURATOR, 1_000_000),
            (RIVAL, 500_000),
            (LIQUIDATION_AGENT, 2_000_000),
            (INSURER, 1_000_000),
            (BORROWER, 1_000_000),
            (BORROWER_TWO, 1_000_000),
        ];
        setup.extend(needs.into_iter().map(|(party, whole_tokens)| mint(party, whole_tokens)));
        let terms = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
        let silo_id = SiloId(0);
        setup.extend([
            Transaction {
                sender: OPS,
                action: Action::AddAssetClass(AddAssetClass {
                    class: GPU,
                    terms: gpu_class_terms(),
                }),
            },
            Transaction { sender: CURATOR, action: Action::OpenSilo(OpenSilo { terms }) },
            Transaction {
                sender: CURATOR,
                action: Action::DepositFirstLoss(DepositFirstLoss {
                    silo_id,
                    amount: whole(100_000),
                }),
            },
            Transaction {
                sender: OPS,
                action: Action::SetSiloSeniorCap(SetSiloSeniorCap {
                    silo_id,
                    cap: whole(5_000_000),
                }),
            },
        ]);
        let owners = [BORROWER, BORROWER, BORROWER, BORROWER_TWO, BORROWER_TWO, BORROWER_TWO];
        let units = [10, 20, 40, 10, 20, 40];
        for (index, (owner, units)) in owners.into_iter().zip(units).enumerate() {
            let receipt_id = ReceiptId(index as u64);
            let new_value = whole(30_000 * u128::from(units));
            let description = gpu_receipt(units);
            setup.extend([
                Transaction {
                    sender: CUSTODIAN,
                    action: Action::IssueReceipt(IssueReceipt { class: GPU, owner, description }),
                },
                Transaction {
                    sender: INSURER,
                    action: Action::AttachPolicy(AttachPolicy {
                        receipt_id,
                        policy_id: B256::repeat_byte(0x90),
                        coverage: bps_of(new_value, 12_000),
                        expires_at: GENESIS_TIME + 730 * DAY,
                    }),
                },
                Transaction {
                    sender: APPRAISER,
                    action: Action::PostValuation(PostValuation {
                        receipt_id,
                        value: bps_of(new_value, 9_000),
                    }),
                },
            ]);
        }
        // The book starts with a loan to each borrower against its 40-GPU receipt (appraised
        // at 1,080,000): 250,000 senior, and 200,000 senior with 20,000 junior; 12 monthly
        // payments. That deploys 450,000 of the vault's 600,000.
        for (loan, (receipt, borrower, senior, junior)) in
            [(2, BORROWER, 250_000, 0), (5, BORROWER_TWO, 200_000, 20_000)].into_iter().enumerate()
        {
            let terms = Terms {
                within_room: true,
                senior_bps: 10_000,
                junior_bps: 0,
                fixed_principal: loan == 0,
                periods: 12,
                interval: 1,
            };
            let mut terms =
                loan_terms_at(GENESIS_TIME, whole(senior), borrower, ReceiptId(receipt), terms);
            terms.junior.amount = whole(junior);
            setup.extend([
                Transaction {
                    sender: CURATOR,
                    action: Action::ProposeLoan(ProposeLoan { silo_id, terms }),
                },
                Transaction {
                    sender: borrower,
                    action: Action::AcceptLoan(AcceptLoan { loan_id: LoanId(loan as u64) }),
                },
            ]);
        }
        setup
    }

    /// The workload's state after genesis and the set-up (every transaction accepted, the
    /// invariants checked after each), the block the steps start from, and the set-up's events.
    pub fn start() -> (State, BlockContext, Vec<Event>) {
        let genesis = genesis();
        let mut state = State::from_genesis(&genesis).expect("valid genesis");
        let block = BlockContext { height: 0, timestamp: genesis.timestamp };
        let mut events = Vec::new();
        for tx in setup() {
            match apply(&mut state, &block, &tx) {
                Ok(more) => events.extend(more),
                Err(error) => panic!("set-up {tx:?} was rejected: {error}"),
            }
            invariants::check(&state).expect("invariants hold during the set-up");
        }
        (state, block, events)
    }

    /// How much: resolved against a reference balance when the step runs.
    #[derive(Clone, Copy, Debug)]
    pub enum Size {
        /// Nothing (always rejected).
        Zero,
        /// A few base units (dust, rounding edges).
        Units(u64),
        /// Whole tokens.
        Whole(u32),
        /// This many basis points of the reference balance (at least 1 unit).
        Fraction(u16),
        /// One unit more than the reference balance.
        AllPlusOne,
        /// `u128::MAX` units.
        Max,
    }

    impl Size {
        fn resolve(self, reference: Amount) -> Amount {
            match self {
                Size::Zero => Amount::ZERO,
                Size::Units(units) => Amount(u128::from(units)),
                Size::Whole(count) => whole(u128::from(count)),
                Size::Fraction(bps) => Amount((reference.0 / 10_000 * u128::from(bps)).max(1)),
                Size::AllPlusOne => Amount(reference.0.saturating_add(1)),
                Size::Max => Amount::MAX,
            }
        }
    }

    /// A slippage limit relative to the step's input amount.
    #[derive(Clone, Copy, Debug)]
    pub enum Limit {
        /// No limit (0 minimum, maximum `u128::MAX`).
        None,
        /// Exactly the input (passes only at a price of exactly 1 and no fee).
        Exact,
        /// 2% worse than the input.
        Loose,
        /// Impossible (maximum minimum, zero maximum).
        Impossible,
    }

    impl Limit {
        fn minimum(self, input: Amount) -> Amount {
            match self {
                Limit::None => Amount::ZERO,
                Limit::Exact => input,
                Limit::Loose => Amount(input.0 / 100 * 98),
                Limit::Impossible => Amount::MAX,
            }
        }

        fn maximum(self, input: Amount) -> Amount {
            match self {
                Limit::None => Amount::MAX,
                Limit::Exact => input,
                Limit::Loose => Amount((input.0 / 100).saturating_mul(102)),
                Limit::Impossible => Amount::ZERO,
            }
        }
    }

    /// One action, with its arguments still to be resolved against the state.
    #[derive(Clone, Debug)]
    #[allow(missing_docs)]
    pub enum Op {
        Transfer { asset: u8, to: u8, amount: Size },
        GrantRole { role: u8, account: u8 },
        RevokeRole { role: u8, account: u8 },
        SetParameter { which: u8, value: u64 },
        AddStablecoin { token: u8 },
        SetPause { scope: u8, paused: bool },
        Freeze { account: u8 },
        Unfreeze { account: u8 },
        SetKyc { account: u8, verified: bool },
        PostPrice { token: u8, price_bps: u16 },
        PostTbillRate { apr_bps: u16 },
        GatewayCredit { account: u8, token: u8, amount: Size, external_id: u8 },
        GatewayWithdraw { token: u8, amount: Size, destination_is_valid: bool },
        GatewayConfirm { payout: u8, external_id: u8 },
        GatewayReject { payout: u8, reason_is_valid: bool },
        MintUsdai { token: u8, amount: Size, min_out: Limit },
        RedeemUsdai { token: u8, amount: Size, min_out: Limit },
        HarvestBaseYield,
        Stake { assets: Size, min_shares: Limit },
        MintShares { shares: Size, max_assets: Limit },
        DonateToVault { amount: Size },
        RequestRedeem { shares: Size },
        CancelRedeem { request: u8 },
        ServiceQueue { max_requests: u32 },
        Claim { request: u8 },
        // Receipts (SPEC 8).
        AddAssetClass { class: u8, valid: bool },
        ApplyGenerationStepDown { class: u8, step_down_bps: u16 },
        IssueReceipt { class: u8, owner: u8, units: u32, text_is_valid: bool },
        AmendReceipt { receipt: u8, units: Option<u32>, text_is_valid: bool },
        ReleaseReceipt { receipt: u8 },
        TransferReceipt { receipt: u8, to: u8 },
        RequestReceiptRedemption { receipt: u8 },
        RedeemReceipt { receipt: u8 },
        AttachPolicy { receipt: u8, coverage_bps: u16, term: u8 },
        RenewPolicy { receipt: u8, coverage_bps: u16, term: u8 },
        PostValuation { receipt: u8, value_bps: u16 },
        // Silos (SPEC 10).
        OpenSilo { classes: u8, narrow: bool, curator_fee: bool, valid: bool },
        DepositFirstLoss { silo: u8, amount: Size },
        WithdrawFirstLoss { silo: u8, amount: Size },
        SetSiloSeniorCap { silo: u8, cap_bps: u16 },
        SetSiloFrozen { silo: u8, change: u8 },
        AssignSuccessorCurator { silo: u8, successor: u8 },
        // Loans (SPEC 9).
        ProposeLoan { silo: u8, borrower: u8, receipt: u8, terms: Terms },
        CancelLoanProposal { loan: u8, by_curator: bool },
        AcceptLoan { loan: u8 },
        RepayLoan { loan: u8, max_amount: Limit },
        PrepayLoan { loan: u8, principal: Size, max_amount: Limit },
        PledgeReceipts { loan: u8, receipt: u8, twice: bool },
        RemarkLoans { first: u8, max_loans: u32 },
        TriggerDefault { loan: u8 },
        ForecloseLoan { loan: u8, agent: u8 },
        ReportSale { receipt: u8, gross_bps: u16, costs_bps: u16 },
        PayInsuranceClaim { receipt: u8, amount_bps: u16 },
        ClaimLoanSurplus { loan: u8 },
    }

    impl Op {
        /// Whether the op is a credit action (SPEC 8-10).
        pub fn is_credit(&self) -> bool {
            matches!(
                self,
                Op::AddAssetClass { .. }
                    | Op::ApplyGenerationStepDown { .. }
                    | Op::IssueReceipt { .. }
                    | Op::AmendReceipt { .. }
                    | Op::ReleaseReceipt { .. }
                    | Op::TransferReceipt { .. }
                    | Op::RequestReceiptRedemption { .. }
                    | Op::RedeemReceipt { .. }
                    | Op::AttachPolicy { .. }
                    | Op::RenewPolicy { .. }
                    | Op::PostValuation { .. }
                    | Op::OpenSilo { .. }
                    | Op::DepositFirstLoss { .. }
                    | Op::WithdrawFirstLoss { .. }
                    | Op::SetSiloSeniorCap { .. }
                    | Op::SetSiloFrozen { .. }
                    | Op::AssignSuccessorCurator { .. }
                    | Op::ProposeLoan { .. }
                    | Op::CancelLoanProposal { .. }
                    | Op::AcceptLoan { .. }
                    | Op::RepayLoan { .. }
                    | Op::PrepayLoan { .. }
                    | Op::PledgeReceipts { .. }
                    | Op::RemarkLoans { .. }
                    | Op::TriggerDefault { .. }
                    | Op::ForecloseLoan { .. }
                    | Op::ReportSale { .. }
                    | Op::PayInsuranceClaim { .. }
                    | Op::ClaimLoanSurplus { .. }
            )
        }
    }

    /// How a proposal is sized and shaped, resolved against the receipt's value and the
    /// vault's room when the step runs.
    #[derive(Clone, Copy, Debug)]
    pub struct Terms {
        /// Size the senior tranche within what the vault and the silo's LTV allow (otherwise
        /// against the whole collateral value).
        pub within_room: bool,
        /// Senior principal, in basis points of that base.
        pub senior_bps: u16,
        /// Junior principal, in basis points of the collateral value.
        pub junior_bps: u16,
        /// Fixed principal or amortized.
        pub fixed_principal: bool,
        /// Payments (0 makes the terms invalid).
        pub periods: u32,
        /// Index of the interval (14 or 30 days) and, divided by 3, of the time to accept
        /// (a day, 60 or 90 days).
        pub interval: u8,
    }

    /// One step: time moves by `advance_secs` (a new block if it moves), optionally the block
    /// upkeep runs on its own first, then the sender sends `op`.
    #[derive(Clone, Debug)]
    pub struct Step {
        /// Seconds since the previous step's block.
        pub advance_secs: u64,
        /// Run `begin_block` before the transaction (so time effects and the action's effects
        /// can be told apart).
        pub upkeep_first: bool,
        /// Who sends: an index into `ACTORS` for the ledger, governance, reserve, vault and
        /// queue actions; for credit actions, the party the action calls for (the receipt's
        /// custodian or owner, the silo's curator, the loan's borrower or agent...) except when
        /// `sender % 8 == 7`: then `PARTICIPANTS[sender / 8]`, usually the wrong party.
        pub sender: u8,
        /// What it does.
        pub op: Op,
    }

    fn actor(index: u8) -> Address {
        ACTORS[usize::from(index) % ACTORS.len()]
    }

    fn participant(index: u8) -> Address {
        PARTICIPANTS[usize::from(index) % PARTICIPANTS.len()]
    }

    fn token(index: u8) -> Symbol {
        TOKENS[usize::from(index) % TOKENS.len()]
    }

    fn role(index: u8) -> Role {
        Role::ALL[usize::from(index) % Role::ALL.len()]
    }

    /// A parameter change, valid or out of range, chosen by `which` and `value`.
    pub fn parameter_change(which: u8, value: u64) -> ParameterChange {
        use ParameterChange as C;
        let bps = Bps((value % 12_000) as u32);
        let small_bps = Bps((value % 120) as u32);
        // Mostly ordinary durations; now and then the edges (0, 1 s, out of range).
        let durations =
            [HOUR, DAY, DAY, 2 * DAY, 7 * DAY, 7 * DAY, 30 * DAY, 0, 1, DURATION_SECS_MAX + 1];
        let duration = durations[(value % durations.len() as u64) as usize];
        // Credit durations are weeks to months (a valuation age of an hour would make every
        // receipt ineligible for good); now and then the edges.
        let credit_durations = [7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 180 * DAY, HOUR, 0];
        let credit_duration = credit_durations[(value % credit_durations.len() as u64) as usize];
        let caps = [10_000_000, 100_000_000, 1_000_000_000, 1_000_000, 0];
        match which % 30 {
            0 => C::MintFeeBps(small_bps),
            1 => C::RedeemFeeBps(small_bps),
            2 => C::DepegToleranceBps(small_bps),
            3 => C::MaxPriceAgeSecs(duration),
            4 => C::UsdaiSupplyCap(whole(caps[(value % caps.len() as u64) as usize])),
            5 => C::KycRequired(value.is_multiple_of(3)),
            6 => C::YieldFeeBps(bps),
            7 => C::YieldVestingSecs(duration),
            8 => C::MaxTbillAprBps(bps),
            9 => C::PerformanceFeeBps(bps),
            10 => C::LiquidityBufferBps(bps),
            11 => C::MaxDeployedBps(bps),
            12 => C::MinRedeemShares(Amount(u128::from(value % 3) * WAD / 2)),
            13 => C::MaxActiveRequests((value % 8) as u32),
            14 => C::NoticePeriodSecs(duration),
            15 => C::RoundIntervalSecs(duration),
            16 => C::RevealWindowSecs(duration),
            17 => C::UnrevealedPenaltyBps(bps),
            18 => C::QevProtocolCutBps(bps),
            19 => C::FeeVestingSecs(duration),
            20 => C::UsdaiPointsMultiplier((value % 1_200) as u32),
            21 => C::SusdaiPointsMultiplier((value % 1_200) as u32),
            22 => C::GovernanceDelaySecs(duration),
            // Credit: insurance coverage from none to 11x the value (above 10x is out of range),
            // periods from 0 (out of range) to 699 (above 600 is out).
            23 => {
                let coverage = [0, 5_000, 10_000, 10_000, 15_000, 30_000, 110_000];
                C::MinInsuranceCoverageBps(Bps(coverage[(value % 7) as usize]))
            }
            24 => C::MaxValuationAgeSecs(credit_duration),
            25 => C::CurePeriodSecs(credit_duration),
            26 => C::MinFirstLossBps(bps),
            27 => C::DefaultLoanPeriods((value % 700) as u32),
            28 => C::DefaultRepaymentIntervalSecs(credit_duration),
            _ => C::LiquidationFeeBps(small_bps),
        }
    }

    /// A request id: usually one of the sender's own, sometimes anyone's, sometimes unknown.
    fn request_id(state: &State, sender: Address, pick: u8) -> RequestId {
        let requests = &state.queue.requests;
        let own: Vec<RequestId> =
            requests.iter().filter(|(_, r)| r.owner == sender).map(|(id, _)| *id).collect();
        let all: Vec<RequestId> = requests.iter().map(|(id, _)| *id).collect();
        let from = |ids: &[RequestId]| ids.get(usize::from(pick) % ids.len().max(1)).copied();
        let chosen = match pick % 8 {
            0..=4 => from(&own),
            5 | 6 => from(&all),
            _ => None,
        };
        chosen.unwrap_or(RequestId(u64::from(pick) + 1_000))
    }

    /// A payout id: usually a pending one, sometimes any, sometimes unknown.
    fn payout_id(state: &State, pick: u8) -> PayoutId {
        let payouts = &state.reserve.payouts;
        let pending: Vec<PayoutId> = payouts
            .iter()
            .filter(|(_, p)| p.status == PayoutStatus::Pending)
            .map(|(id, _)| *id)
            .collect();
        let all: Vec<PayoutId> = payouts.iter().map(|(id, _)| *id).collect();
        let from = |ids: &[PayoutId]| ids.get(usize::from(pick) % ids.len().max(1)).copied();
        let chosen = match pick % 8 {
            0..=4 => from(&pending),
            5 | 6 => from(&all),
            _ => None,
        };
        chosen.unwrap_or(PayoutId(u64::from(pick) + 1_000))
    }

    impl Step {
        /// The sender's address.
        pub fn sender(&self) -> Address {
            actor(self.sender)
        }

        /// The transaction this step sends in `state`.
        pub fn transaction(&self, state: &State) -> Transaction {
            if let Some(tx) = self.credit_transaction(state) {
                return tx;
            }
            let sender = self.sender();
            let balance = |asset: Asset| state.ledger.balance(sender, asset);
            let action = match self.op {
                Op::Transfer { asset, to, amount } => {
                    let asset = match asset % 5 {
                        0 => Asset::Usdai,
                        1 => Asset::Susdai,
                        2 => Asset::Stablecoin(USDC),
                        3 => Asset::Tbill,
                        _ => Asset::Stablecoin(DAI),
                    };
                    Action::Transfer(Transfer {
                        asset,
                        to: actor(to),
                        amount: amount.resolve(balance(asset)),
                    })
                }
                Op::GrantRole { role: r, account } => {
                    Action::GrantRole(GrantRole { role: role(r), account: actor(account) })
                }
                Op::RevokeRole { role: r, account } => {
                    // A quarter of the time a role the account holds (so revocations happen).
                    let account = actor(account);
                    let held: Vec<Role> = Role::ALL
                        .iter()
                        .copied()
                        .filter(|&role| state.governance.has_role(role, account))
                        .collect();
                    let role = match chosen(&held, r / 4) {
                        Some(role) if r % 4 == 0 => role,
                        _ => role(r),
                    };
                    Action::RevokeRole(RevokeRole { role, account })
                }
                Op::SetParameter { which, value } => {
                    Action::SetParameter(SetParameter { change: parameter_change(which, value) })
                }
                Op::AddStablecoin { token: t } => {
                    Action::AddStablecoin(AddStablecoin { token: token(t) })
                }
                Op::SetPause { scope, paused } => {
                    let scope = match scope % 3 {
                        0 => PauseScope::Minting,
                        1 => PauseScope::Staking,
                        _ => PauseScope::Borrowing,
                    };
                    Action::SetPause(SetPause { scope, paused })
                }
                // A frozen borrower cannot pay, and the waterfall holds its liquidation
                // surplus until it is unfrozen: half of the freezes hit a borrower, one with a
                // loan in default if there is one.
                Op::Freeze { account } if account % 2 == 0 => {
                    let defaulted: Vec<Address> = state
                        .loans
                        .loans
                        .iter()
                        .filter(|(_, l)| l.status == LoanStatus::Defaulted)
                        .map(|(_, l)| l.borrower)
                        .collect();
                    let borrower = chosen(&defaulted, account / 4)
                        .unwrap_or(BORROWERS[usize::from(account / 4) % 2]);
                    Action::Freeze(Freeze { account: borrower })
                }
                Op::Freeze { account } => Action::Freeze(Freeze { account: participant(account) }),
                Op::Unfreeze { account } => {
                    // Usually a frozen account, but a frozen borrower mostly once a liquidation
                    // surplus is held for it: until then it stays frozen, cannot pay, and its
                    // loans go to liquidation.
                    let holding: Vec<Address> = state
                        .loans
                        .loans
                        .iter()
                        .filter(|(_, l)| !l.surplus_held.is_zero())
                        .map(|(_, l)| l.borrower)
                        .collect();
                    let frozen = |who: &Address| state.ledger.is_frozen(*who);
                    let holders: Vec<Address> = holding.iter().copied().filter(frozen).collect();
                    let frozen: Vec<Address> = if holders.is_empty() {
                        PARTICIPANTS
                            .iter()
                            .copied()
                            .filter(|who| frozen(who) && !BORROWERS.contains(who))
                            .collect()
                    } else {
                        holders
                    };
                    let account = match chosen(&frozen, account) {
                        Some(who) if account % 4 != 0 => who,
                        _ => participant(account),
                    };
                    Action::Unfreeze(Unfreeze { account })
                }
                Op::SetKyc { account, verified } => {
                    Action::SetKyc(SetKyc { account: actor(account), verified })
                }
                Op::PostPrice { token: t, price_bps } => Action::PostPrice(PostPrice {
                    token: token(t),
                    price: WAD / 10_000 * u128::from(price_bps),
                }),
                Op::PostTbillRate { apr_bps } => Action::PostTbillRate(PostTbillRate {
                    rate: Rate::from_apr_bps(u32::from(apr_bps)),
                }),
                Op::GatewayCredit { account, token: t, amount, external_id } => {
                    Action::GatewayCredit(GatewayCredit {
                        account: actor(account),
                        token: token(t),
                        amount: amount.resolve(whole(100_000)),
                        external_id: B256::repeat_byte(external_id % 32),
                    })
                }
                Op::GatewayWithdraw { token: t, amount, destination_is_valid } => {
                    Action::GatewayWithdraw(GatewayWithdraw {
                        token: token(t),
                        amount: amount.resolve(balance(Asset::Stablecoin(token(t)))),
                        destination: if destination_is_valid { "0xdest".into() } else { "".into() },
                    })
                }
                Op::GatewayConfirm { payout, external_id } => {
                    Action::GatewayConfirm(GatewayConfirm {
                        payout_id: payout_id(state, payout),
                        external_id: B256::repeat_byte(external_id % 32),
                    })
                }
                Op::GatewayReject { payout, reason_is_valid } => {
                    Action::GatewayReject(GatewayReject {
                        payout_id: payout_id(state, payout),
                        reason: if reason_is_valid { "refused".into() } else { "\n".into() },
                    })
                }
                Op::MintUsdai { token: t, amount, min_out } => {
                    let amount = amount.resolve(balance(Asset::Stablecoin(token(t))));
                    Action::MintUsdai(MintUsdai {
                        token: token(t),
                        amount,
                        min_out: min_out.minimum(amount),
                    })
                }
                Op::RedeemUsdai { token: t, amount, min_out } => {
                    let amount = amount.resolve(balance(Asset::Usdai));
                    Action::RedeemUsdai(RedeemUsdai {
                        token: token(t),
                        amount,
                        min_out: min_out.minimum(amount),
                    })
                }
                Op::HarvestBaseYield => Action::HarvestBaseYield(HarvestBaseYield {}),
                Op::Stake { assets, min_shares } => {
                    let assets = assets.resolve(balance(Asset::Usdai));
                    Action::Stake(Stake { assets, min_shares: min_shares.minimum(assets) })
                }
                Op::MintShares { shares, max_assets } => {
                    let shares = shares.resolve(balance(Asset::Usdai));
                    Action::MintShares(MintShares {
                        shares,
                        max_assets: max_assets.maximum(shares),
                    })
                }
                Op::DonateToVault { amount } => Action::DonateToVault(DonateToVault {
                    amount: amount.resolve(balance(Asset::Usdai)),
                }),
                Op::RequestRedeem { shares } => Action::RequestRedeem(RequestRedeem {
                    shares: shares.resolve(balance(Asset::Susdai)),
                }),
                Op::CancelRedeem { request } => Action::CancelRedeem(CancelRedeem {
                    request_id: request_id(state, sender, request),
                }),
                Op::ServiceQueue { max_requests } => {
                    Action::ServiceQueue(ServiceQueue { max_requests })
                }
                Op::Claim { request } => {
                    Action::Claim(Claim { request_id: request_id(state, sender, request) })
                }
                _ => unreachable!("credit ops are resolved by `credit_transaction`"),
            };
            Transaction { sender, action }
        }

        /// The party a credit action calls for, or another participant now and then.
        fn party(&self, proper: Address) -> Address {
            if self.sender % 8 == 7 { participant(self.sender / 8) } else { proper }
        }

        /// The transaction of a credit op in `state`; `None` for the other ops.
        fn credit_transaction(&self, state: &State) -> Option<Transaction> {
            let now = state.now();
            let (proper, action) = match self.op {
                Op::AddAssetClass { class, valid } => {
                    // The GPU class exists from the set-up; the two others can be added once.
                    let mut terms = gpu_class_terms();
                    if !valid {
                        terms.new_price_per_unit = Amount::ZERO;
                    }
                    let class = CLASSES[usize::from(class) % 3];
                    (OPS, Action::AddAssetClass(AddAssetClass { class, terms }))
                }
                Op::ApplyGenerationStepDown { class, step_down_bps } => {
                    let class = CLASSES[usize::from(class) % CLASSES.len()];
                    let step_down_bps = Bps(u32::from(step_down_bps));
                    (
                        OPS,
                        Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
                            class,
                            step_down_bps,
                        }),
                    )
                }
                Op::IssueReceipt { class, owner, units, text_is_valid } => {
                    let mut description = gpu_receipt(units);
                    if !text_is_valid {
                        description.facility = String::new();
                    }
                    let class = CLASSES[usize::from(class) % CLASSES.len()];
                    let owner = BORROWERS[usize::from(owner) % BORROWERS.len()];
                    (CUSTODIAN, Action::IssueReceipt(IssueReceipt { class, owner, description }))
                }
                Op::AmendReceipt { receipt, units, text_is_valid } => {
                    let receipt_id = receipt_id(state, receipt, |r| !is_closed(r));
                    let found = state.receipts.receipts.get(&receipt_id);
                    let quantity = found.map_or(1, |r| r.description.quantity);
                    let mut description = gpu_receipt(units.unwrap_or(quantity));
                    description.jurisdiction = "US-TX".into();
                    if !text_is_valid {
                        description.jurisdiction = "\n".into();
                    }
                    let custodian = found.map_or(CUSTODIAN, |r| r.custodian);
                    (custodian, Action::AmendReceipt(AmendReceipt { receipt_id, description }))
                }
                Op::ReleaseReceipt { receipt } => {
                    let receipt_id =
                        receipt_id(state, receipt, |r| r.status == ReceiptStatus::Issued);
                    (
                        custodian_of(state, receipt_id),
                        Action::ReleaseReceipt(ReleaseReceipt { receipt_id }),
                    )
                }
                Op::TransferReceipt { receipt, to } => {
                    let receipt_id = receipt_id(state, receipt, |r| {
                        r.status.is_free() && !r.redemption_requested
                    });
                    let to = BORROWERS[usize::from(to) % BORROWERS.len()];
                    (
                        owner_of(state, receipt_id),
                        Action::TransferReceipt(TransferReceipt { receipt_id, to }),
                    )
                }
                Op::RequestReceiptRedemption { receipt } => {
                    let receipt_id = receipt_id(state, receipt, |r| {
                        r.status == ReceiptStatus::Released && !r.redemption_requested
                    });
                    let owner = owner_of(state, receipt_id);
                    (
                        owner,
                        Action::RequestReceiptRedemption(RequestReceiptRedemption { receipt_id }),
                    )
                }
                Op::RedeemReceipt { receipt } => {
                    let receipt_id = receipt_id(state, receipt, |r| {
                        r.status == ReceiptStatus::Released && r.redemption_requested
                    });
                    (
                        custodian_of(state, receipt_id),
                        Action::RedeemReceipt(RedeemReceipt { receipt_id }),
                    )
                }
                Op::AttachPolicy { receipt, coverage_bps, term } => {
                    let receipt_id = receipt_id(state, receipt, |r| {
                        !is_closed(r) && r.policy.as_ref().is_none_or(|p| p.expires_at <= now)
                    });
                    let coverage = bps_of(reference_value(state, receipt_id), coverage_bps);
                    let action = Action::AttachPolicy(AttachPolicy {
                        receipt_id,
                        policy_id: B256::repeat_byte(0x90),
                        coverage,
                        expires_at: now + policy_term(term),
                    });
                    (INSURER, action)
                }
                Op::RenewPolicy { receipt, coverage_bps, term } => {
                    let receipt_id =
                        receipt_id(state, receipt, |r| !is_closed(r) && r.policy.is_some());
                    let policy =
                        state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone());
                    let insurer = policy.as_ref().map_or(INSURER, |p| p.insurer);
                    let expiry = policy.as_ref().map_or(now, |p| p.expires_at.max(now));
                    let coverage = bps_of(reference_value(state, receipt_id), coverage_bps);
                    let expires_at = expiry + policy_term(term);
                    (insurer, Action::RenewPolicy(RenewPolicy { receipt_id, coverage, expires_at }))
                }
                Op::PostValuation { receipt, value_bps } => {
                    // A fall in value usually hits collateral; other appraisals usually value
                    // a receipt whose valuation is missing or more than 60 days old.
                    let receipt_id = if value_bps < 8_500 {
                        receipt_id(state, receipt, |r| r.status == ReceiptStatus::Pledged)
                    } else {
                        receipt_id(state, receipt, |r| {
                            !is_closed(r)
                                && r.valuation.as_ref().is_none_or(|v| v.at + 60 * DAY < now)
                        })
                    };
                    let value = bps_of(reference_value(state, receipt_id), value_bps);
                    (APPRAISER, Action::PostValuation(PostValuation { receipt_id, value }))
                }
                Op::OpenSilo { classes, narrow, curator_fee, valid } => {
                    let mut eligible_classes = match classes % 3 {
                        0 => vec![GPU],
                        1 => vec![GPU, CLASSES[2]],
                        _ => vec![CLASSES[1]],
                    };
                    eligible_classes.sort();
                    let mut terms = SiloTerms { eligible_classes, ..SiloTerms::default() };
                    if narrow {
                        terms.max_borrower_share_bps = Bps(2_000);
                    }
                    if curator_fee {
                        terms.curator_fee_bps = Bps(1_000);
                    }
                    if !valid {
                        terms.max_initial_ltv_bps = Bps(9_000);
                    }
                    (CURATOR, Action::OpenSilo(OpenSilo { terms }))
                }
                Op::DepositFirstLoss { silo, amount } => {
                    let silo_id = silo_id(state, silo);
                    let curator = curator_of(state, silo_id);
                    let held = state.ledger.balance(curator, Asset::Usdai);
                    let amount = match amount {
                        Size::AllPlusOne => Amount(held.0.saturating_add(1)),
                        size => size.resolve(whole(50_000)),
                    };
                    (curator, Action::DepositFirstLoss(DepositFirstLoss { silo_id, amount }))
                }
                Op::WithdrawFirstLoss { silo, amount } => {
                    let silo_id = silo_id(state, silo);
                    // Against a quarter of the pool (all of it and more with `AllPlusOne`): a
                    // curator that empties its pool stops its silo from lending.
                    let pool =
                        state.silos.silos.get(&silo_id).map_or(Amount::ZERO, |s| s.pool_balance);
                    let amount = match amount {
                        Size::AllPlusOne => Amount(pool.0.saturating_add(1)),
                        size => size.resolve(Amount(pool.0 / 4)),
                    };
                    (
                        curator_of(state, silo_id),
                        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id, amount }),
                    )
                }
                Op::SetSiloSeniorCap { silo, cap_bps } => {
                    let silo_id = silo_id(state, silo);
                    let cap = bps_of(whole(10_000_000), cap_bps);
                    (OPS, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id, cap }))
                }
                Op::SetSiloFrozen { silo, change } => {
                    // A frozen silo is usually unfrozen; an active one is frozen only now and
                    // then (otherwise the request changes nothing and is rejected), so silos
                    // spend most of their time lending.
                    let silo_id = silo_id(state, silo);
                    let frozen = change % 5 == 0;
                    (OPS, Action::SetSiloFrozen(SetSiloFrozen { silo_id, frozen }))
                }
                Op::AssignSuccessorCurator { silo, successor } => {
                    let curator = [CURATOR, RIVAL, BORROWER][usize::from(successor) % 3];
                    // Usually a frozen silo, if there is one.
                    let frozen: Vec<SiloId> = state
                        .silos
                        .silos
                        .iter()
                        .filter(|(_, s)| s.frozen)
                        .map(|(id, _)| *id)
                        .collect();
                    let silo_id = match chosen(&frozen, silo / 4) {
                        Some(id) if silo % 4 != 0 => id,
                        _ => silo_id(state, silo),
                    };
                    (
                        OPS,
                        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id, curator }),
                    )
                }
                Op::ProposeLoan { silo, borrower, receipt, terms } => {
                    let silo_id = silo_id(state, silo);
                    // Usually a loan to the owner of a receipt it could pledge and that no live
                    // proposal names yet; now and then to the other borrower.
                    let proposed: Vec<ReceiptId> = state
                        .loans
                        .loans
                        .iter()
                        .filter(|(_, l)| l.status == LoanStatus::Proposed && l.expires_at >= now)
                        .flat_map(|(_, l)| l.receipts.clone())
                        .collect();
                    let receipt_id = receipt_id(state, receipt, |r| {
                        pledgeable(state, r) && !proposed.contains(&r.id)
                    });
                    let owner = owner_of(state, receipt_id);
                    let borrower = match borrower % 8 {
                        7 => BORROWERS[usize::from(owner == BORROWERS[0])],
                        _ => owner,
                    };
                    let terms = loan_terms(state, borrower, receipt_id, terms);
                    (
                        curator_of(state, silo_id),
                        Action::ProposeLoan(ProposeLoan { silo_id, terms }),
                    )
                }
                Op::CancelLoanProposal { loan, by_curator } => {
                    let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Proposed);
                    let sender = if by_curator {
                        curator_of(state, silo_of(state, loan_id))
                    } else {
                        borrower_of(state, loan_id)
                    };
                    (sender, Action::CancelLoanProposal(CancelLoanProposal { loan_id }))
                }
                Op::AcceptLoan { loan } => {
                    let loan_id =
                        loan_id(state, loan, |l| {
                            l.status == LoanStatus::Proposed
                                && l.expires_at >= now
                                && l.receipts.iter().all(|id| {
                                    state.receipts.receipts.get(id).is_some_and(|r| {
                                        r.owner == l.borrower && pledgeable(state, r)
                                    })
                                })
                        });
                    (borrower_of(state, loan_id), Action::AcceptLoan(AcceptLoan { loan_id }))
                }
                Op::RepayLoan { loan, max_amount } => {
                    // Usually a payment that is due within a week or late but in grace.
                    let loan_id = loan_id(state, loan, |l| {
                        l.status == LoanStatus::Active
                            && !l.is_default_due(now)
                            && l.next_due_at <= now + 7 * DAY
                    });
                    let due = state
                        .loans
                        .loans
                        .get(&loan_id)
                        .and_then(|l| loans::payment_due(l, now).ok())
                        .and_then(|due| due.total().ok())
                        .unwrap_or(Amount::ZERO);
                    let max_amount = max_amount.maximum(due);
                    (
                        borrower_of(state, loan_id),
                        Action::RepayLoan(RepayLoan { loan_id, max_amount }),
                    )
                }
                Op::PrepayLoan { loan, principal, max_amount } => {
                    let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Active);
                    let balance =
                        state.loans.loans.get(&loan_id).map_or(Amount::ZERO, |l| l.balance);
                    let principal = principal.resolve(balance);
                    let max_amount = match max_amount {
                        Limit::Impossible => Amount::ZERO,
                        _ => Amount::MAX,
                    };
                    let action = Action::PrepayLoan(PrepayLoan { loan_id, principal, max_amount });
                    (borrower_of(state, loan_id), action)
                }
                Op::PledgeReceipts { loan, receipt, twice } => {
                    let loan_id = loan_id(state, loan, |l| l.status == LoanStatus::Active);
                    let borrower = borrower_of(state, loan_id);
                    let receipt_id =
                        receipt_id(state, receipt, |r| r.owner == borrower && pledgeable(state, r));
                    let receipt_ids =
                        if twice { vec![receipt_id, receipt_id] } else { vec![receipt_id] };
                    (borrower, Action::PledgeReceipts(PledgeReceipts { loan_id, receipt_ids }))
                }
                Op::RemarkLoans { first, max_loans } => {
                    let next = *state.loans.next_loan_id.get();
                    let first_loan_id = LoanId(u64::from(first) % (next + 1));
                    (
                        participant(self.sender),
                        Action::RemarkLoans(RemarkLoans { first_loan_id, max_loans }),
                    )
                }
                Op::TriggerDefault { loan } => {
                    let loan_id = loan_id(state, loan, |l| l.is_default_due(now));
                    (participant(self.sender), Action::TriggerDefault(TriggerDefault { loan_id }))
                }
                Op::ForecloseLoan { loan, agent } => {
                    let loan_id = loan_id(state, loan, |l| {
                        l.status == LoanStatus::Defaulted && l.liquidation_agent.is_none()
                    });
                    let liquidation_agent = match agent % 8 {
                        0..=5 => LIQUIDATION_AGENT,
                        6 => RIVAL,
                        _ => BORROWER,
                    };
                    let curator = curator_of(state, silo_of(state, loan_id));
                    (curator, Action::ForecloseLoan(ForecloseLoan { loan_id, liquidation_agent }))
                }
                Op::ReportSale { receipt, gross_bps, costs_bps } => {
                    let receipt_id = receipt_id(state, receipt, |r| {
                        r.status == ReceiptStatus::Foreclosed
                            && foreclosed_loan(state, r.id)
                                .is_some_and(|loan| loan.liquidation_agent.is_some())
                    });
                    let loan = foreclosed_loan(state, receipt_id);
                    let agent = loan
                        .as_ref()
                        .and_then(|l| l.liquidation_agent)
                        .unwrap_or(LIQUIDATION_AGENT);
                    // Gross proceeds: a share of what the loan's tranches are still owed,
                    // spread over its unsold receipts (above 100%, the borrower gets a surplus).
                    let owed = loan.as_ref().map_or(Amount::ZERO, |l| {
                        let unsold = l
                            .receipts
                            .iter()
                            .filter(|id| {
                                state
                                    .receipts
                                    .receipts
                                    .get(id)
                                    .is_some_and(|r| r.status == ReceiptStatus::Foreclosed)
                            })
                            .count();
                        let claims = l.senior.principal.0
                            + l.senior.interest_due.0
                            + l.junior.principal.0
                            + l.junior.interest_due.0;
                        Amount(claims / unsold.max(1) as u128)
                    });
                    let gross_proceeds = bps_of(owed, gross_bps);
                    let report = SaleReport {
                        gross_proceeds,
                        itad_commission: bps_of(gross_proceeds, costs_bps),
                        logistics_costs: Amount(u128::from(costs_bps % 7)),
                        ..SaleReport::default()
                    };
                    (agent, Action::ReportSale(ReportSale { receipt_id, report }))
                }
                Op::PayInsuranceClaim { receipt, amount_bps } => {
                    let receipt_id =
                        receipt_id(state, receipt, |r| r.status == ReceiptStatus::Foreclosed);
                    let policy =
                        state.receipts.receipts.get(&receipt_id).and_then(|r| r.policy.clone());
                    let insurer = policy.as_ref().map_or(INSURER, |p| p.insurer);
                    let coverage = policy.map_or(whole(1_000), |p| p.coverage);
                    let amount = bps_of(coverage, amount_bps);
                    (insurer, Action::PayInsuranceClaim(PayInsuranceClaim { receipt_id, amount }))
                }
                Op::ClaimLoanSurplus { loan } => {
                    let loan_id = loan_id(state, loan, |l| !l.surplus_held.is_zero());
                    (
                        borrower_of(state, loan_id),
                        Action::ClaimLoanSurplus(ClaimLoanSurplus { loan_id }),
                    )
                }
                _ => return None,
            };
            Some(Transaction { sender: self.party(proper), action })
        }
    }

    /// `bps` basis points of `amount`, rounded down.
    fn bps_of(amount: Amount, bps: u16) -> Amount {
        Amount(floor_mul_div(amount.0, u128::from(bps), 10_000))
    }

    fn chosen<T: Copy>(items: &[T], pick: u8) -> Option<T> {
        if items.is_empty() { None } else { Some(items[usize::from(pick) % items.len()]) }
    }

    /// Whether a receipt is free and eligible collateral now.
    fn pledgeable(state: &State, receipt: &Receipt) -> bool {
        receipt.status.is_free()
            && !receipt.redemption_requested
            && receipts::check_eligible(state, receipt, state.now()).is_ok()
    }

    fn is_closed(receipt: &Receipt) -> bool {
        matches!(receipt.status, ReceiptStatus::Sold | ReceiptStatus::Redeemed)
    }

    /// A receipt: usually one that `fits`, sometimes any, now and then one that does not exist.
    fn receipt_id(state: &State, pick: u8, fits: impl Fn(&Receipt) -> bool) -> ReceiptId {
        let receipts = &state.receipts.receipts;
        let fitting: Vec<ReceiptId> =
            receipts.iter().filter(|(_, r)| fits(r)).map(|(id, _)| *id).collect();
        let all: Vec<ReceiptId> = receipts.iter().map(|(id, _)| *id).collect();
        let chosen = match pick % 16 {
            0..=12 => chosen(&fitting, pick / 16).or_else(|| chosen(&all, pick)),
            13 | 14 => chosen(&all, pick),
            _ => None,
        };
        chosen.unwrap_or(ReceiptId(1_000 + u64::from(pick)))
    }

    /// A loan: usually one that `fits`, sometimes any, now and then one that does not exist.
    fn loan_id(state: &State, pick: u8, fits: impl Fn(&Loan) -> bool) -> LoanId {
        let loans = &state.loans.loans;
        let fitting: Vec<LoanId> =
            loans.iter().filter(|(_, l)| fits(l)).map(|(id, _)| *id).collect();
        let all: Vec<LoanId> = loans.iter().map(|(id, _)| *id).collect();
        let chosen = match pick % 16 {
            0..=12 => chosen(&fitting, pick / 16).or_else(|| chosen(&all, pick)),
            13 | 14 => chosen(&all, pick),
            _ => None,
        };
        chosen.unwrap_or(LoanId(1_000 + u64::from(pick)))
    }

    /// A silo: usually silo 0, sometimes another, now and then one that does not exist.
    fn silo_id(state: &State, pick: u8) -> SiloId {
        let count = *state.silos.next_silo_id.get();
        match pick % 16 {
            0..=9 => SiloId(0),
            15 => SiloId(1_000 + u64::from(pick)),
            _ => SiloId(u64::from(pick) % count.max(1)),
        }
    }

    fn custodian_of(state: &State, receipt_id: ReceiptId) -> Address {
        state.receipts.receipts.get(&receipt_id).map_or(CUSTODIAN, |r| r.custodian)
    }

    fn owner_of(state: &State, receipt_id: ReceiptId) -> Address {
        state.receipts.receipts.get(&receipt_id).map_or(BORROWER, |r| r.owner)
    }

    fn curator_of(state: &State, silo_id: SiloId) -> Address {
        state.silos.silos.get(&silo_id).map_or(CURATOR, |s| s.curator)
    }

    fn silo_of(state: &State, loan_id: LoanId) -> SiloId {
        state.loans.loans.get(&loan_id).map_or(SiloId(0), |l| l.silo)
    }

    fn borrower_of(state: &State, loan_id: LoanId) -> Address {
        state.loans.loans.get(&loan_id).map_or(BORROWER, |l| l.borrower)
    }

    fn foreclosed_loan(state: &State, receipt_id: ReceiptId) -> Option<Loan> {
        let loan_id = state.receipts.receipts.get(&receipt_id).and_then(|r| r.loan)?;
        state.loans.loans.get(&loan_id).cloned()
    }

    /// What a receipt is worth for sizing: its value for LTV, or its units at the new price
    /// when it has no valuation.
    fn reference_value(state: &State, receipt_id: ReceiptId) -> Amount {
        let Some(receipt) = state.receipts.receipts.get(&receipt_id) else {
            return whole(30_000);
        };
        match receipt.valuation {
            Some(_) => receipts::value_for_ltv(state, receipt, state.now()),
            None => whole(30_000 * u128::from(receipt.description.quantity)),
        }
    }

    /// A policy's length: none (an expiry in the past), 20 days (it lapses during the
    /// workload), one or two years.
    fn policy_term(term: u8) -> u64 {
        [0, 20 * DAY, 365 * DAY, 730 * DAY][usize::from(term) % 4]
    }

    /// What the vault can lend now: at most `max_deployed_bps` of conservative NAV deployed,
    /// and at least `liquidity_buffer_bps` of it left idle.
    fn vault_room(state: &State) -> Amount {
        let nav = vault::nav(state);
        let params = state.governance.params.get();
        let conservative = nav.conservative.0;
        let deployable = floor_mul_div(conservative, u128::from(params.max_deployed_bps.0), 10_000);
        let buffer = ceil_mul_div(conservative, u128::from(params.liquidity_buffer_bps.0), 10_000);
        let by_deployment = deployable.saturating_sub(nav.senior_principal.0);
        let by_buffer = nav.unallocated.0.saturating_sub(buffer);
        Amount(by_deployment.min(by_buffer))
    }

    /// Loan terms: 12% senior and 18% junior APR, 10 days of grace at 20%, 0.5% origination and
    /// 0.25% exit fees, a day to three months to accept; sized by `terms` against the receipt's
    /// value.
    fn loan_terms(
        state: &State,
        borrower: Address,
        receipt_id: ReceiptId,
        terms: Terms,
    ) -> LoanTerms {
        let value = reference_value(state, receipt_id);
        let junior = bps_of(value, terms.junior_bps);
        // Within room: what the vault can lend and what keeps the LTV at most 60% (the silo's
        // limit is 70%; the collateral depreciates before the borrower accepts).
        let base = if terms.within_room {
            vault_room(state).min(bps_of(value, 6_000).saturating_sub(junior))
        } else {
            value
        };
        let mut loan =
            loan_terms_at(state.now(), bps_of(base, terms.senior_bps), borrower, receipt_id, terms);
        loan.junior.amount = junior;
        loan
    }

    /// The terms of `loan_terms` with a senior tranche of `senior` and no junior tranche.
    fn loan_terms_at(
        now: u64,
        senior: Amount,
        borrower: Address,
        receipt_id: ReceiptId,
        terms: Terms,
    ) -> LoanTerms {
        LoanTerms {
            borrower,
            receipts: vec![receipt_id],
            senior: TrancheTerms { amount: senior, rate: Rate::from_apr_bps(1_200) },
            junior: TrancheTerms { amount: Amount::ZERO, rate: Rate::from_apr_bps(1_800) },
            model: if terms.fixed_principal {
                InterestModel::FixedPrincipal
            } else {
                InterestModel::Amortized
            },
            periods: Some(terms.periods),
            interval_secs: Some([14 * DAY, 30 * DAY, 30 * DAY][usize::from(terms.interval) % 3]),
            grace_period_secs: 10 * DAY,
            grace_rate: Rate::from_apr_bps(2_000),
            origination_fee_bps: Bps(50),
            exit_fee_bps: Bps(25),
            expires_at: now
                + [DAY, 60 * DAY, 90 * DAY, 90 * DAY][usize::from(terms.interval / 3) % 4],
        }
    }

    fn size() -> impl Strategy<Value = Size> {
        prop_oneof![
            1 => Just(Size::Zero),
            2 => (1u64..2_000_000).prop_map(Size::Units),
            4 => (1u32..50_000).prop_map(Size::Whole),
            10 => (1u16..=10_000).prop_map(Size::Fraction),
            2 => Just(Size::Fraction(10_000)),
            1 => Just(Size::AllPlusOne),
            1 => Just(Size::Max),
        ]
    }

    fn limit() -> impl Strategy<Value = Limit> {
        prop_oneof![
            6 => Just(Limit::None),
            1 => Just(Limit::Exact),
            2 => Just(Limit::Loose),
            1 => Just(Limit::Impossible),
        ]
    }

    fn token_index() -> impl Strategy<Value = u8> {
        prop_oneof![5 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)]
    }

    fn op() -> impl Strategy<Value = Op> {
        let index = || 0u8..6;
        let token = token_index;
        prop_oneof![
            6 => (0u8..5, index(), size())
                .prop_map(|(asset, to, amount)| Op::Transfer { asset, to, amount }),
            1 => (0u8..11, index()).prop_map(|(role, account)| Op::GrantRole { role, account }),
            1 => (0u8..11, index()).prop_map(|(role, account)| Op::RevokeRole { role, account }),
            2 => (any::<u8>(), any::<u64>())
                .prop_map(|(which, value)| Op::SetParameter { which, value }),
            1 => (0u8..3).prop_map(|token| Op::AddStablecoin { token }),
            1 => (0u8..3, prop::bool::weighted(0.4))
                .prop_map(|(scope, paused)| Op::SetPause { scope, paused }),
            2 => any::<u8>().prop_map(|account| Op::Freeze { account }),
            5 => any::<u8>().prop_map(|account| Op::Unfreeze { account }),
            1 => (index(), any::<bool>())
                .prop_map(|(account, verified)| Op::SetKyc { account, verified }),
            10 => (token(), prop_oneof![9 => 9_960u16..10_040, 1 => 0u16..25_000])
                .prop_map(|(token, price_bps)| Op::PostPrice { token, price_bps }),
            2 => prop_oneof![5 => 0u16..2_000, 1 => 0u16..3_000]
                .prop_map(|apr_bps| Op::PostTbillRate { apr_bps }),
            3 => (index(), token(), size(), any::<u8>()).prop_map(
                |(account, token, amount, external_id)| Op::GatewayCredit {
                    account,
                    token,
                    amount,
                    external_id,
                }
            ),
            2 => (token(), size(), prop::bool::weighted(0.9)).prop_map(
                |(token, amount, destination_is_valid)| Op::GatewayWithdraw {
                    token,
                    amount,
                    destination_is_valid,
                }
            ),
            2 => (any::<u8>(), any::<u8>())
                .prop_map(|(payout, external_id)| Op::GatewayConfirm { payout, external_id }),
            1 => (any::<u8>(), prop::bool::weighted(0.9))
                .prop_map(|(payout, reason_is_valid)| Op::GatewayReject { payout, reason_is_valid }),
            14 => (token(), size(), limit())
                .prop_map(|(token, amount, min_out)| Op::MintUsdai { token, amount, min_out }),
            4 => (token(), size(), limit())
                .prop_map(|(token, amount, min_out)| Op::RedeemUsdai { token, amount, min_out }),
            3 => Just(Op::HarvestBaseYield),
            12 => (size(), limit()).prop_map(|(assets, min_shares)| Op::Stake { assets, min_shares }),
            3 => (size(), limit())
                .prop_map(|(shares, max_assets)| Op::MintShares { shares, max_assets }),
            1 => size().prop_map(|amount| Op::DonateToVault { amount }),
            10 => size().prop_map(|shares| Op::RequestRedeem { shares }),
            3 => any::<u8>().prop_map(|request| Op::CancelRedeem { request }),
            6 => prop_oneof![8 => 1u32..20, 1 => 0u32..2, 1 => 9_999u32..10_002]
                .prop_map(|max_requests| Op::ServiceQueue { max_requests }),
            8 => any::<u8>().prop_map(|request| Op::Claim { request }),
        ]
    }

    /// Credit ops, most of them aimed at an object in the state the action needs (so loans are
    /// proposed, accepted, paid, marked down, defaulted and liquidated), with invalid arguments
    /// mixed in.
    fn credit_op() -> impl Strategy<Value = Op> {
        prop_oneof![51 => receipt_op(), 10 => silo_op(), 121 => loan_op()]
    }

    /// Mostly `on`, now and then any of `0..below`.
    fn usually(on: u8, below: u8) -> impl Strategy<Value = u8> {
        prop_oneof![4 => Just(on), 1 => 0..below]
    }

    /// Basis points: `zero` weight of 0, `inside` of `range`, `outside` of `outliers`.
    fn bps(
        zero: u32,
        (inside, range): (u32, std::ops::Range<u16>),
        (outside, outliers): (u32, std::ops::Range<u16>),
    ) -> impl Strategy<Value = u16> {
        prop_oneof![zero => Just(0u16), inside => range, outside => outliers]
    }

    fn receipt_op() -> impl Strategy<Value = Op> {
        let receipt = || any::<u8>();
        let coverage_bps = || bps(1, (8, 10_000..15_000), (2, 5_000..10_000));
        let term = || prop_oneof![1 => Just(0u8), 1 => Just(1u8), 8 => 2u8..4];
        let units = prop_oneof![1 => Just(0u32), 12 => 1u32..100];
        let new_units = prop_oneof![3 => Just(None), 1 => (0u32..40).prop_map(Some)];
        let step_down_bps = bps(1, (6, 500..4_000), (1, 10_000..10_001));
        prop_oneof![
            1 => (0u8..3, prop::bool::weighted(0.8))
                .prop_map(|(class, valid)| Op::AddAssetClass { class, valid }),
            3 => (usually(0, 4), step_down_bps).prop_map(|(class, step_down_bps)| {
                Op::ApplyGenerationStepDown { class, step_down_bps }
            }),
            12 => (usually(0, 4), any::<u8>(), units, prop::bool::weighted(0.95)).prop_map(
                |(class, owner, units, text_is_valid)| {
                    Op::IssueReceipt { class, owner, units, text_is_valid }
                }
            ),
            1 => (receipt(), new_units, prop::bool::weighted(0.8)).prop_map(
                |(receipt, units, text_is_valid)| Op::AmendReceipt { receipt, units, text_is_valid }
            ),
            1 => receipt().prop_map(|receipt| Op::ReleaseReceipt { receipt }),
            2 => (receipt(), any::<u8>())
                .prop_map(|(receipt, to)| Op::TransferReceipt { receipt, to }),
            2 => receipt().prop_map(|receipt| Op::RequestReceiptRedemption { receipt }),
            2 => receipt().prop_map(|receipt| Op::RedeemReceipt { receipt }),
            14 => (receipt(), coverage_bps(), term()).prop_map(|(receipt, coverage_bps, term)| {
                Op::AttachPolicy { receipt, coverage_bps, term }
            }),
            2 => (receipt(), coverage_bps(), term()).prop_map(|(receipt, coverage_bps, term)| {
                Op::RenewPolicy { receipt, coverage_bps, term }
            }),
            // Mostly drift around the current value; a quarter of them a fall to 2-40% of it.
            14 => (receipt(), bps(1, (8, 8_500..11_500), (3, 200..4_000)))
                .prop_map(|(receipt, value_bps)| Op::PostValuation { receipt, value_bps }),
        ]
    }

    fn silo_op() -> impl Strategy<Value = Op> {
        let silo = || any::<u8>();
        let open =
            (any::<u8>(), prop::bool::weighted(0.3), any::<bool>(), prop::bool::weighted(0.8));
        prop_oneof![
            1 => open.prop_map(|(classes, narrow, curator_fee, valid)| {
                Op::OpenSilo { classes, narrow, curator_fee, valid }
            }),
            3 => (silo(), size()).prop_map(|(silo, amount)| Op::DepositFirstLoss { silo, amount }),
            2 => (silo(), size()).prop_map(|(silo, amount)| Op::WithdrawFirstLoss { silo, amount }),
            1 => (silo(), bps(1, (8, 2_000..10_001), (1, 1..2_000)))
                .prop_map(|(silo, cap_bps)| Op::SetSiloSeniorCap { silo, cap_bps }),
            2 => (silo(), any::<u8>())
                .prop_map(|(silo, change)| Op::SetSiloFrozen { silo, change }),
            1 => (silo(), any::<u8>())
                .prop_map(|(silo, successor)| Op::AssignSuccessorCurator { silo, successor }),
        ]
    }

    fn loan_op() -> impl Strategy<Value = Op> {
        let loan = || any::<u8>();
        let terms = (
            prop::bool::weighted(0.95),
            prop_oneof![19 => 5_000u16..=10_000, 1 => 10_000u16..14_000],
            prop_oneof![2 => Just(0u16), 1 => 1u16..1_000],
            any::<bool>(),
            prop_oneof![1 => Just(0u32), 12 => 1u32..=12],
            any::<u8>(),
        )
            .prop_map(
                |(within_room, senior_bps, junior_bps, fixed_principal, periods, interval)| Terms {
                    within_room,
                    senior_bps,
                    junior_bps,
                    fixed_principal,
                    periods,
                    interval,
                },
            );
        let proposal = (any::<u8>(), any::<u8>(), any::<u8>(), terms);
        let remark_batch = prop_oneof![1 => Just(0u32), 8 => 1u32..50, 1 => Just(10_001u32)];
        // Gross proceeds up to twice what the tranches are owed (above it, a surplus for the
        // borrower); costs mostly below a third of the proceeds, now and then above them.
        let gross_bps = prop_oneof![1 => Just(0u16), 6 => 1u16..20_000];
        let costs_bps = prop_oneof![9 => 0u16..3_500, 1 => 10_001u16..12_000];
        let sale = (loan(), gross_bps, costs_bps);
        prop_oneof![
            20 => proposal.prop_map(|(silo, borrower, receipt, terms)| {
                Op::ProposeLoan { silo, borrower, receipt, terms }
            }),
            1 => (loan(), any::<bool>())
                .prop_map(|(loan, by_curator)| Op::CancelLoanProposal { loan, by_curator }),
            40 => loan().prop_map(|loan| Op::AcceptLoan { loan }),
            24 => (loan(), limit())
                .prop_map(|(loan, max_amount)| Op::RepayLoan { loan, max_amount }),
            4 => (loan(), size(), limit()).prop_map(|(loan, principal, max_amount)| {
                Op::PrepayLoan { loan, principal, max_amount }
            }),
            4 => (loan(), any::<u8>(), prop::bool::weighted(0.2))
                .prop_map(|(loan, receipt, twice)| Op::PledgeReceipts { loan, receipt, twice }),
            8 => (any::<u8>(), remark_batch)
                .prop_map(|(first, max_loans)| Op::RemarkLoans { first, max_loans }),
            6 => loan().prop_map(|loan| Op::TriggerDefault { loan }),
            6 => (loan(), any::<u8>()).prop_map(|(loan, agent)| Op::ForecloseLoan { loan, agent }),
            8 => sale.prop_map(|(receipt, gross_bps, costs_bps)| {
                Op::ReportSale { receipt, gross_bps, costs_bps }
            }),
            4 => (loan(), bps(1, (8, 1..10_001), (1, 10_001..12_000)))
                .prop_map(|(receipt, amount_bps)| Op::PayInsuranceClaim { receipt, amount_bps }),
            8 => loan().prop_map(|loan| Op::ClaimLoanSurplus { loan }),
        ]
    }

    /// The sender of an op: privileged ops are usually sent by the actor that holds the role
    /// at genesis (index 0 or 1), everything else by anyone.
    fn step_for(op: Op) -> impl Strategy<Value = Step> {
        let privileged_holder = match op {
            Op::GrantRole { .. }
            | Op::RevokeRole { .. }
            | Op::SetParameter { .. }
            | Op::AddStablecoin { .. }
            | Op::SetPause { .. }
            | Op::Freeze { .. }
            | Op::Unfreeze { .. } => Some(0u8),
            Op::SetKyc { .. }
            | Op::PostPrice { .. }
            | Op::PostTbillRate { .. }
            | Op::GatewayCredit { .. }
            | Op::GatewayConfirm { .. }
            | Op::GatewayReject { .. } => Some(1u8),
            _ => None,
        };
        let credit = op.is_credit();
        let sender = match privileged_holder {
            // Credit ops pick their party from the state (see `Step::sender`).
            _ if credit => any::<u8>().boxed(),
            Some(holder) => prop_oneof![6 => Just(holder), 1 => 0u8..6].boxed(),
            None => (0u8..6).boxed(),
        };
        let advance = prop_oneof![
            5 => Just(0u64),
            3 => 1u64..HOUR,
            2 => HOUR..2 * DAY,
            1 => 7 * DAY..9 * DAY,
        ];
        (advance, prop::bool::weighted(0.3), sender).prop_map(
            move |(advance_secs, upkeep_first, sender)| Step {
                advance_secs,
                upkeep_first,
                sender,
                op: op.clone(),
            },
        )
    }

    /// One random step: two in five are credit ops.
    pub fn step() -> impl Strategy<Value = Step> {
        prop_oneof![3 => op(), 2 => credit_op()].prop_flat_map(step_for)
    }

    /// A sequence of `length` random steps.
    pub fn steps(length: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
        prop::collection::vec(step(), length)
    }

    /// The block a step runs in, after `previous`.
    pub fn next_block(previous: BlockContext, step: &Step) -> BlockContext {
        if step.advance_secs == 0 {
            previous
        } else {
            BlockContext {
                height: previous.height + 1,
                timestamp: previous.timestamp + step.advance_secs,
            }
        }
    }
}
