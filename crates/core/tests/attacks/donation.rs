//! ERC-4626 donation on a nearly drained vault (issue 9; the empty vault is
//! `tests/inflation_attack.rs`).
//!
//! After a run the vault can be left with almost no shares: its holders have redeemed and the
//! attacker holds the last unit. A donation then makes each share unit worth a fortune, and the
//! next depositor's shares round down, to the remaining holder's profit. The virtual offset
//! (V = V' = 10^9) counts 10^9 shares that never leave, so the attacker's one unit owns a
//! billionth of its own donation; the victim's rounding loss is below one inflated share unit,
//! q = (NAV + V') / (supply + V), a billionth of the donation, and the attacker loses nearly all
//! of it.

use crate::common::{ALICE, BOB, DAVE, Market, plus, whole};
use infrafi_core::{
    Action, Amount,
    action::DonateToVault,
    vault::{VIRTUAL_ASSETS, VIRTUAL_SHARES},
};

const ATTACKER: infrafi_core::Address = DAVE;
const VICTIM: infrafi_core::Address = BOB;

/// Attack: Alice, the vault's only real holder, has left through the queue; the attacker holds
/// the last share unit. It donates 900,000 USDai, then the victim stakes 100,000. Both leave.
/// The victim loses less than one inflated share unit (about 0.0009 USDai); the attacker gets
/// back a billionth of its donation and loses the rest, far more than the victim lost.
#[test]
fn a_donation_into_a_nearly_drained_vault_takes_almost_nothing_from_the_next_depositor() {
    let mut market = Market::builder()
        .staked(ALICE, whole(1_000))
        .staked(ATTACKER, Amount(1))
        .holding(ATTACKER, whole(900_000))
        .holding(VICTIM, whole(100_000))
        .build();
    assert_eq!(market.leave(ALICE), whole(1_000), "Alice leaves with what she put in");
    let nav = market.nav();
    assert_eq!(nav.share_supply, Amount(1), "the vault is drained to the attacker's unit");
    let attacker_in = plus(whole(900_000), Amount(1));
    market.ok(ATTACKER, Action::DonateToVault(DonateToVault { amount: whole(900_000) }));
    let nav = market.nav();
    // One share unit's price after the donation, rounded up.
    let q = (nav.conservative.0 + VIRTUAL_ASSETS).div_ceil(nav.share_supply.0 + VIRTUAL_SHARES);
    assert!(q > 800_000_000_000_000 && q < 1_000_000_000_000_000, "about 0.0009 USDai: {q}");
    market.stake(VICTIM, whole(100_000));
    let victim_out = market.leave(VICTIM);
    let victim_loss = whole(100_000).checked_sub(victim_out).expect("no gain").0;
    assert!(victim_loss <= q + 1, "the victim lost {victim_loss}, at most one share unit {q}");
    let attacker_out = market.leave(ATTACKER);
    let attacker_loss = attacker_in.checked_sub(attacker_out).expect("the attacker gains nothing");
    // Its unit owns 1 / (1 + V) of the donation: it loses all but a billionth of it.
    assert!(attacker_loss.0 > whole(899_998).0, "the attacker lost {attacker_loss:?}");
    assert!(attacker_loss.0 > victim_loss, "the attack costs the attacker more than the victim");
}
