//! The gateway's per-hour rate limits (issue 16): `mint_limit_per_hour` and
//! `redeem_limit_per_hour` bound the USDai that mints add and redemptions retire over any
//! sliding hour ([`FlowWindow`], a leaky bucket), and `rate_limit_account_share_bps` bounds one
//! account's share of each. A limit delays, it never confiscates; a refused flow changes nothing.

use super::ReserveError;
use crate::{
    error::TxError,
    ids::Address,
    math::{Amount, Bps, Overflow, Rounding},
    params::Params,
    state::State,
};
use serde::{Deserialize, Serialize};

/// The seconds a rate limit is measured over: limits are amounts per hour.
pub const RATE_LIMIT_PERIOD_SECS: u64 = 3_600;

/// One direction's use of its per-hour limit, as a leaky bucket: what passed is counted, and
/// the count drains at the limit's pace (the full limit per hour), so at any moment the USDai
/// that passed over the last hour is at most the limit, with no burst at an hour's edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowWindow {
    /// USDai counted against the limit at `updated_at`.
    pub used: Amount,
    /// When `used` was last counted.
    pub updated_at: u64,
}

impl FlowWindow {
    /// What is still counted at `now` against `limit_per_hour`: `used` less what drained
    /// since `updated_at`. The drain rounds down (the room returns no faster than the limit).
    pub fn used_at(&self, limit_per_hour: Amount, now: u64) -> Amount {
        let elapsed = u128::from(now.saturating_sub(self.updated_at));
        let period = u128::from(RATE_LIMIT_PERIOD_SECS);
        match limit_per_hour.mul_div(elapsed, period, Rounding::Down) {
            Ok(drained) => self.used.saturating_sub(drained),
            // A drain beyond the largest amount exceeds any count: all of it has drained
            // (exact, not a clamp).
            Err(Overflow) => Amount::ZERO,
        }
    }

    /// What may still pass at `now` (`None`: the limit is zero, no limit).
    pub fn room(&self, limit_per_hour: Amount, now: u64) -> Option<Amount> {
        (!limit_per_hour.is_zero())
            .then(|| limit_per_hour.saturating_sub(self.used_at(limit_per_hour, now)))
    }

    /// Counts `amount` passing at `now`, or refuses with `exceeded` and changes nothing. With
    /// no limit nothing is counted.
    fn count(
        &mut self,
        limit_per_hour: Amount,
        amount: Amount,
        now: u64,
        exceeded: ReserveError,
    ) -> Result<(), TxError> {
        if limit_per_hour.is_zero() {
            return Ok(());
        }
        let used = self.used_at(limit_per_hour, now).checked_add(amount)?;
        if used > limit_per_hour {
            return Err(exceeded.into());
        }
        *self = FlowWindow { used, updated_at: now };
        Ok(())
    }
}

/// The gateway's flows against their per-hour limits (the whole gateway's, or one account's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayFlows {
    /// USDai added to the supply by mints (fees included).
    pub minted: FlowWindow,
    /// USDai retired by redemptions (fees included).
    pub redeemed: FlowWindow,
}

/// Which way USDai passes the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayFlow {
    /// Stablecoin in, USDai minted.
    Mint,
    /// USDai burned, stablecoin out.
    Redeem,
}

impl GatewayFlows {
    /// The window counting `flow`.
    pub fn window(&self, flow: GatewayFlow) -> &FlowWindow {
        match flow {
            GatewayFlow::Mint => &self.minted,
            GatewayFlow::Redeem => &self.redeemed,
        }
    }

    fn window_mut(&mut self, flow: GatewayFlow) -> &mut FlowWindow {
        match flow {
            GatewayFlow::Mint => &mut self.minted,
            GatewayFlow::Redeem => &mut self.redeemed,
        }
    }
}

/// The per-hour limit of `flow` (zero: no limit).
pub fn rate_limit_per_hour(params: &Params, flow: GatewayFlow) -> Amount {
    match flow {
        GatewayFlow::Mint => params.mint_limit_per_hour,
        GatewayFlow::Redeem => params.redeem_limit_per_hour,
    }
}

/// One account's per-hour limit of `flow`: its share of the gateway's limit, rounded down but
/// at least one base unit (a limit of zero would mean none), or `None` when the gateway has no
/// limit or an account may use all of it.
pub fn account_rate_limit_per_hour(params: &Params, flow: GatewayFlow) -> Option<Amount> {
    let limit = rate_limit_per_hour(params, flow);
    let share = params.rate_limit_account_share_bps;
    if limit.is_zero() || share >= Bps::ONE {
        return None;
    }
    // A share of a limit is at most the limit: the product cannot overflow past it.
    let part = limit.mul_bps(share, Rounding::Down).unwrap_or(limit);
    Some(part.max(Amount(1)))
}

/// What `account` may pass of `flow` at `now`: the least of the gateway's room and the
/// account's own (`None`: no limit applies).
pub fn gateway_room(state: &State, account: Address, flow: GatewayFlow) -> Option<Amount> {
    let params = state.governance.params.get();
    let now = state.now();
    let whole =
        state.reserve.flows.get().window(flow).room(rate_limit_per_hour(params, flow), now)?;
    let own = account_rate_limit_per_hour(params, flow).map(|limit| {
        let mine = state.reserve.account_flows.get(&account).copied().unwrap_or_default();
        mine.window(flow).room(limit, now).unwrap_or(limit)
    });
    Some(own.map_or(whole, |own| own.min(whole)))
}

/// Counts `amount` of USDai passing the gateway as `flow` for `account` against the per-hour
/// limit and the account's share of it, or refuses with the limit it would exceed and changes
/// nothing. With no limit nothing is counted.
pub(super) fn count_gateway_flow(
    state: &mut State,
    account: Address,
    flow: GatewayFlow,
    amount: Amount,
) -> Result<(), TxError> {
    let params = state.governance.params.get();
    let limit = rate_limit_per_hour(params, flow);
    if limit.is_zero() {
        return Ok(());
    }
    let account_limit = account_rate_limit_per_hour(params, flow);
    let now = state.now();
    let (exceeded, account_exceeded) = match flow {
        GatewayFlow::Mint => {
            (ReserveError::MintRateLimitExceeded, ReserveError::MintAccountRateLimitExceeded)
        }
        GatewayFlow::Redeem => {
            (ReserveError::RedeemRateLimitExceeded, ReserveError::RedeemAccountRateLimitExceeded)
        }
    };
    let mut flows = *state.reserve.flows.get();
    flows.window_mut(flow).count(limit, amount, now, exceeded)?;
    if let Some(account_limit) = account_limit {
        let mut mine = state.reserve.account_flows.get(&account).copied().unwrap_or_default();
        mine.window_mut(flow).count(account_limit, amount, now, account_exceeded)?;
        state.reserve.account_flows.insert(account, mine);
    }
    *state.reserve.flows.get_mut() = flows;
    Ok(())
}
