//! The shared fixture of the integration tests: a [`Market`] with every role held by its own
//! address and a few users funded with stablecoins, which applies transactions at chosen times
//! and checks the SPEC 14 invariants after every transaction, accepted or rejected; and
//! [`assert_rejected`], which checks a rejection's code and that the state hash did not move.
//!
//! Each test binary uses a different part of this module, so unused items are expected.
#![allow(dead_code, unreachable_pub)]

use infrafi_core::{
    Account, Action, Address, Amount, Asset, BlockContext, Event, Genesis, ProtocolAccount, Rate,
    Role, State, Symbol, Transaction, TxError, WAD, apply, begin_block,
    ids::{USDC, USDT},
    invariants, ledger,
    params::Params,
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

/// Users, each funded at genesis with `USER_STABLECOIN_WHOLE` USDC and as much USDT.
pub const ALICE: Address = Address::repeat_byte(0x11);
/// A second user.
pub const BOB: Address = Address::repeat_byte(0x22);
/// A third user.
pub const CAROL: Address = Address::repeat_byte(0x33);
/// A fourth user (the inflation attacker in its test).
pub const DAVE: Address = Address::repeat_byte(0x44);
/// Receives senior loans in tests that emulate the credit component (not funded).
pub const BORROWER: Address = Address::repeat_byte(0xb0);
/// Every funded user.
pub const USERS: [Address; 4] = [ALICE, BOB, CAROL, DAVE];
/// Each user's opening balance of each stablecoin, in whole tokens.
pub const USER_STABLECOIN_WHOLE: u128 = 1_000_000;

/// Every (role, holder) pair of the default market.
pub const ROLE_HOLDERS: [(Role, Address); 6] = [
    (Role::Admin, ADMIN),
    (Role::Oracle, ORACLE),
    (Role::GatewayAttestor, ATTESTOR),
    (Role::Guardian, GUARDIAN),
    (Role::Compliance, COMPLIANCE),
    (Role::KycRegistrar, REGISTRAR),
];

/// `whole` tokens as an amount.
pub const fn whole(whole: u128) -> Amount {
    Amount::from_whole(whole)
}

/// The default genesis: default parameters, the role holders above, USDC and USDT at 1.0, no
/// T-bill yield, and every user funded.
pub fn genesis() -> Genesis {
    let mut genesis = Genesis::with_admin(ADMIN, GENESIS_TIME);
    genesis.roles = ROLE_HOLDERS.to_vec();
    genesis.params = Params::default();
    for user in USERS {
        for token in [USDC, USDT] {
            genesis.stablecoin_balances.push((user, token, whole(USER_STABLECOIN_WHOLE)));
        }
    }
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

    /// Commits writes a test made directly to the state (through the seams the credit
    /// component will use) and drains their events, as a committed transaction would.
    fn commit_direct_writes(&mut self) {
        begin_block(&mut self.state, &self.block).expect("the block is the current one");
        invariants::check(&self.state).expect("invariants hold after the direct writes");
    }

    /// Emulates a loan origination through the vault's seam: `principal` of the vault's USDai
    /// goes to `BORROWER`, and the senior book gains that principal at `apr_bps`.
    pub fn originate_senior(&mut self, principal: Amount, apr_bps: u32) {
        self.begin_block();
        let now = self.state.now();
        ledger::transfer(
            &mut self.state,
            Asset::Usdai,
            ProtocolAccount::Vault,
            BORROWER,
            principal,
        )
        .expect("the vault has the principal");
        let senior = &mut self.state.vault.globals.get_mut().senior;
        senior.accrued_at_checkpoint = senior.accrued_at(now);
        senior.checkpoint_at = now;
        senior.principal = senior.principal.checked_add(principal).expect("principal fits");
        senior.interest_per_second_wad += principal.0 * Rate::from_apr_bps(apr_bps).0;
        self.commit_direct_writes();
    }

    /// Emulates a repayment of `principal` of a 0% senior position by `BORROWER`.
    pub fn repay_senior_principal(&mut self, principal: Amount) {
        self.begin_block();
        ledger::transfer(
            &mut self.state,
            Asset::Usdai,
            BORROWER,
            ProtocolAccount::Vault,
            principal,
        )
        .expect("the borrower has the USDai");
        let senior = &mut self.state.vault.globals.get_mut().senior;
        senior.principal = senior.principal.checked_sub(principal).expect("principal is owed");
        self.commit_direct_writes();
    }

    /// Sets the senior book's impairment (SPEC 9.6) through the seam.
    pub fn impair_senior(&mut self, impairment: Amount) {
        self.begin_block();
        self.state.vault.globals.get_mut().senior.impairment = impairment;
        self.commit_direct_writes();
    }

    /// The senior book.
    pub fn senior(&self) -> SeniorBook {
        self.state.vault.globals.get().senior.clone()
    }

    /// Mints `amount` USDai for `who` from USDC with no slippage limit.
    pub fn mint(&mut self, who: Address, amount: Amount) -> Vec<Event> {
        self.ok(who, Action::MintUsdai { token: USDC, amount, min_out: Amount::ZERO })
    }

    /// Stakes `assets` USDai for `who` with no slippage limit.
    pub fn stake(&mut self, who: Address, assets: Amount) -> Vec<Event> {
        self.ok(who, Action::Stake { assets, min_shares: Amount::ZERO })
    }

    /// The oracle posts 1.0 for every default stablecoin (prices go stale after a day).
    pub fn refresh_prices(&mut self) {
        for token in [USDC, USDT] {
            self.ok(ORACLE, Action::PostPrice { token, price: WAD });
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
// Random workloads: sequences of steps from six actors that mix valid and invalid actions of
// every `Action` variant with time advancing. A step is resolved against the current state
// ("a quarter of the sender's USDai", "one of the sender's requests"), deterministically, so
// the same steps applied to the same state give the same transactions.

pub mod workload {
    use super::*;
    use infrafi_core::{
        Bps, ParameterChange, RequestId,
        ids::{B256, PayoutId},
        params::{DURATION_SECS_MAX, PauseScope},
        reserve::PayoutStatus,
    };
    use proptest::prelude::*;

    /// Holds admin, guardian and compliance.
    pub const OPS: Address = Address::repeat_byte(0xc1);
    /// Holds oracle, gateway attestor and KYC registrar.
    pub const FEEDS: Address = Address::repeat_byte(0xc2);
    /// The six actors: two role holders (who also hold money) and four users.
    pub const ACTORS: [Address; 6] = [OPS, FEEDS, ALICE, BOB, CAROL, DAVE];

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
        ];
        genesis.tbill_rate = Rate::from_apr_bps(450);
        genesis.params.mint_fee_bps = Bps(5);
        genesis.params.redeem_fee_bps = Bps(5);
        genesis.params.yield_fee_bps = Bps(1_000);
        // Prices stay fresh for 30 days: the oracle posts one token's price about one step in
        // thirty and steps are a day apart on average, so with the default (one day) nearly
        // every mint would be stale. Staleness still happens, through parameter changes.
        genesis.params.max_price_age_secs = 30 * DAY;
        // A 30% buffer makes rounds short of liquidity, so partial fills happen.
        genesis.params.liquidity_buffer_bps = Bps(3_000);
        for actor in ACTORS {
            for token in [USDC, USDT] {
                genesis.stablecoin_balances.push((actor, token, whole(USER_STABLECOIN_WHOLE)));
            }
        }
        genesis
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
    }

    /// One step: time moves by `advance_secs` (a new block if it moves), optionally the block
    /// upkeep runs on its own first, then `sender` sends `op`.
    #[derive(Clone, Debug)]
    pub struct Step {
        /// Seconds since the previous step's block.
        pub advance_secs: u64,
        /// Run `begin_block` before the transaction (so time effects and the action's effects
        /// can be told apart).
        pub upkeep_first: bool,
        /// A change to the senior book made before the transaction, as the credit component
        /// will make it (see `Credit`).
        pub credit: Option<Credit>,
        /// Index into `ACTORS`.
        pub sender: u8,
        /// What it does.
        pub op: Op,
    }

    /// Senior loan activity written through the vault's seam (`vault.globals.senior`), the way
    /// the credit component will: it moves USDai between the vault and `BORROWER` and keeps
    /// the book (principal at `CREDIT_APR_BPS`, accrued interest, impairment) in step.
    #[derive(Clone, Copy, Debug)]
    pub enum Credit {
        /// Lend this many basis points of the vault's unallocated USDai.
        Originate(u16),
        /// The borrower repays this many basis points of the principal (as far as it can).
        RepayPrincipal(u16),
        /// The borrower pays the interest accrued (as far as it can).
        PayInterest,
        /// The expected recovery falls short by this many basis points of the principal.
        Impair(u16),
    }

    /// The rate of every senior position in the workload.
    pub const CREDIT_APR_BPS: u32 = 1_200;

    /// Applies `credit` at `block` (running its upkeep first) and commits it, sampling the
    /// share price for points as any price-moving transaction does. Returns the interest the
    /// borrower paid into the vault: value that entered from outside.
    pub fn apply_credit(state: &mut State, block: &BlockContext, credit: Credit) -> Amount {
        begin_block(state, block).expect("time only moves forward here");
        let now = state.now();
        let rate = Rate::from_apr_bps(CREDIT_APR_BPS).0;
        let idle = vault::nav(state).unallocated;
        let borrower_usdai = state.ledger.balance(BORROWER, Asset::Usdai);
        let mut senior = state.vault.globals.get().senior.clone();
        senior.accrued_at_checkpoint = senior.accrued_at(now);
        senior.checkpoint_at = now;
        let bps_of = |amount: Amount, bps: u16| Amount(amount.0 / 10_000 * u128::from(bps));
        let vault_account = ProtocolAccount::Vault;
        let mut interest_paid = Amount::ZERO;
        match credit {
            Credit::Originate(bps) => {
                let principal = bps_of(idle, bps);
                if !principal.is_zero() {
                    ledger::transfer(state, Asset::Usdai, vault_account, BORROWER, principal)
                        .expect("the vault holds its unallocated USDai");
                    senior.principal = plus(senior.principal, principal);
                }
            }
            Credit::RepayPrincipal(bps) => {
                let repaid = bps_of(senior.principal, bps).min(borrower_usdai);
                if !repaid.is_zero() {
                    ledger::transfer(state, Asset::Usdai, BORROWER, vault_account, repaid)
                        .expect("the borrower holds it");
                    senior.principal = minus(senior.principal, repaid);
                    senior.impairment = senior.impairment.min(senior.principal);
                }
            }
            Credit::PayInterest => {
                interest_paid = senior.accrued_at_checkpoint.min(borrower_usdai);
                if !interest_paid.is_zero() {
                    ledger::transfer(state, Asset::Usdai, BORROWER, vault_account, interest_paid)
                        .expect("the borrower holds it");
                    senior.accrued_at_checkpoint =
                        minus(senior.accrued_at_checkpoint, interest_paid);
                }
            }
            Credit::Impair(bps) => senior.impairment = bps_of(senior.principal, bps),
        }
        senior.interest_per_second_wad = senior.principal.0 * rate;
        state.vault.globals.get_mut().senior = senior;
        infrafi_core::points::sample_share_price(state);
        // Same block: the upkeep is a no-op, and `begin_block` commits the writes above.
        begin_block(state, block).expect("same block");
        interest_paid
    }

    fn actor(index: u8) -> Address {
        ACTORS[usize::from(index) % ACTORS.len()]
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
        let caps = [10_000_000, 100_000_000, 1_000_000_000, 1_000_000, 0];
        match which % 23 {
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
            _ => C::GovernanceDelaySecs(duration),
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
                    Action::Transfer {
                        asset,
                        to: actor(to),
                        amount: amount.resolve(balance(asset)),
                    }
                }
                Op::GrantRole { role: r, account } => {
                    Action::GrantRole { role: role(r), account: actor(account) }
                }
                Op::RevokeRole { role: r, account } => {
                    Action::RevokeRole { role: role(r), account: actor(account) }
                }
                Op::SetParameter { which, value } => {
                    Action::SetParameter { change: parameter_change(which, value) }
                }
                Op::AddStablecoin { token: t } => Action::AddStablecoin { token: token(t) },
                Op::SetPause { scope, paused } => {
                    let scope = match scope % 3 {
                        0 => PauseScope::Minting,
                        1 => PauseScope::Staking,
                        _ => PauseScope::Borrowing,
                    };
                    Action::SetPause { scope, paused }
                }
                Op::Freeze { account } => Action::Freeze { account: actor(account) },
                Op::Unfreeze { account } => Action::Unfreeze { account: actor(account) },
                Op::SetKyc { account, verified } => {
                    Action::SetKyc { account: actor(account), verified }
                }
                Op::PostPrice { token: t, price_bps } => Action::PostPrice {
                    token: token(t),
                    price: WAD / 10_000 * u128::from(price_bps),
                },
                Op::PostTbillRate { apr_bps } => {
                    Action::PostTbillRate { rate: Rate::from_apr_bps(u32::from(apr_bps)) }
                }
                Op::GatewayCredit { account, token: t, amount, external_id } => {
                    Action::GatewayCredit {
                        account: actor(account),
                        token: token(t),
                        amount: amount.resolve(whole(100_000)),
                        external_id: B256::repeat_byte(external_id % 32),
                    }
                }
                Op::GatewayWithdraw { token: t, amount, destination_is_valid } => {
                    Action::GatewayWithdraw {
                        token: token(t),
                        amount: amount.resolve(balance(Asset::Stablecoin(token(t)))),
                        destination: if destination_is_valid { "0xdest".into() } else { "".into() },
                    }
                }
                Op::GatewayConfirm { payout, external_id } => Action::GatewayConfirm {
                    payout_id: payout_id(state, payout),
                    external_id: B256::repeat_byte(external_id % 32),
                },
                Op::GatewayReject { payout, reason_is_valid } => Action::GatewayReject {
                    payout_id: payout_id(state, payout),
                    reason: if reason_is_valid { "refused".into() } else { "\n".into() },
                },
                Op::MintUsdai { token: t, amount, min_out } => {
                    let amount = amount.resolve(balance(Asset::Stablecoin(token(t))));
                    Action::MintUsdai { token: token(t), amount, min_out: min_out.minimum(amount) }
                }
                Op::RedeemUsdai { token: t, amount, min_out } => {
                    let amount = amount.resolve(balance(Asset::Usdai));
                    Action::RedeemUsdai {
                        token: token(t),
                        amount,
                        min_out: min_out.minimum(amount),
                    }
                }
                Op::HarvestBaseYield => Action::HarvestBaseYield {},
                Op::Stake { assets, min_shares } => {
                    let assets = assets.resolve(balance(Asset::Usdai));
                    Action::Stake { assets, min_shares: min_shares.minimum(assets) }
                }
                Op::MintShares { shares, max_assets } => {
                    let shares = shares.resolve(balance(Asset::Usdai));
                    Action::MintShares { shares, max_assets: max_assets.maximum(shares) }
                }
                Op::DonateToVault { amount } => {
                    Action::DonateToVault { amount: amount.resolve(balance(Asset::Usdai)) }
                }
                Op::RequestRedeem { shares } => {
                    Action::RequestRedeem { shares: shares.resolve(balance(Asset::Susdai)) }
                }
                Op::CancelRedeem { request } => {
                    Action::CancelRedeem { request_id: request_id(state, sender, request) }
                }
                Op::ServiceQueue { max_requests } => Action::ServiceQueue { max_requests },
                Op::Claim { request } => {
                    Action::Claim { request_id: request_id(state, sender, request) }
                }
            };
            Transaction { sender, action }
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
            1 => index().prop_map(|account| Op::Freeze { account }),
            3 => index().prop_map(|account| Op::Unfreeze { account }),
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
        let sender = match privileged_holder {
            Some(holder) => prop_oneof![6 => Just(holder), 1 => 0u8..6].boxed(),
            None => (0u8..6).boxed(),
        };
        let advance = prop_oneof![
            5 => Just(0u64),
            3 => 1u64..HOUR,
            2 => HOUR..2 * DAY,
            1 => 7 * DAY..9 * DAY,
        ];
        let credit = prop_oneof![
            12 => Just(None),
            1 => (1u16..=9_000).prop_map(|bps| Some(Credit::Originate(bps))),
            1 => (1u16..=10_000).prop_map(|bps| Some(Credit::RepayPrincipal(bps))),
            1 => Just(Some(Credit::PayInterest)),
            1 => (0u16..=10_000).prop_map(|bps| Some(Credit::Impair(bps))),
        ];
        (advance, prop::bool::weighted(0.3), credit, sender).prop_map(
            move |(advance_secs, upkeep_first, credit, sender)| Step {
                advance_secs,
                upkeep_first,
                credit,
                sender,
                op: op.clone(),
            },
        )
    }

    /// One random step.
    pub fn step() -> impl Strategy<Value = Step> {
        op().prop_flat_map(step_for)
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
