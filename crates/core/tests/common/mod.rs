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
