//! Attested reserves and the secure mint (issue 16, item 1): worked examples and the attacks.
//!
//! The custodian's attestation is the outside fact; the ledger's TBILL is the protocol's own
//! record. While `reserve_attestation_required` is on, USDai is issued only against a fresh
//! attestation and within its value plus the tolerance; redemptions never wait for one.

use infrafi_core::{
    Action, Amount, Bps, ParameterChange, Rate, TxError,
    action::{
        HarvestBaseYield, MintUsdai, PostReserveAttestation, PostTbillRate, RedeemUsdai,
        SetParameter,
    },
    ids::{B256, USDC},
    invariants,
    reserve::{self, ReserveError},
};
use infrafi_testkit::market::*;

fn attestation(market_value: Amount, as_of: u64) -> Action {
    Action::PostReserveAttestation(PostReserveAttestation {
        // T-bills bought at a discount: par is above the market value.
        par_amount: plus(
            market_value,
            market_value.mul_bps(Bps(50), infrafi_core::Rounding::Down).expect("small amounts"),
        ),
        market_value,
        as_of,
        document_hash: B256::repeat_byte(0x5a),
    })
}

fn mint(amount: Amount) -> Action {
    Action::MintUsdai(MintUsdai { token: USDC, amount, min_out: Amount::ZERO })
}

fn redeem(amount: Amount) -> Action {
    Action::RedeemUsdai(RedeemUsdai { token: USDC, amount, min_out: Amount::ZERO })
}

/// A market that requires attestations (7 days, 1% tolerance) with 1,000 USDai attested.
fn attested_market() -> Market {
    let mut market = Market::with_params(|p| p.reserve_attestation_required = true);
    let now = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(1_000), now));
    market
}

#[test]
fn the_backing_ratio_is_the_attested_value_over_the_supply_beside_the_ledgers_own() {
    let mut market = attested_market();
    market.mint(ALICE, whole(800));
    let backing = reserve::attested_backing(&market.state).expect("attested");
    // 1,000 attested over 800 issued: 125.00%; the ledger's TBILL says exactly 100%.
    assert_eq!(backing.backing_bps, Some(12_500));
    assert_eq!(backing.issuance_bound, whole(1_010));
    assert_eq!(backing.mint_headroom, whole(210));
    assert_eq!(backing.age_secs, 0);
    assert!(!backing.is_stale);
    let ledger = reserve::backing(&market.state).expect("the reserve fits 128 bits");
    assert_eq!(reserve::ratio_bps(ledger.reserve_value, ledger.usdai_supply), Some(10_000));
    // A day later the attestation is a day old; at 7 days and one second it is stale.
    market.advance(DAY);
    market.begin_block();
    assert_eq!(reserve::attested_backing(&market.state).map(|b| b.age_secs), Some(DAY));
    market.advance(6 * DAY + 1);
    market.begin_block();
    let stale = reserve::attested_backing(&market.state).expect("attested");
    assert!(stale.is_stale);
    assert_eq!(stale.mint_headroom, Amount::ZERO);
}

#[test]
fn the_mint_fee_counts_against_the_attested_bound() {
    // A 1% fee is minted to the collector: the bound counts the gross USDai issued.
    let mut market = Market::with_params(|p| {
        p.reserve_attestation_required = true;
        p.mint_fee_bps = Bps(100);
    });
    let now = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(1_000), now));
    market.ok(ALICE, mint(whole(1_010)));
    assert_eq!(market.state.ledger.supply_of(infrafi_core::Asset::Usdai), whole(1_010));
    market.rejected(ALICE, mint(whole(1)), ReserveError::MintExceedsAttestedReserves);
}

#[test]
fn a_lower_attestation_shows_the_shortfall_stops_issuance_and_leaves_redemptions_open() {
    // The custodian reports that half the reserve is gone: the ratio shows it at once, no more
    // USDai is issued against the hole, and holders can still redeem what the ledger holds.
    let mut market = attested_market();
    market.mint(ALICE, whole(1_000));
    market.advance(HOUR);
    let now = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(500), now));
    let backing = reserve::attested_backing(&market.state).expect("attested");
    assert_eq!(backing.backing_bps, Some(5_000));
    assert_eq!(backing.mint_headroom, Amount::ZERO);
    market.rejected(BOB, mint(whole(1)), ReserveError::MintExceedsAttestedReserves);
    let before = market.stable(ALICE, USDC);
    market.ok(ALICE, redeem(whole(600)));
    assert_eq!(market.stable(ALICE, USDC), plus(before, whole(600)));
    // 400 left against 500 attested + 1%: 105 may be minted again, not 106.
    market.rejected(BOB, mint(whole(106)), ReserveError::MintExceedsAttestedReserves);
    market.ok(BOB, mint(whole(105)));
}

#[test]
fn a_stale_attestation_never_holds_back_a_redemption() {
    let mut market = attested_market();
    market.mint(ALICE, whole(1_000));
    market.advance(30 * DAY);
    market.refresh_prices();
    market.rejected(BOB, mint(whole(1)), ReserveError::ReserveAttestationIsStale);
    market.ok(ALICE, redeem(whole(1_000)));
    assert_eq!(market.usdai(ALICE), Amount::ZERO);
}

#[test]
fn attack_a_minter_cannot_split_mints_to_pass_the_attested_bound() {
    // Many small mints from several senders stop at the bound exactly as one large mint would.
    let mut market = attested_market();
    let step = whole(97);
    let mut accepted = Amount::ZERO;
    for round in 0..20 {
        let sender = USERS[round % USERS.len()];
        match market.try_apply(sender, mint(step)) {
            Ok(_) => accepted = plus(accepted, step),
            Err(error) => {
                assert_eq!(error, TxError::from(ReserveError::MintExceedsAttestedReserves));
            }
        }
    }
    assert_eq!(accepted, whole(970), "ten steps of 97 fit under 1,010, the eleventh does not");
    let rest = minus(whole(1_010), accepted);
    market.ok(ALICE, mint(rest));
    market.rejected(BOB, mint(whole(1)), ReserveError::MintExceedsAttestedReserves);
}

#[test]
fn attack_a_custodian_cannot_replace_a_newer_attestation_with_an_older_better_one() {
    // A custodian (or a stolen custodian key) that reported a loss cannot restore the old,
    // larger figure by posting it again as of its old time or as of the same time.
    let mut market = attested_market();
    let first = market.now();
    market.advance(DAY);
    let second = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(400), second));
    for as_of in [first, second] {
        market.rejected(
            RESERVE_CUSTODIAN,
            attestation(whole(1_000), as_of),
            ReserveError::AttestationIsNotNewer,
        );
    }
    assert_eq!(
        reserve::latest_attestation(&market.state).map(|a| a.market_value),
        Some(whole(400))
    );
    assert_eq!(market.state.reserve.attestations.len(), 2, "the history keeps both");
}

#[test]
fn attack_a_keeper_cannot_harvest_yield_the_custodian_has_not_attested() {
    // The ledger's T-bill index says the reserve earned 5%, but the custodian attests only
    // half of that surplus: the harvest mints the attested part, and nothing more after it.
    let mut market = attested_market();
    market.ok(ORACLE, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(500) }));
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    market.advance(365 * DAY / 12);
    market.refresh_prices();
    let ledger_surplus = reserve::backing(&market.state).expect("fits").surplus;
    assert!(ledger_surplus > whole(4), "{ledger_surplus}");
    let now = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(1_002), now));
    assert_eq!(reserve::harvestable(&market.state), Ok(whole(2)));
    market.ok(KEEPER, Action::HarvestBaseYield(HarvestBaseYield {}));
    assert_eq!(market.state.ledger.supply_of(infrafi_core::Asset::Usdai), whole(1_002));
    market.rejected(
        KEEPER,
        Action::HarvestBaseYield(HarvestBaseYield {}),
        ReserveError::AttestedSurplusIsZero,
    );
}

#[test]
fn requiring_attestations_waits_the_governance_delay() {
    // Turning the rule on narrows who may mint: it is scheduled, like a lower supply cap.
    let mut market = Market::new();
    let events = market.ok(
        ADMIN,
        Action::SetParameter(SetParameter {
            change: ParameterChange::ReserveAttestationRequired(true),
        }),
    );
    assert!(
        events.iter().any(|e| matches!(e, infrafi_core::Event::ParameterChangeScheduled { .. })),
        "{events:?}"
    );
    market.mint(ALICE, whole(1));
    market.advance(2 * DAY);
    market.begin_block();
    market.refresh_prices();
    assert!(market.state.governance.params.get().reserve_attestation_required);
    market.rejected(ALICE, mint(whole(1)), ReserveError::ReserveAttestationIsStale);
}

#[test]
fn attestations_survive_the_canonical_encoding_and_the_leaves() {
    let mut market = attested_market();
    market.advance(DAY);
    let now = market.now();
    market.ok(RESERVE_CUSTODIAN, attestation(whole(1_500), now));
    let decoded = infrafi_core::State::decode(&market.state.encode()).expect("decodes");
    assert_eq!(decoded.reserve.attestations, market.state.reserve.attestations);
    assert_eq!(decoded.state_hash(), market.state.state_hash());
    let leaves = market.state.leaves();
    let paths = leaves.iter().filter(|leaf| leaf.key.starts_with(b"reserve.attestations")).count();
    assert_eq!(paths, 2, "one leaf per attestation");
    invariants::check(&decoded).expect("the decoded state holds its invariants");
}
