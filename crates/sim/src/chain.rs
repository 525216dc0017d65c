//! A thin driver over the real state machine: one block per simulated day, transactions sent
//! through [`infrafi_core::apply`] by whoever would send them (an oracle, a keeper, a
//! borrower...). There is no other way for the simulator to change the state.
//!
//! External money enters as a real user would bring it: the gateway attestor credits USDC (a
//! fresh external id each time) and the user mints USDai; money leaves by `redeem_usdai`.

use crate::SimError;
use infrafi_core::{
    Action, Address, Amount, Asset, BlockContext, Event, State, Transaction, TxError, WAD,
    action::{GatewayCredit, MintUsdai, PostPrice, RedeemUsdai},
    apply_into, begin_block,
    ids::USDC,
};

/// Who holds each protocol role in a simulated market.
#[derive(Clone, Debug)]
pub struct Actors {
    /// Admin.
    pub admin: Address,
    /// Oracle (T-bill rate, stablecoin prices).
    pub oracle: Address,
    /// Custodian of every receipt.
    pub custodian: Address,
    /// Appraiser.
    pub appraiser: Address,
    /// Insurer.
    pub insurer: Address,
    /// Liquidation agent.
    pub liquidation_agent: Address,
    /// Gateway attestor (credits incoming USDC).
    pub attestor: Address,
    /// The servicer's lockbox: collects borrowers' rental revenue and pays their loans.
    pub lockbox: Address,
    /// A keeper (remarks, harvests, servicing rounds, default triggers).
    pub keeper: Address,
}

/// A simulated address: `kind` in the first byte, `index` in the last eight.
pub fn address(kind: u8, index: u64) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = 0x51; // "S"imulator
    bytes[1] = kind;
    bytes[12..].copy_from_slice(&index.to_be_bytes());
    Address::from(bytes)
}

/// Address kinds.
pub mod kind {
    /// Role holders (index: the role).
    pub const ROLE: u8 = 1;
    /// Curators (index: the silo).
    pub const CURATOR: u8 = 2;
    /// Borrowers (index: the loan).
    pub const BORROWER: u8 = 3;
    /// Holders of sUSDai (index: the cohort).
    pub const HOLDER: u8 = 4;
}

impl Actors {
    /// The simulator's standard role holders.
    pub fn standard() -> Actors {
        let role = |index| address(kind::ROLE, index);
        Actors {
            admin: role(1),
            oracle: role(2),
            custodian: role(3),
            appraiser: role(4),
            insurer: role(5),
            liquidation_agent: role(6),
            attestor: role(7),
            lockbox: role(8),
            keeper: role(9),
        }
    }
}

/// The state and its clock, with the helpers every actor uses.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The protocol state.
    pub state: State,
    /// The block being filled.
    pub block: BlockContext,
    /// Role holders.
    pub actors: Actors,
    /// The next gateway external id.
    pub next_external_id: u64,
    /// Transactions applied (accepted or not).
    pub transactions: u64,
    /// The events of the last accepted transaction.
    events: Vec<Event>,
}

impl Chain {
    /// A chain over `state`, whose next block is at `state.now()`.
    pub fn new(state: State, actors: Actors, next_external_id: u64) -> Chain {
        let block = BlockContext { height: state.height(), timestamp: state.now() };
        Chain { state, block, actors, next_external_id, transactions: 0, events: Vec::new() }
    }

    /// The time of the current block.
    pub fn now(&self) -> u64 {
        self.block.timestamp
    }

    /// Opens the block at `timestamp` (a no-op if it is the current one) and runs its upkeep.
    pub fn at(&mut self, timestamp: u64) -> Result<(), SimError> {
        if timestamp == self.block.timestamp && self.state.now() == timestamp {
            return Ok(());
        }
        assert!(timestamp >= self.block.timestamp, "simulated time must not go backwards");
        self.block = BlockContext { height: self.block.height + 1, timestamp };
        begin_block(&mut self.state, &self.block).map_err(|error| SimError::Rejected {
            action: "begin_block",
            at: timestamp,
            error,
        })?;
        Ok(())
    }

    /// Applies `action` from `sender` and returns its events; a rejection is returned as it
    /// is. The events live in a buffer the chain reuses (a path applies tens of thousands of
    /// transactions, and most callers never look at the events).
    pub fn try_apply(&mut self, sender: Address, action: Action) -> Result<&[Event], TxError> {
        self.transactions += 1;
        apply_into(
            &mut self.state,
            &self.block,
            &Transaction { sender, action },
            &mut self.events,
        )?;
        Ok(&self.events)
    }

    /// Applies `action` from `sender`; a rejection is a simulator error (the simulator only
    /// sends what the protocol should accept).
    pub fn apply(&mut self, sender: Address, action: Action) -> Result<&[Event], SimError> {
        let name = action.name();
        let at = self.block.timestamp;
        self.try_apply(sender, action).map_err(|error| SimError::Rejected {
            action: name,
            at,
            error,
        })
    }

    /// Posts the USDC price if it is older than half its maximum age (minting needs it fresh).
    fn refresh_price(&mut self) -> Result<(), SimError> {
        let max_age = self.state.governance.params.get().max_price_age_secs;
        let posted =
            self.state.reserve.stablecoins.get(&USDC).map_or(0, |coin| coin.price_posted_at);
        if self.now().saturating_sub(posted) > max_age / 2 {
            let oracle = self.actors.oracle;
            self.apply(oracle, Action::PostPrice(PostPrice { token: USDC, price_wad: WAD }))?;
        }
        Ok(())
    }

    /// Brings `account`'s USDai balance to at least `amount`: the attestor credits the missing
    /// USDC (plus a few units of minting dust) and the account mints USDai with it.
    pub fn fund_usdai(&mut self, account: Address, amount: Amount) -> Result<(), SimError> {
        let balance = self.state.ledger.balance(account, Asset::Usdai);
        if balance >= amount {
            return Ok(());
        }
        // Minting floors twice (TBILL units, then USDai): at most ~2 units lost; 16 covers it.
        let missing = Amount(amount.0 - balance.0 + 16);
        self.refresh_price()?;
        let external_id = infrafi_core::ids::B256::from(alloy_u256(self.next_external_id));
        self.next_external_id += 1;
        let attestor = self.actors.attestor;
        self.apply(
            attestor,
            Action::GatewayCredit(GatewayCredit {
                account,
                token: USDC,
                amount: missing,
                external_id,
            }),
        )?;
        self.apply(
            account,
            Action::MintUsdai(MintUsdai { token: USDC, amount: missing, min_out: Amount::ZERO }),
        )?;
        debug_assert!(self.state.ledger.balance(account, Asset::Usdai) >= amount);
        Ok(())
    }

    /// `account` redeems all its USDai for USDC (money leaving the protocol).
    pub fn redeem_all_usdai(&mut self, account: Address) -> Result<(), SimError> {
        let balance = self.state.ledger.balance(account, Asset::Usdai);
        if balance.is_zero() {
            return Ok(());
        }
        self.apply(
            account,
            Action::RedeemUsdai(RedeemUsdai {
                token: USDC,
                amount: balance,
                min_out: Amount::ZERO,
            }),
        )?;
        Ok(())
    }
}

fn alloy_u256(value: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[0] = 0x51;
    bytes[24..].copy_from_slice(&value.to_be_bytes());
    bytes
}
