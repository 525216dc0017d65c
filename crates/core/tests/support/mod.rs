//! A small market for the QEV tests: users with USDai and sUSDai at a share price of exactly
//! 1.0, real loans from a curator's silo standing for the credit the vault has deployed, and
//! an `apply` that checks every SPEC 14 invariant after each transaction and that a rejected
//! one leaves the state hash unchanged.
//!
//! It is a thin layer over the one market fixture (`infrafi_testkit::market`): the
//! same role holders, the same credit helpers (a silo with first-loss capital, an insured and
//! appraised receipt, a loan proposed by the curator and accepted by [`BORROWER`]), every step
//! an ordinary transaction through `apply`. What it adds is users by index
//! ([`user_address`]), the QEV actions, and loans sized for queue tests.
#![allow(dead_code)] // Each test file uses its own subset.

/// The one market fixture (the attack suite reaches it through here).
pub(crate) use infrafi_testkit::market as common;

#[allow(unused_imports)] // Each test file uses its own subset.
pub(crate) use common::{BORROWER, COMPLIANCE, ORACLE};

use infrafi_core::{
    Action, Address, Amount, Bps, Event, LoanId, Params, Rate, State, TxError, WAD,
    action::{MintUsdai, PrepayLoan, RequestRedeem, ServiceQueue, SetBid, Stake},
    ids::{Account, Asset, B256, ProtocolAccount, ReceiptId, RequestId, USDC},
    loans::{Loan, LoanTerms, TrancheTerms},
    math::Rounding,
    qev,
    queue::{RedemptionRequest, RoundRecord},
    schedule::InterestModel,
};
use infrafi_testkit::market::DAY;
use infrafi_testkit::market::user_address;

/// One whole token.
pub(crate) const fn whole(units: u128) -> Amount {
    Amount::from_whole(units)
}

/// A price per share in hundredths of a USDai (`cents(5)` = 0.05 USDai per share).
pub(crate) const fn cents(hundredths: u128) -> u128 {
    hundredths * WAD / 100
}

/// The address that borrows the vault's deployed USDai: the shared fixture's borrower.
pub(crate) fn borrower() -> Address {
    BORROWER
}

/// How long a [`Market::originate_loan`] loan runs: one payment a year after origination,
/// longer than any test here, so it can be prepaid at any time (a prepayment waits for no
/// missed payment) and never falls due.
pub(crate) const BULLET_TERM_SECS: u64 = 365 * DAY;

/// A market and its clock.
pub(crate) struct Market {
    inner: common::Market,
    /// The loan, once originated.
    loan: Option<LoanId>,
}

impl Market {
    /// `users` users, each holding `usdai_each` USDai after staking `stake_each` (whole tokens)
    /// at a share price of 1.0; default parameters except no notice period, no liquidity
    /// buffer (so a round's liquidity is exactly the idle USDai) and no cap on the share of
    /// the vault lent out (the tests lend up to all of it), then `adjust`. The role holders,
    /// the curator's USDC, the genesis stablecoins and the genesis time are the fixture's.
    pub(crate) fn new(
        users: u64,
        stake_each: u128,
        usdai_each: u128,
        adjust: impl FnOnce(&mut Params),
    ) -> Market {
        let mint = stake_each + usdai_each;
        let mut genesis = common::genesis();
        genesis.params.notice_period_secs = 0;
        genesis.params.liquidity_buffer_bps = Bps(0);
        genesis.params.max_deployed_bps = Bps(10_000);
        adjust(&mut genesis.params);
        for index in 0..users {
            genesis.stablecoin_balances.push((user_address(index), USDC, whole(mint)));
        }
        let mut market = Market { inner: common::Market::from_genesis(&genesis), loan: None };
        for index in 0..users {
            let user = user_address(index);
            let action = Action::MintUsdai(MintUsdai {
                token: USDC,
                amount: whole(mint),
                min_out: whole(mint),
            });
            market.ok(user, action);
            if stake_each > 0 {
                let stake = Action::Stake(Stake {
                    assets: whole(stake_each),
                    min_shares: whole(stake_each),
                });
                market.ok(user, stake);
            }
        }
        market
    }

    /// The state.
    pub(crate) fn state(&self) -> &State {
        &self.inner.state
    }

    /// Applies `action` from `sender`: whatever the outcome every invariant must hold, and a
    /// rejection must leave the state hash unchanged.
    pub(crate) fn apply(&mut self, sender: Address, action: Action) -> Result<Vec<Event>, TxError> {
        self.inner.try_apply(sender, action)
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

    /// Moves the clock `seconds` forward: a new block, whose upkeep runs at once so reads see
    /// the new time.
    pub(crate) fn advance(&mut self, seconds: u64) {
        self.inner.advance(seconds);
        self.inner.begin_block();
    }

    /// The time.
    pub(crate) fn now(&self) -> u64 {
        self.inner.state.now()
    }

    /// User `user` requests redemption of `shares`; returns the request id.
    pub(crate) fn request(&mut self, user: u64, shares: Amount) -> RequestId {
        let events = self.ok(user_address(user), Action::RequestRedeem(RequestRedeem { shares }));
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
        self.ok(user_address(user), Action::SetBid(SetBid { request_id: id, price_wad }))
    }

    /// A keeper runs a round; returns its record and events.
    pub(crate) fn round(&mut self) -> (RoundRecord, Vec<Event>) {
        let events = self
            .ok(user_address(9_998), Action::ServiceQueue(ServiceQueue { max_requests: 1_000 }));
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

    // -----------------------------------------------------------------------------------------
    // Credit: real loans through `apply`.

    /// Originates a real senior loan of `amount` to [`BORROWER`] that moves nothing but
    /// principal: interest-free, no origination or exit fee, one payment of the whole balance
    /// [`BULLET_TERM_SECS`] after origination. USDai leaves the vault's idle balance for the
    /// borrower and the senior book records `amount` of principal, so NAV and the share price
    /// do not move; each [`Market::prepay_loan`] brings back exactly the principal it repays.
    pub(crate) fn originate_loan(&mut self, amount: Amount) -> LoanId {
        self.originate_with(amount, |receipt_id, now| LoanTerms {
            borrower: BORROWER,
            receipts: vec![receipt_id],
            senior: TrancheTerms { amount, rate: Rate(0) },
            junior: TrancheTerms::default(),
            model: InterestModel::FixedPrincipal,
            periods: Some(1),
            interval_secs: Some(BULLET_TERM_SECS),
            grace_period_secs: 15 * DAY,
            grace_rate: Rate(0),
            origination_fee_bps: Bps(0),
            exit_fee_bps: Bps(0),
            expires_at: now + 7 * DAY,
        })
    }

    /// Originates a real loan of `senior` to [`BORROWER`] on the terms `terms(receipt, now)`
    /// give (senior-only, the borrower must be [`BORROWER`]), through the shared fixture: the
    /// curator opens a silo lending against GPUs with exactly the minimum first-loss capital
    /// for it (`min_first_loss_bps` of `senior`, rounded up, minted from the curator's USDC)
    /// and a senior cap of `senior`; the custodian issues the borrower a receipt appraised and
    /// insured at twice `senior` (LTV 50%, under the silo's 70%), for as many GPUs at $30,000
    /// as that value needs; the curator proposes and the borrower accepts. One loan per market.
    pub(crate) fn originate_with(
        &mut self,
        senior: Amount,
        terms: impl FnOnce(ReceiptId, u64) -> LoanTerms,
    ) -> LoanId {
        assert!(self.loan.is_none(), "the QEV market holds one loan");
        let bps = self.state().governance.params.get().min_first_loss_bps;
        let first_loss = senior.mul_bps(bps, Rounding::Up).expect("fits");
        let silo = self.inner.open_silo(first_loss, senior);
        let appraisal = senior.checked_add(senior).expect("fits");
        let per_unit = common::gpu_terms().new_price_per_unit;
        let units = appraisal.0.div_ceil(per_unit.0).max(1);
        let units = u32::try_from(units).expect("a receipt of at most u32::MAX GPUs");
        let receipt = self.inner.issue_receipt(BORROWER, units, appraisal);
        let terms = terms(receipt, self.now());
        assert_eq!((terms.borrower, terms.senior.amount), (BORROWER, senior));
        let loan = self.inner.originate(silo, terms);
        self.loan = Some(loan);
        loan
    }

    /// The market's loan.
    pub(crate) fn loan(&self) -> Loan {
        self.inner.loan(self.loan_id())
    }

    /// The market's loan's id.
    pub(crate) fn loan_id(&self) -> LoanId {
        self.loan.expect("a loan was originated")
    }

    /// The borrower prepays `principal` of the market's loan (`PrepayLoan`, at most
    /// `principal` in all). On an [`Market::originate_loan`] loan the interest on it is zero
    /// and there is no exit fee, so exactly `principal` USDai reaches the vault's idle
    /// balance and the senior book falls by as much: the liquidity of the next round rises by
    /// `principal`, NAV and the share price do not move. The borrower pays from the USDai it
    /// borrowed.
    pub(crate) fn prepay_loan(&mut self, principal: Amount) -> Vec<Event> {
        let loan_id = self.loan_id();
        let idle = self.protocol_usdai(ProtocolAccount::Vault);
        let events = self.ok(
            BORROWER,
            Action::PrepayLoan(PrepayLoan { loan_id, principal, max_amount: principal }),
        );
        let arrived = self.protocol_usdai(ProtocolAccount::Vault).checked_sub(idle);
        assert_eq!(arrived, Ok(principal), "a prepayment brings back exactly its principal");
        events
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
