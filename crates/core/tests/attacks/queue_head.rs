//! Nothing at the head of the queue blocks the rest (issue 9; a 2025 exploit of another
//! redemption queue stalled it behind one request that could not be paid).
//!
//! The requests at the head are the ones a round serves first. If the round had to push USDai
//! to their owners, a frozen owner (whose transfers are refused) or a request worth less than
//! one unit of USDai would stop the round, and every holder behind would wait for ever. A round
//! only moves USDai into `RedemptionClaims` and credits the request; owners pull with `claim`
//! later, a frozen owner when it is unfrozen, and a request whose shares are worth nothing is
//! served for nothing and dropped.

use crate::support::{COMPLIANCE, Market, whole};
use infrafi_core::{
    Action, Amount,
    action::{Claim, Freeze, Unfreeze},
    ledger::LedgerError,
};
use infrafi_testkit::user_address;

const FROZEN: u64 = 0;
const DUST: u64 = 1;
const HONEST: u64 = 2;

/// Attack: the two oldest requests are a holder that compliance then freezes and a holder that
/// asks for one unit of a share (allowed: the minimum is set to one unit), the smallest request
/// there can be. The round serves both and the honest holder behind them in the same round;
/// the honest holder is paid in full at once; the frozen holder's USDai waits in the claims
/// account until it is unfrozen, and is then paid exactly its due.
#[test]
fn neither_a_frozen_owner_nor_a_dust_request_at_the_head_blocks_the_requests_behind() {
    let mut market = Market::new(3, 100, 0, |params| params.min_redeem_shares = Amount(1));
    let frozen = market.request(FROZEN, whole(100));
    let dust = market.request(DUST, Amount(1));
    let honest = market.request(HONEST, whole(100));
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: user_address(FROZEN) }));
    let (record, _) = market.round();
    assert_eq!(record.requests_served, 3, "the round went past the head");
    for id in [frozen, dust, honest] {
        assert!(!market.request_of(id).is_active(), "request {id} was served");
    }
    market.ok(user_address(HONEST), Action::Claim(Claim { request_id: honest }));
    assert_eq!(market.usdai(HONEST), whole(100), "the holder behind is paid in full");
    market.ok(user_address(DUST), Action::Claim(Claim { request_id: dust }));
    assert_eq!(market.usdai(DUST), Amount(1), "one share unit at 1.0 is one USDai unit");
    // The frozen owner cannot pull while frozen, and its USDai is not lost.
    let refused = market.err(user_address(FROZEN), Action::Claim(Claim { request_id: frozen }));
    assert!(
        refused == LedgerError::RecipientIsFrozen.into()
            || refused == LedgerError::SenderIsFrozen.into(),
        "{refused}"
    );
    assert_eq!(market.request_of(frozen).claimable, whole(100));
    market.ok(COMPLIANCE, Action::Unfreeze(Unfreeze { account: user_address(FROZEN) }));
    market.ok(user_address(FROZEN), Action::Claim(Claim { request_id: frozen }));
    assert_eq!(market.usdai(FROZEN), whole(100));
}
