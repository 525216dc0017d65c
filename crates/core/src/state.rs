//! The whole protocol state, its genesis, its journal and its canonical hash.
//!
//! Guarantees: [`State`] is every component's state and nothing else (no cache, no interior
//! mutability; its transient fields, the transaction's events and a round's empty working
//! lists, are not state), declared once with `table::component!`, so commit and rollback
//! cover every field. Its canonical encoding is postcard over the components in declaration order, maps
//! in key order; [`State::state_hash`] is its keccak-256, so equal states hash equally on every
//! machine. [`STATE_FORMAT`] names the encoding: a node refuses a stored state of another
//! format instead of misreading it. A genesis is checked before it becomes a state
//! ([`State::from_genesis`]).

use crate::{
    event::Event,
    governance::GovernanceState,
    ids::{Address, Asset, Symbol},
    ledger::{self, LedgerState},
    loans::LoansState,
    math::{Amount, Rate, WAD},
    params::{Params, Role},
    points::{self, PointsState},
    queue::QueueState,
    receipts::ReceiptsState,
    reserve::{ReserveState, Stablecoin, TbillIndex},
    silos::SilosState,
    table::{Journaled, Slot, component},
    vault::VaultState,
};
use alloy_primitives::{B256, keccak256};
use serde::{Deserialize, Serialize};

/// Block height and time: the only clock a state transition reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// The height of the block being (or last) executed.
    pub height: u64,
    /// Its timestamp in unix seconds.
    pub timestamp: u64,
}

/// The version of the canonical state encoding. A stored state of another version does not
/// decode into this build's types (postcard is not self-describing), so the node refuses it
/// with a clear error instead. Bump it whenever a stored type's encoding changes.
///
/// 1: the first encoding. 2: `PointsGlobals::share_price_stale` (the lazy points sample). 3: the same
/// encoding, but a servicing round can no longer be cut short by its sender's limit (issue 11),
/// so a stored chain holding such a round would replay to another state. 4:
/// `SeniorAccrual::net_share_e8` (senior interest accrues net of fees, issue 11). 5: reserve
/// attestations (`ReserveState::attestations` and `next_attestation_id`, three
/// `reserve_attestation_*` parameters, the `reserve_custodian` role; issue 16). 6: the table
/// `silos.capital_owners` (first-loss capital stays with whoever posted it, issue 11). 7:
/// borrower covenants (`loans.covenants`; a loan's covenants, debt-service reserve, last report
/// and breach; `ProtocolAccount::DebtServiceReserve`; issue 16). 8: the same state encoding, but
/// a receipt's error is `{code: <snake_case name>, number, message}` (it was `{code: <number>,
/// name, message}`; issue 12: `code` means the name everywhere), which moves every stored
/// rejected receipt and its block's receipts root. 9: the same state encoding
/// (`MarginCallReason::PaymentMissed` appended), but a re-mark after a missed deadline opens a
/// margin call and optimistic NAV counts vesting yield (issue 11), so a stored chain replays to
/// another state. 10: the same state encoding, but `post_price`'s field and the
/// `price_posted` event's are `price_wad` (were `price`; issue 12: a price says its unit), so a
/// stored block or receipt holding them no longer decodes (actions refuse unknown fields). 11:
/// the same state encoding (postcard does not name fields), but times say their unit last
/// (issue 12): `margin_call_opened`'s and `loan_breached`'s `cure_deadline` are
/// `cure_deadline_at`, so a stored receipt holding them no longer decodes; the state's
/// `cure_deadline`, the vault's `vesting_start`/`vesting_end`, a request's wait-fee
/// `vesting_from`/`vesting_until`/`vested_at_from` and the auction's `fee_time_origin` were
/// renamed with them.
/// 12: gateway rate limits (the slot `reserve.flows`, the table `reserve.account_flows`, the
/// parameters `mint_limit_per_hour`, `redeem_limit_per_hour` and
/// `rate_limit_account_share_bps`; issue 16). 13: held sale reports (the table
/// `loans.held_sales`, `ProtocolAccount::HeldSales`, the `sale_held` and `held_sale_decided`
/// events; issue 11): a sale report with a cost above the recovery cost model waits for the
/// admin.
/// 14: queued deposits (the table `reserve.queued_deposits`, the slot
/// `reserve.next_queued_deposit_id`, `ProtocolAccount::DepositQueue`; issue 16).
/// 15: hardware presence (the table `receipts.presence`, `AssetClass::presence`,
/// `Role::Monitor`; issue 16).
/// 16: the sale deadline (`Loan::sale_deadline_at`, the `loan_foreclosed` event's
/// `sale_deadline_at`), `ReceiptStatus::WrittenOff` and the `receipt_written_off` event
/// (issue 11): a liquidation agent is replaced after its deadline, a receipt nobody sold is
/// written off.
/// 17: residual-value insurance and the recovery ledger (`Policy::floor_value`, the table
/// `loans.residual_claims`, `Recovery`'s costs by kind, insurance and exposure; issue 16).
/// 18: rental-index marks (the tables `receipts.income_terms` and `receipts.rental_indices`,
/// the `income_terms_set` and `rental_index_posted` events; issue 16).
pub const STATE_FORMAT: u64 = 18;

component! {
    /// Everything the protocol knows.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct State {
        /// Height and time.
        pub clock: Slot<Clock>,
        /// Balances, supplies, freezes, KYC, nonces.
        pub ledger: LedgerState,
        /// Roles, parameters, pauses.
        pub governance: GovernanceState,
        /// USDai reserve, prices, gateway.
        pub reserve: ReserveState,
        /// The sUSDai vault.
        pub vault: VaultState,
        /// The redemption queue.
        pub queue: QueueState,
        /// Points.
        pub points: PointsState,
        /// CALIBER receipts and asset classes.
        pub receipts: ReceiptsState,
        /// Curator silos.
        pub silos: SilosState,
        /// Loans.
        pub loans: LoansState,
        ; transient:
        /// Events of the transaction being executed (not part of the state; `rollback` leaves
        /// them to the caller, which drops them with the transaction).
        #[serde(skip)]
        pub(crate) events: Vec<Event>,
        /// A servicing round's working lists, kept so that rounds after the first allocate
        /// none (not part of the state: empty between transactions, see
        /// [`crate::queue::RoundScratch`]).
        #[serde(skip)]
        pub(crate) round_scratch: crate::queue::RoundScratch,
    }
}

/// Where a market starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Genesis {
    /// Its timestamp.
    pub timestamp: u64,
    /// Parameters.
    pub params: Params,
    /// Role holders.
    pub roles: Vec<(Role, Address)>,
    /// Supported stablecoins with their opening prices in USD, 18-decimal fixed point (posted at
    /// genesis time).
    pub stablecoins: Vec<(Symbol, u128)>,
    /// The opening T-bill yield rate.
    pub tbill_rate: Rate,
    /// Opening stablecoin balances, as if credited by the gateway.
    pub stablecoin_balances: Vec<(Address, Symbol, Amount)>,
}

impl Genesis {
    /// A market with default parameters, one admin, USDC and USDT at par, no T-bill yield.
    pub fn with_admin(admin: Address, timestamp: u64) -> Genesis {
        Genesis {
            timestamp,
            params: Params::default(),
            roles: vec![(Role::Admin, admin)],
            stablecoins: vec![(crate::ids::USDC, WAD), (crate::ids::USDT, WAD)],
            tbill_rate: Rate(0),
            stablecoin_balances: Vec::new(),
        }
    }
}

/// Why a genesis is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenesisError(pub String);

impl std::fmt::Display for GenesisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid genesis: {}", self.0)
    }
}

impl std::error::Error for GenesisError {}

impl State {
    /// The state a genesis describes.
    pub fn from_genesis(genesis: &Genesis) -> Result<State, GenesisError> {
        let mut state = State::default();
        *state.clock.get_mut() = Clock { height: 0, timestamp: genesis.timestamp };
        *state.governance.params.get_mut() = genesis.params.clone();
        if !genesis.roles.iter().any(|(role, _)| *role == Role::Admin) {
            return Err(GenesisError("at least one admin is required".into()));
        }
        // As for `grant_role`: a role nobody's key controls would count without acting.
        if genesis.roles.iter().any(|(_, address)| address.is_zero()) {
            return Err(GenesisError("a role cannot be held by the zero address".into()));
        }
        for &(role, address) in &genesis.roles {
            state.governance.roles.insert((role, address), ());
        }
        for &(symbol, price_wad) in &genesis.stablecoins {
            if price_wad == 0 || price_wad > crate::reserve::PRICE_MAX {
                return Err(GenesisError(format!("price of {symbol} out of range")));
            }
            let stablecoin = Stablecoin { price_wad, price_posted_at: genesis.timestamp };
            state.reserve.stablecoins.insert(symbol, stablecoin);
        }
        // As for `post_tbill_rate`: the cap keeps the index's arithmetic in range.
        if genesis.tbill_rate.0 > crate::reserve::tbill_rate_max(genesis.params.max_tbill_apr_bps) {
            return Err(GenesisError("the T-bill rate is above max_tbill_apr_bps".into()));
        }
        *state.reserve.tbill.get_mut() = TbillIndex {
            index_at_update: WAD,
            rate_per_second: genesis.tbill_rate,
            updated_at: genesis.timestamp,
        };
        state.points.globals.get_mut().updated_at = genesis.timestamp;
        points::sample_share_price(&mut state);
        for &(address, symbol, amount) in &genesis.stablecoin_balances {
            if !state.reserve.stablecoins.contains_key(&symbol) {
                return Err(GenesisError(format!("balance in unsupported stablecoin {symbol}")));
            }
            ledger::mint(&mut state, Asset::Stablecoin(symbol), address, amount)
                .map_err(|e| GenesisError(format!("balance of {address}: {e}")))?;
        }
        state.events.clear();
        state.commit();
        Ok(state)
    }

    /// The state's time (the timestamp of the last block applied).
    pub fn now(&self) -> u64 {
        self.clock.get().timestamp
    }

    /// The height of the last block applied.
    pub fn height(&self) -> u64 {
        self.clock.get().height
    }

    /// Records an event of the transaction being executed.
    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The canonical encoding: the same state gives the same bytes on every machine.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("state encoding cannot fail: every type is plain data")
    }

    /// Decodes a canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<State, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// The keccak-256 digest of the canonical encoding.
    pub fn state_hash(&self) -> B256 {
        keccak256(self.encode())
    }
}
