//! Worked examples, one per kind of transaction, with every expected number derived by hand in
//! the comments (18-decimal units: 1 token = 10^18 units; V = VIRTUAL_SHARES = VIRTUAL_ASSETS =
//! 10^9). Every transaction goes through the `Market` fixture, which checks the SPEC 14
//! invariants after each one and that rejections leave the state hash unchanged.

mod governance;
mod usdai;
mod vault;

use alloy_primitives::U256;
use infrafi_core::{
    Action, Amount, Asset, Bps, Event, LoanId, ParameterChange, ProtocolAccount, Rate, TxError,
    WAD,
    action::{
        AcceptLoan, CancelRedeem, Claim, DonateToVault, Freeze, GatewayConfirm, GatewayCredit,
        GatewayReject, GatewayWithdraw, HarvestBaseYield, MintShares, MintUsdai, PostPrice,
        PostTbillRate, PrepayLoan, ProposeLoan, RedeemUsdai, RequestRedeem, ServiceQueue,
        SetParameter, SetPause, Stake, Transfer, Unfreeze,
    },
    governance::GovernanceError,
    ids::{B256, PayoutId, USDC, USDT},
    ledger::LedgerError,
    loans::LoanError,
    params::PauseScope,
    points,
    queue::{QueueError, round_liquidity},
    reserve::{self, PayoutStatus, ReserveError},
};
use infrafi_testkit::market::*;

const V: u128 = 1_000_000_000;

fn stake_shares(events: &[Event]) -> Amount {
    events
        .iter()
        .find_map(|event| match event {
            Event::Staked { shares, .. } => Some(*shares),
            _ => None,
        })
        .expect("a stake happened")
}
