//! The first-depositor inflation attack (SPEC 6): the attacker stakes 1 unit into the empty
//! vault, donates a large amount D so that one share is worth a fortune, and hopes the victim's
//! deposit rounds down to (almost) no shares, leaving the victim's money to the attacker.
//!
//! The defence is the virtual offset: every conversion counts V = VIRTUAL_SHARES = 10^9 extra
//! shares and V' = VIRTUAL_ASSETS = 10^9 extra assets. After the attack the share price is
//! q = (D + 1 + V') / (1 + V) units of USDai per share unit, about D / 10^9.
//!
//! Bound on the victim's loss, for a deposit of A >= q: the victim gets s = floor(A / q) >=
//! A / q - 1 shares, and no conversion lowers the price (each rounds in the vault's favour), so
//! redeeming s shares pays at least floor(s * q) >= A - q - 1. The loss is below q + 1 units:
//! to take even one USDai from the victim the attacker must donate about 10^9 USDai, nearly all
//! of which it loses: its one share unit owns 1 / (1 + V) of the donation, the virtual shares
//! own the rest, and they never leave the vault. A deposit A < q buys no share at all and is
//! rejected (`shares_round_to_zero`), so it is never silently swallowed.
//!
//! What the attack does achieve: share units become so expensive that the victim's holding is
//! far below `min_redeem_shares` (1 sUSDai). That used to lock the victim in until the admin
//! lowered the minimum; now a holder may always request its *whole* balance whatever its size,
//! so the victim leaves without anyone's help (the tests check that its below-minimum request
//! is accepted, and that a below-minimum *part* of a balance is still refused).

use infrafi_core::{
    Action, Amount, TxError,
    action::{Claim, DonateToVault, GatewayCredit, RequestRedeem, ServiceQueue, Stake},
    queue::QueueError,
    vault::{VIRTUAL_ASSETS, VIRTUAL_SHARES, VaultError},
};
use infrafi_testkit::market::*;
use proptest::prelude::*;

const ATTACKER: infrafi_core::Address = DAVE;
const VICTIM: infrafi_core::Address = ALICE;

/// What the attack leaves: what the victim got back and what the attacker can still redeem.
struct Outcome {
    victim_redeemed: Amount,
    attacker_redeemed: Amount,
    /// Whether the victim's whole-balance request was below the minimum (and accepted anyway).
    victim_below_minimum: bool,
}

/// Runs the attack with a donation of `donation` and a victim deposit of `deposit`, then both
/// leave through the queue (request, notice period, round, claim). `None` if the victim's
/// stake is rejected because it buys no share.
fn attack(donation: Amount, deposit: Amount) -> Option<Outcome> {
    let mut market = Market::new();
    for (who, amount, id) in [(ATTACKER, plus(donation, Amount(1)), 1), (VICTIM, deposit, 2)] {
        let external_id = infrafi_core::ids::B256::repeat_byte(id);
        let token = infrafi_core::ids::USDC;
        market.ok(
            ATTESTOR,
            Action::GatewayCredit(GatewayCredit { account: who, token, amount, external_id }),
        );
        market.mint(who, amount);
    }
    market.stake(ATTACKER, Amount(1));
    assert_eq!(market.susdai(ATTACKER), Amount(1), "the first unit buys one share unit");
    market.ok(ATTACKER, Action::DonateToVault(DonateToVault { amount: donation }));
    let stake = Action::Stake(Stake { assets: deposit, min_shares: Amount::ZERO });
    match market.try_apply(VICTIM, stake) {
        Ok(_) => {}
        Err(error) => {
            assert_eq!(error, TxError::from(VaultError::SharesRoundToZero));
            assert_eq!(market.usdai(VICTIM), deposit, "a rejected stake keeps the deposit");
            return None;
        }
    }
    let victim_shares = market.susdai(VICTIM);
    let victim_below_minimum = victim_shares < ONE;
    if victim_below_minimum && victim_shares > Amount(1) {
        // A part of the balance below the minimum is still refused: the exemption is for the
        // whole balance only.
        market.rejected(
            VICTIM,
            Action::RequestRedeem(RequestRedeem { shares: Amount(victim_shares.0 - 1) }),
            QueueError::SharesBelowMinimumRedeem,
        );
    }
    // Both leave with their whole balances, below the minimum, without governance stepping in.
    let victim_request = Market::request_id(
        &market.ok(VICTIM, Action::RequestRedeem(RequestRedeem { shares: victim_shares })),
    );
    let attacker_request = Market::request_id(
        &market.ok(ATTACKER, Action::RequestRedeem(RequestRedeem { shares: Amount(1) })),
    );
    market.advance(7 * DAY);
    market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    market.ok(VICTIM, Action::Claim(Claim { request_id: victim_request }));
    assert_eq!(market.susdai(VICTIM), Amount::ZERO);
    // The attacker's unit may be worth less than one USDai unit after rounding: then there is
    // nothing to claim and it has redeemed nothing.
    let attacker_redeemed =
        match market.try_apply(ATTACKER, Action::Claim(Claim { request_id: attacker_request })) {
            Ok(_) => market.usdai(ATTACKER),
            Err(_) => Amount::ZERO,
        };
    Some(Outcome { victim_redeemed: market.usdai(VICTIM), attacker_redeemed, victim_below_minimum })
}

/// The price of a share unit after the attack, rounded up: q = ceil((D + 1 + V') / (1 + V)).
fn share_price_after_attack(donation: Amount) -> u128 {
    (donation.0 + 1 + VIRTUAL_ASSETS).div_ceil(1 + VIRTUAL_SHARES)
}

#[test]
fn a_donation_before_the_first_deposit_does_not_steal_from_the_second_depositor() {
    // D = 1,000,000 USDai, A = 1,000,000 USDai.
    // q = (10^24 + 1 + 10^9) / (1 + 10^9) = 999,999,999,000,001 units (~0.001 USDai).
    // The victim gets s = floor(10^24 * (1 + 10^9) / (10^24 + 1 + 10^9)) = 1,000,000,000
    // shares; NAV becomes 2 * 10^24 + 1 over 1,000,000,001 shares, so the victim redeems
    // floor(10^9 * (2 * 10^24 + 1 + 10^9) / (10^9 + 1 + 10^9))
    // = 999,999,999,500,000,500,250,000: a loss of 499,999,499,750,000 units (0.0005 USDai,
    // 5 parts in 10^10), inside the bound q + 1.
    let donation = whole(1_000_000);
    let deposit = whole(1_000_000);
    let outcome = attack(donation, deposit).expect("the deposit buys shares");
    assert_eq!(outcome.victim_redeemed, Amount(999_999_999_500_000_500_250_000));
    let loss = deposit.0 - outcome.victim_redeemed.0;
    assert_eq!(loss, 499_999_499_750_000);
    assert!(loss <= share_price_after_attack(donation) + 1);
    // The attacker's share unit is redeemable for floor((2 * 10^24 + 1 + 10^9) /
    // (10^9 + 1 + 10^9)) = 999,999,999,500,000 units, against 10^24 + 1 put in.
    assert_eq!(outcome.attacker_redeemed, Amount(999_999_999_500_000));
    // The victim's 10^9 share units (10^-9 sUSDai) were below the 1 sUSDai minimum, and its
    // whole-balance request was accepted all the same.
    assert!(outcome.victim_below_minimum);
}

#[test]
fn a_deposit_smaller_than_one_inflated_share_is_rejected_rather_than_swallowed() {
    // q ~ 0.001 USDai: a deposit of 0.0001 USDai buys floor(10^14 / q) = 0 shares.
    assert!(attack(whole(1_000_000), Amount(100_000_000_000_000)).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn the_victim_loses_less_than_one_inflated_share_and_the_attacker_always_loses(
        donation_units in 1u128..=1_000_000_000 * 1_000_000_000_000_000_000,
        deposit_units in 1_000_000_000_000u128..=1_000_000 * 1_000_000_000_000_000_000,
    ) {
        let (donation, deposit) = (Amount(donation_units), Amount(deposit_units));
        let price = share_price_after_attack(donation);
        match attack(donation, deposit) {
            None => prop_assert!(deposit.0 < price, "a deposit of at least q must buy shares"),
            Some(outcome) => {
                prop_assert!(outcome.victim_redeemed <= deposit, "the victim gained");
                let loss = deposit.0 - outcome.victim_redeemed.0;
                prop_assert!(loss <= price + 1, "loss {} above the bound {}", loss, price + 1);
                prop_assert!(
                    outcome.attacker_redeemed.0 < donation.0 + 1,
                    "the attacker recovered {} of {}",
                    outcome.attacker_redeemed,
                    Amount(donation.0 + 1)
                );
            }
        }
    }
}
