//! A redemption queue held at a steady size, for measuring servicing rounds: `n` one-share
//! requests queued and eligible (about one in ten with a bid), the vault's USDai lent out so a
//! round serves only the liquidity donated before it. [`QueuedMarket::prepare_round`] adds as
//! many new requests as the round will serve and donates the USDai to serve them; after the
//! round, [`QueuedMarket::claim_served`] lets the served owners claim, so the queue and the
//! stored requests stay about `n`. Shared by the criterion benchmark (`benches/qev.rs`) and
//! `infrafi bench rounds`; seeded, so two runs build byte-identical states.

use crate::{funded_market, user_address};
use infrafi_core::{
    Action, Address, Amount, BlockContext, Bps, Event, RequestId, State, Transaction, WAD,
    action::{Claim, DonateToVault, MintUsdai, RequestRedeem, ServiceQueue, SetBid, Stake},
    apply,
    ids::{Account, Asset, ProtocolAccount, USDC},
    queue::ROUND_REQUESTS_MAX,
    table::Journaled,
};

use crate::Xorshift;

/// Requests per user in the initial queue.
const REQUESTS_PER_USER: u64 = 1_000;
/// Shares held beyond the initial queue, across all users: the measured rounds burn what
/// they serve and the same number of new requests replaces them.
const SPARE_SHARES: u64 = 5_000_000;
/// USDai the donor mints to fund rounds.
const DONOR_USDAI: Amount = Amount::from_whole(1_000_000_000);

/// The account that donates each round's liquidity and sends the servicing transactions.
pub fn donor() -> Address {
    user_address(u64::MAX / 2)
}

/// A market whose queue stays at a given size while rounds serve it.
pub struct QueuedMarket {
    /// The state.
    pub state: State,
    /// The block every transaction runs in (time stands still: no notice period, no interval).
    pub block: BlockContext,
    users: u64,
    rng: Xorshift,
}

impl QueuedMarket {
    /// A market with `requests` one-share requests queued and eligible, one in `bid_one_in`
    /// with a random bid of 0.01 to 1.00 USDai per share (0: none), and the vault's USDai lent
    /// out.
    pub fn new(requests: u64, bid_one_in: u64) -> QueuedMarket {
        let users = requests.div_ceil(REQUESTS_PER_USER).max(10);
        let shares_each = Amount::from_whole(u128::from(REQUESTS_PER_USER + SPARE_SHARES / users));
        let usdc_each = shares_each.checked_add(Amount::from_whole(1_000)).expect("fits");
        let state = funded_market(users, usdc_each, |genesis| {
            genesis.params.notice_period_secs = 0;
            genesis.params.round_interval_secs = 0;
            genesis.params.liquidity_buffer_bps = Bps(0);
            genesis.params.max_active_requests = u32::MAX;
            genesis.stablecoin_balances.push((donor(), USDC, DONOR_USDAI));
        });
        let block = BlockContext { height: state.height() + 1, timestamp: state.now() + 1 };
        let mut market = QueuedMarket { state, block, users, rng: Xorshift::new(7) };
        let donor_mint = Action::MintUsdai(MintUsdai {
            token: USDC,
            amount: DONOR_USDAI,
            min_out: Amount::ZERO,
        });
        market.run(donor(), donor_mint);
        for index in 0..users {
            let user = user_address(index);
            let mint = Action::MintUsdai(MintUsdai {
                token: USDC,
                amount: usdc_each,
                min_out: Amount::ZERO,
            });
            market.run(user, mint);
            market
                .run(user, Action::Stake(Stake { assets: shares_each, min_shares: Amount::ZERO }));
        }
        lend_out_the_vault(&mut market.state);
        for _ in 0..requests {
            market.add_request(bid_one_in);
        }
        // Rounds with no liquidity move everything into the eligible order.
        while !market.state.queue.waiting.is_empty() {
            market.run(donor(), Action::ServiceQueue(ServiceQueue { max_requests: 1 }));
        }
        market
    }

    /// The number of users holding shares.
    pub fn users(&self) -> u64 {
        self.users
    }

    /// The generator that picks users and bids.
    pub fn rng(&mut self) -> &mut Xorshift {
        &mut self.rng
    }

    /// Applies `action` from `sender`; panics if it is rejected (the fixture's transactions
    /// are all valid).
    pub fn run(&mut self, sender: Address, action: Action) -> Vec<Event> {
        let tx = Transaction { sender, action };
        match apply(&mut self.state, &self.block, &tx) {
            Ok(events) => events,
            Err(error) => panic!("queued market: {:?} rejected: {error}", tx.action),
        }
    }

    /// The id the next request gets.
    pub fn next_id(&self) -> RequestId {
        RequestId(self.state.queue.globals.get().next_request_id)
    }

    /// A new one-share request from a random user, with a bid one time in `bid_one_in` (0:
    /// never).
    pub fn add_request(&mut self, bid_one_in: u64) {
        let user = user_address(self.rng.below(self.users));
        let id = self.next_id();
        self.run(user, Action::RequestRedeem(RequestRedeem { shares: Amount::from_whole(1) }));
        if bid_one_in > 0 && self.rng.below(bid_one_in) == 0 {
            let price_wad = (1 + u128::from(self.rng.below(100))) * WAD / 100;
            self.run(user, Action::SetBid(SetBid { request_id: id, price_wad }));
        }
    }

    /// Adds `requests` new requests (a bid one time in `bid_one_in`) and donates the USDai to
    /// serve about as many one-share requests; returns the servicing transaction, which serves
    /// everything the liquidity covers (a smaller limit would be refused as cutting it short).
    pub fn prepare_round(&mut self, requests: u32, bid_one_in: u64) -> Transaction {
        for _ in 0..requests {
            self.add_request(bid_one_in);
        }
        let amount = Amount::from_whole(u128::from(requests));
        self.run(donor(), Action::DonateToVault(DonateToVault { amount }));
        Transaction {
            sender: donor(),
            action: Action::ServiceQueue(ServiceQueue { max_requests: ROUND_REQUESTS_MAX }),
        }
    }

    /// The owners of the requests a round served in full claim, so the stored requests stay
    /// about the queue's size.
    pub fn claim_served(&mut self, events: &[Event]) {
        for event in events {
            if let Event::RedemptionServed { request_id, fully_served: true, .. } = *event {
                let owner = self.state.queue.requests.get(&request_id).map(|r| r.owner);
                let owner = owner.expect("a served request is stored until claimed");
                self.run(owner, Action::Claim(Claim { request_id }));
            }
        }
    }
}

/// The requests a round's events say it served (in full or in part).
pub fn requests_served(events: &[Event]) -> u32 {
    events
        .iter()
        .find_map(|event| match event {
            Event::QueueRoundServiced { record } => Some(record.requests_served),
            _ => None,
        })
        .unwrap_or(0)
}

/// Moves all idle vault USDai to a borrower against senior principal (the credit component's
/// job, done here by hand): NAV and the share price do not move.
fn lend_out_the_vault(state: &mut State) {
    let vault = (Account::Protocol(ProtocolAccount::Vault), Asset::Usdai);
    let idle = state.ledger.balance(ProtocolAccount::Vault, Asset::Usdai);
    state.ledger.balances.remove(&vault);
    let borrower = user_address(u64::MAX / 3);
    let mut holding = state.ledger.holdings.get(&borrower).cloned().unwrap_or_default();
    holding.usdai = idle;
    state.ledger.holdings.insert(borrower, holding);
    state.vault.globals.get_mut().senior.principal = idle;
    state.commit();
}
