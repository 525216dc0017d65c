//! infrafi-core: the pure, deterministic protocol state machine of infrafi.
//!
//! Nothing here performs I/O, reads a clock, spawns a thread or touches the network: the node
//! feeds it blocks and transactions, and it answers with events or a result code. The same
//! genesis and transactions give the same state and the same [`State::state_hash`] everywhere.
//!
//! Entry points: [`State::from_genesis`], [`begin_block`], [`apply`]. Components, each with its
//! state, actions, result codes and invariants side by side: [`ledger`], [`governance`],
//! [`reserve`] (USDai), [`vault`] (sUSDai), [`queue`], [`qev`] (the queue's auction, wait-fees
//! and tradable positions, with [`estimate`] for service-time queries), [`points`], and credit:
//! [`receipts`] (CALIBER, with [`rental_index`] marks), [`silos`] (FiLo curators), [`loans`], with the [`schedule`] calculator.

pub mod action;
pub mod chunked_keys;
pub mod dense_table;
pub mod error;
pub mod estimate;
pub mod event;
pub mod fenwick;
pub mod governance;
pub mod ids;
pub mod invariants;
pub mod key_set;
pub mod leaves;
pub mod ledger;
pub mod loans;
pub mod math;
pub mod params;
pub mod points;
pub mod qev;
pub mod queue;
pub mod receipts;
pub mod rental_index;
pub mod reserve;
pub mod schedule;
pub mod silos;
pub mod state;
pub mod table;
pub mod tx;
pub mod vault;

pub use action::{Action, ActionHandler};
pub use error::TxError;
pub use event::Event;
pub use ids::{
    Account, Address, Asset, AssetClassId, LoanId, ProtocolAccount, ReceiptId, RequestId, SiloId,
    Symbol,
};
pub use math::{Amount, Bps, Rate, Rounding, WAD};
pub use params::{ParameterChange, Params, Role};
pub use state::{Genesis, STATE_FORMAT, State};
pub use tx::{BlockContext, Transaction, apply, apply_into, begin_block};
