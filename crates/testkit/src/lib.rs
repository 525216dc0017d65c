//! Deterministic fixtures and workloads over infrafi-core, shared by the tests, benchmarks and
//! the CLI's demo and bench: [`market`] is the one market fixture (role holders, time
//! constants, a [`market::Market`] that checks every invariant after every transaction);
//! [`workload`] (feature `workload`) the random workload of the property tests; this module
//! the benchmarks' market of N funded users, a [`Driver`] and the `apply` benchmark's
//! transaction mix; [`queued`] a queue held at a steady size for measuring servicing rounds;
//! [`scale`] queued requests and active loans at a node's scale, as actions for a genesis.
//! Addresses derive from fixed tables or an index and the generators are
//! seeded, so two runs build byte-identical states.

pub mod market;
pub mod queued;
pub mod scale;
#[cfg(feature = "workload")]
pub mod workload;

pub use market::{GENESIS_TIME, ROLE_HOLDERS, role_address, user_address};

use infrafi_core::{
    Action, Address, Amount, BlockContext, Genesis, Role, State, Transaction, TxError,
    action::{MintUsdai, RequestRedeem, Stake, Transfer},
    apply,
    ids::USDC,
};

/// A market with every role held by its fixture address and `users` users, each holding
/// `usdc_each` USDC. Parameters are the defaults with `adjust` applied.
pub fn funded_market(users: u64, usdc_each: Amount, adjust: impl FnOnce(&mut Genesis)) -> State {
    let mut genesis = Genesis::with_admin(role_address(Role::Admin), GENESIS_TIME);
    genesis.roles = ROLE_HOLDERS.to_vec();
    genesis.stablecoin_balances = (0..users).map(|i| (user_address(i), USDC, usdc_each)).collect();
    adjust(&mut genesis);
    State::from_genesis(&genesis).expect("fixture genesis is valid")
}

/// Drives a state through blocks of one timestamp each.
pub struct Driver {
    /// The state.
    pub state: State,
    /// The block being filled.
    pub block: BlockContext,
}

impl Driver {
    /// A driver at the state's time.
    pub fn new(state: State) -> Driver {
        let block = BlockContext { height: state.height() + 1, timestamp: state.now() };
        Driver { state, block }
    }

    /// Applies `action` from `sender` in the current block.
    pub fn apply(&mut self, sender: Address, action: Action) -> Result<(), TxError> {
        apply(&mut self.state, &self.block, &Transaction { sender, action }).map(drop)
    }

    /// Starts a new block `seconds` later and runs its upkeep, so reads see the new time.
    pub fn advance(&mut self, seconds: u64) {
        self.block = BlockContext {
            height: self.block.height + 1,
            timestamp: self.block.timestamp + seconds,
        };
        infrafi_core::begin_block(&mut self.state, &self.block).expect("time only moves forward");
    }
}

/// A deterministic xorshift generator for workloads (not for anything secret).
#[derive(Clone, Debug)]
pub struct Xorshift(u64);

impl Xorshift {
    /// A generator from a non-zero seed (zero is replaced by a constant).
    pub fn new(seed: u64) -> Xorshift {
        Xorshift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}

/// USDC each account starts with in the apply workload.
pub const WORKLOAD_USDC_EACH: Amount = Amount::from_whole(100_000);
/// USDai each account mints in the apply workload.
pub const WORKLOAD_MINT_EACH: Amount = Amount::from_whole(50_000);
/// USDai each account stakes in the apply workload.
pub const WORKLOAD_STAKE_EACH: Amount = Amount::from_whole(20_000);

/// A market of `accounts` users, each holding USDC, USDai and sUSDai, ready for the `apply`
/// benchmarks. Round interval 0 and no fees, so any transaction type can repeat. The USDai
/// supply cap is raised, when the default is too low, to what every user's USDC can mint
/// ([`workload_supply_cap`]): a million accounts mint 50 billion in the set-up alone.
pub fn workload_market(accounts: u64) -> Driver {
    workload_market_with(accounts, |_| {})
}

/// The USDai supply cap of the `apply` workload of `accounts` users under parameters whose cap
/// is `cap`: `cap`, or all the USDC the users hold (each can mint all of it) when that is more.
/// Up to 100,000 users the default cap is kept, so their states (and the golden state roots
/// taken over them) do not change.
pub fn workload_supply_cap(accounts: u64, cap: Amount) -> Amount {
    let minted_at_most = WORKLOAD_USDC_EACH.0.saturating_mul(u128::from(accounts));
    cap.max(Amount(minted_at_most))
}

/// [`workload_market`] from a genesis edited by `adjust` first (before the supply cap is
/// raised to [`workload_supply_cap`]).
fn workload_market_with(accounts: u64, adjust: impl FnOnce(&mut Genesis)) -> Driver {
    let state = funded_market(accounts, WORKLOAD_USDC_EACH, |genesis| {
        genesis.params.round_interval_secs = 0;
        genesis.params.max_active_requests = 1_000;
        adjust(genesis);
        let cap = &mut genesis.params.usdai_supply_cap;
        *cap = workload_supply_cap(accounts, *cap);
    });
    let mut driver = Driver::new(state);
    for index in 0..accounts {
        let user = user_address(index);
        let mint = Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: WORKLOAD_MINT_EACH,
            min_out: Amount::ZERO,
        });
        driver.apply(user, mint).expect("workload mint succeeds");
        let stake = Action::Stake(Stake { assets: WORKLOAD_STAKE_EACH, min_shares: Amount::ZERO });
        driver.apply(user, stake).expect("workload stake succeeds");
    }
    driver.advance(1);
    driver
}

/// The transaction kinds the `apply` benchmarks measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// A USDai transfer between two random users.
    Transfer,
    /// Mint 1 USDai from USDC.
    Mint,
    /// Stake 1 USDai.
    Stake,
    /// Request redemption of 1 sUSDai.
    RequestRedeem,
    /// A mix: 60% transfer, 15% mint, 15% stake, 10% request.
    Mixed,
}

impl WorkloadKind {
    /// Every kind.
    pub const ALL: [WorkloadKind; 5] = [
        WorkloadKind::Transfer,
        WorkloadKind::Mint,
        WorkloadKind::Stake,
        WorkloadKind::RequestRedeem,
        WorkloadKind::Mixed,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Transfer => "transfer",
            WorkloadKind::Mint => "mint",
            WorkloadKind::Stake => "stake",
            WorkloadKind::RequestRedeem => "request_redeem",
            WorkloadKind::Mixed => "mixed",
        }
    }

    /// The next transaction of this kind among `accounts` users.
    pub fn next_transaction(self, rng: &mut Xorshift, accounts: u64) -> Transaction {
        let kind = match self {
            WorkloadKind::Mixed => match rng.below(100) {
                0..60 => WorkloadKind::Transfer,
                60..75 => WorkloadKind::Mint,
                75..90 => WorkloadKind::Stake,
                _ => WorkloadKind::RequestRedeem,
            },
            other => other,
        };
        let sender = user_address(rng.below(accounts));
        let one = Amount::from_whole(1);
        let action = match kind {
            WorkloadKind::Transfer => {
                let mut to = user_address(rng.below(accounts));
                if to == sender {
                    to = user_address(accounts); // A fresh address: still a valid transfer.
                }
                Action::Transfer(Transfer { asset: infrafi_core::Asset::Usdai, to, amount: one })
            }
            WorkloadKind::Mint => {
                Action::MintUsdai(MintUsdai { token: USDC, amount: one, min_out: Amount::ZERO })
            }
            WorkloadKind::Stake => Action::Stake(Stake { assets: one, min_shares: Amount::ZERO }),
            WorkloadKind::RequestRedeem | WorkloadKind::Mixed => {
                Action::RequestRedeem(RequestRedeem { shares: one })
            }
        };
        Transaction { sender, action }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_supply_cap_covers_every_users_mint_and_keeps_the_default_for_small_markets() {
        let default_cap = infrafi_core::Params::default().usdai_supply_cap;
        assert_eq!(workload_supply_cap(10_000, default_cap), default_cap);
        assert_eq!(workload_supply_cap(100_000, default_cap), default_cap);
        let million = workload_supply_cap(1_000_000, default_cap);
        assert_eq!(million, Amount::from_whole(100_000_000_000));
        assert!(million.0 >= WORKLOAD_MINT_EACH.0 * 1_000_000);
    }

    #[test]
    fn the_workload_market_sets_up_when_its_users_mint_more_than_the_cap_it_was_given() {
        // The million-account case at a size debug runs at once: a cap of 60,000 USDai is
        // below the 3 users' 150,000 of set-up mints, as 10 billion is below a million users'.
        let low_cap = |genesis: &mut Genesis| {
            genesis.params.usdai_supply_cap = Amount::from_whole(60_000);
        };
        let driver = workload_market_with(3, low_cap);
        let supply = driver.state.ledger.supply_of(infrafi_core::Asset::Usdai);
        assert_eq!(supply, Amount::from_whole(150_000));
        assert_eq!(
            driver.state.governance.params.get().usdai_supply_cap,
            Amount::from_whole(300_000)
        );
        for index in 0..3 {
            let user = user_address(index);
            let usdai = driver.state.ledger.balance(user, infrafi_core::Asset::Usdai);
            assert_eq!(usdai, Amount::from_whole(30_000), "minted 50,000 and staked 20,000");
        }
    }
}
