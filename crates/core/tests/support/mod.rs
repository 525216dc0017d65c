//! A small market for the QEV tests: users with USDai and sUSDai at a share price of exactly
//! 1.0, a loan book standing in for the credit component, and an `apply` that checks every
//! SPEC 14 invariant after each accepted transaction and that a rejected one leaves the state
//! hash unchanged.
#![allow(dead_code)] // Each test file uses its own subset.

use infrafi_core::{
    Action, Address, Amount, Event, Params, State, TxError, WAD, apply,
    ids::{Account, Asset, B256, ProtocolAccount, RequestId, USDC},
    invariants, qev,
    queue::{RedemptionRequest, RoundRecord},
    table::Journaled,
    tx::Transaction,
};
use infrafi_testkit::{Driver, funded_market, user_address};

/// One whole token.
pub(crate) const fn whole(units: u128) -> Amount {
    Amount::from_whole(units)
}

/// A price per share in hundredths of a USDai (`cents(5)` = 0.05 USDai per share).
pub(crate) const fn cents(hundredths: u128) -> u128 {
    hundredths * WAD / 100
}

/// The address that borrows the vault's deployed USDai.
pub(crate) fn borrower() -> Address {
    user_address(9_999)
}

/// A market and its clock.
pub(crate) struct Market {
    pub(crate) driver: Driver,
}

impl Market {
    /// `users` users, each holding `usdai_each` USDai after staking `stake_each` (whole tokens)
    /// at a share price of 1.0; default parameters except no notice period and no liquidity
    /// buffer (so a round's liquidity is exactly the idle USDai), then `adjust`.
    pub(crate) fn new(
        users: u64,
        stake_each: u128,
        usdai_each: u128,
        adjust: impl FnOnce(&mut Params),
    ) -> Market {
        let mint = stake_each + usdai_each;
        let state = funded_market(users, whole(mint), |genesis| {
            genesis.params.notice_period_secs = 0;
            genesis.params.liquidity_buffer_bps = infrafi_core::Bps(0);
            adjust(&mut genesis.params);
        });
        let mut market = Market { driver: Driver::new(state) };
        for index in 0..users {
            let user = user_address(index);
            let action =
                Action::MintUsdai { token: USDC, amount: whole(mint), min_out: whole(mint) };
            market.ok(user, action);
            if stake_each > 0 {
                let stake =
                    Action::Stake { assets: whole(stake_each), min_shares: whole(stake_each) };
                market.ok(user, stake);
            }
        }
        market
    }

    /// The state.
    pub(crate) fn state(&self) -> &State {
        &self.driver.state
    }

    /// Applies `action` from `sender`: on success checks every invariant; on rejection checks
    /// that the state hash did not move.
    pub(crate) fn apply(&mut self, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
        let before = self.driver.state.state_hash();
        let tx = Transaction { sender, action };
        let result = apply(&mut self.driver.state, &self.driver.block, &tx);
        match &result {
            Ok(_) => {
                if let Err(broken) = invariants::check(&self.driver.state) {
                    panic!("invariant broken after {:?}: {broken}", tx.action.name());
                }
            }
            Err(_) => assert_eq!(self.driver.state.state_hash(), before, "a rejection moved state"),
        }
        result
    }

    /// Applies `action` and expects it to succeed.
    pub(crate) fn ok(&mut self, sender: Address, action: Action) -> Vec<Event> {
        let name = action.name();
        self.apply(sender, action).unwrap_or_else(|error| panic!("{name} rejected: {error}"))
    }

    /// Applies `action` and expects it to be rejected.
    pub(crate) fn err(&mut self, sender: Address, action: Action) -> TxError {
        let name = action.name();
        match self.apply(sender, action) {
            Ok(_) => panic!("{name} was accepted"),
            Err(error) => error,
        }
    }

    /// Moves the clock `seconds` forward (a new block).
    pub(crate) fn advance(&mut self, seconds: u64) {
        self.driver.advance(seconds);
        invariants::check(&self.driver.state).expect("invariants hold after a new block");
    }

    /// The time.
    pub(crate) fn now(&self) -> u64 {
        self.driver.state.now()
    }

    /// User `user` requests redemption of `shares`; returns the request id.
    pub(crate) fn request(&mut self, user: u64, shares: Amount) -> RequestId {
        let events = self.ok(user_address(user), Action::RequestRedeem { shares });
        events
            .iter()
            .find_map(|event| match event {
                Event::RedemptionRequested { request_id, .. } => Some(*request_id),
                _ => None,
            })
            .expect("a request event")
    }

    /// User `user` sets the bid on `id`.
    pub(crate) fn bid(&mut self, user: u64, id: RequestId, price_wad: u128) -> Vec<Event> {
        self.ok(user_address(user), Action::SetBid { request_id: id, price_wad })
    }

    /// A keeper runs a round; returns its record and events.
    pub(crate) fn round(&mut self) -> (RoundRecord, Vec<Event>) {
        let events = self.ok(user_address(9_998), Action::ServiceQueue { max_requests: 1_000 });
        let record = events
            .iter()
            .find_map(|event| match event {
                Event::QueueRoundServiced { record } => Some(record.clone()),
                _ => None,
            })
            .expect("a round event");
        (record, events)
    }

    /// A request.
    pub(crate) fn request_of(&self, id: RequestId) -> RedemptionRequest {
        self.state().queue.requests.get(&id).cloned().expect("request exists")
    }

    /// A user's USDai.
    pub(crate) fn usdai(&self, user: u64) -> Amount {
        self.state().ledger.balance(user_address(user), Asset::Usdai)
    }

    /// A protocol account's USDai.
    pub(crate) fn protocol_usdai(&self, account: ProtocolAccount) -> Amount {
        self.state().ledger.balance(Account::Protocol(account), Asset::Usdai)
    }

    /// Originates `amount` of senior loans: USDai leaves the vault for the borrower and the
    /// senior book records the principal, so NAV and the share price do not move. Stands in
    /// for the credit component until it lands (state edits, committed like a block).
    pub(crate) fn originate_loan(&mut self, amount: Amount) {
        let state = &mut self.driver.state;
        let vault = (Account::Protocol(ProtocolAccount::Vault), Asset::Usdai);
        let idle = state.ledger.balance(ProtocolAccount::Vault, Asset::Usdai);
        let left = idle.checked_sub(amount).expect("the vault holds enough idle USDai");
        if left.is_zero() {
            state.ledger.balances.remove(&vault);
        } else {
            state.ledger.balances.insert(vault, left);
        }
        let mut holding = state.ledger.holdings.get(&borrower()).cloned().unwrap_or_default();
        holding.usdai = holding.usdai.checked_add(amount).expect("fits");
        state.ledger.holdings.insert(borrower(), holding);
        let senior = &mut state.vault.globals.get_mut().senior;
        senior.principal = senior.principal.checked_add(amount).expect("fits");
        state.commit();
        invariants::check(state).expect("invariants hold after an origination");
    }

    /// The borrower repays `principal` plus `interest` into the vault (a donation of both, and
    /// the senior book's principal falls by `principal`): idle USDai rises, NAV rises by the
    /// interest only. The borrower must hold the USDai (send it the interest first).
    pub(crate) fn repay_loan(&mut self, principal: Amount, interest: Amount) {
        let total = principal.checked_add(interest).expect("fits");
        self.ok(borrower(), Action::DonateToVault { amount: total });
        let state = &mut self.driver.state;
        let senior = &mut state.vault.globals.get_mut().senior;
        senior.principal = senior.principal.checked_sub(principal).expect("principal outstanding");
        state.commit();
        invariants::check(state).expect("invariants hold after a repayment");
    }

    /// The commitment for a sealed bid.
    pub(crate) fn commitment(id: RequestId, price_wad: u128, salt: B256) -> B256 {
        qev::sealed_bid_commitment(id, price_wad, salt)
    }
}

/// The events of one kind.
pub(crate) fn fees_charged(events: &[Event]) -> Vec<(RequestId, u128, Amount, Amount)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::PriorityFeeCharged {
                request_id,
                clearing_price_wad,
                fee,
                escrow_released,
                ..
            } => Some((*request_id, *clearing_price_wad, *fee, *escrow_released)),
            _ => None,
        })
        .collect()
}

/// Requests served in a round's events, in order, with shares.
pub(crate) fn served(events: &[Event]) -> Vec<(RequestId, Amount, bool)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::RedemptionServed { request_id, shares, fully_served, .. } => {
                Some((*request_id, *shares, *fully_served))
            }
            _ => None,
        })
        .collect()
}
