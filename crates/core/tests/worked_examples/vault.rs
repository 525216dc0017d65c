//! Worked examples of the vault: a senior loan's two NAVs, the redemption queue and points
//! (SPEC 6, 9.6, 11, 12).

use super::*;

// ---------------------------------------------------------------------------------------------
// A senior loan in the vault: two NAVs (SPEC 6, 9.6).

#[test]
fn redemption_price_falls_below_deposit_price_with_accrued_interest_and_impairment() {
    let mut market = Market::new();
    market.mint(ALICE, whole(100_000));
    market.stake(ALICE, whole(100_000));
    market.mint(BOB, whole(10_000));
    // The curator's silo holds 12,840 of first-loss capital (at least 10% of the 60,000 senior
    // exposure below, as origination requires) and no junior tranche is drawn from it.
    let silo = market.open_silo(whole(12_840), whole(60_000));
    // Four GPUs appraised (and insured) at 120,000; 60,000 lent against them is an LTV of 50%,
    // under the silo's 70%. The vault may lend it: 60,000 <= 90% of NAV (100,000) and it keeps
    // 40,000 idle, above the 5% buffer (5,000).
    let receipt = market.issue_receipt(BORROWER, 4, whole(120_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(60_000), 1_500, market.now()));
    assert_eq!(market.vault_usdai(), whole(40_000));
    // 60,000 at 15% APR: rate 4,756,468,797 per second (see math.rs), so interest per second,
    // scaled by 1e18, = 60,000e18 * 4,756,468,797 = 285,388,127,820,000e18.
    assert_eq!(
        market.senior().interest_per_second_wad,
        U256::from(285_388_127_820_000u128) * U256::from(WAD)
    );
    market.advance(30 * DAY);
    market.begin_block();
    // 30 days: accrued = 285,388,127,820,000 * 2,592,000 = 739,726,027,309,440,000,000
    // = 739.72602730944 USDai. The first payment is due now: the loan is on time.
    let accrued = 739_726_027_309_440_000_000u128;
    assert_eq!(market.nav().senior_accrued_interest, Amount(accrued));
    // The appraisal halves to 60,000 and a keeper re-marks: LTV = 60,000 / 60,000 = 100%,
    // above the silo's 80%, so the loan enters margin call and is carried impaired. Expected
    // net recovery of 60,000 of GPUs: less the 30% ITAD commission (18,000) = 42,000, less
    // the 2% liquidation fee (840) = 41,160. Uncovered senior principal = 60,000 - 41,160
    // = 18,840; the silo's free pool absorbs 12,840 of it, so the vault's impairment is 6,000.
    market.revalue_and_remark(receipt, whole(60_000));
    assert!(market.loan(loan).margin_call.is_some());
    assert_eq!(market.loan(loan).senior_uncovered, whole(18_840));
    assert_eq!(market.silo(silo).impairment, whole(6_000));
    // Conservative NAV = 40,000 idle + 60,000 - 6,000 = 94,000; optimistic NAV = 40,000
    // + 60,000 + 739.72602730944 = 100,739.72602730944.
    let nav = market.nav();
    let optimistic = 100_739_726_027_309_440_000_000u128;
    let conservative = 94_000 * WAD;
    let supply = 100_000 * WAD;
    assert_eq!(nav.senior_impairment, whole(6_000));
    assert_eq!(nav.optimistic, Amount(optimistic));
    assert_eq!(nav.conservative, Amount(conservative));
    // Deposit price = ceil(1e18 * (O + V) / (S + V)) = 1,007,397,260,273,094,327 (~1.0074);
    // redemption price = floor(1e18 * (94,000e18 + V) / (100,000e18 + V))
    // = 940,000,000,000,000,599 (0.94, plus 0.06 * V / S * 1e18 = 599.99... from the virtual
    // pair, which is valued at 1.0).
    assert_eq!(nav.deposit_price_wad(), 1_007_397_260_273_094_327);
    assert_eq!(nav.redemption_price_wad(), 940_000_000_000_000_599);
    assert!(nav.redemption_price_wad() < nav.deposit_price_wad());

    // Bob stakes 10,000 at the deposit price: shares = floor(10,000e18 * (S + V) / (O + V))
    // = 9,926.570573846021677061.
    let shares = stake_shares(&market.stake(BOB, whole(10_000)));
    assert_eq!(shares, Amount(9_926_570_573_846_021_677_061));
    assert_eq!(shares.0, floor_mul_div(10_000 * WAD, supply + V, optimistic + V));
    // He can leave only at the redemption price: conservative NAV is now 104,000 over
    // 109,926.57... shares: floor(shares * (104,000e18 + V) / (S + shares + V))
    // = 9,391.390400799140463309. He does not take out interest that was never paid.
    let expected = floor_mul_div(shares.0, 104_000 * WAD + V, supply + shares.0 + V);
    assert_eq!(expected, 9_391_390_400_799_140_463_309);
    let events = market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares }));
    let request_id = Market::request_id(&events);
    market.advance(7 * DAY);
    // A week later the loan is a week late (inside its 15 days of grace) and still in margin
    // call (its cure window runs 14 days): more interest accrued, but conservative NAV ignores
    // it and the impairment is unchanged, so the payout is the same.
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert!(market.nav().senior_accrued_interest > Amount(accrued));
    assert_eq!(market.nav().senior_impairment, whole(6_000));
    assert_eq!(record.served_assets, Amount(expected));
    market.ok(BOB, Action::Claim(Claim { request_id }));
    assert_eq!(market.usdai(BOB), Amount(expected));
}

// ---------------------------------------------------------------------------------------------
// The redemption queue (SPEC 6, 11).

#[test]
fn a_request_waits_the_notice_period_then_is_served_and_claimed() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    let events = market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(400) }));
    let request_id = Market::request_id(&events);
    let created_at = market.now();
    assert!(events.contains(&Event::RedemptionRequested {
        request_id,
        owner: ALICE,
        shares: whole(400),
        eligible_at: created_at + 7 * DAY,
    }));
    // Locked shares leave Alice's balance but stay in supply.
    assert_eq!(market.susdai(ALICE), whole(600));
    assert_eq!(market.nav().share_supply, whole(1_000));
    // Six days in, a round serves nothing: the request is still in its notice period.
    market.advance(6 * DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.requests_served, record.served_shares), (0, Amount::ZERO));
    market.rejected(ALICE, Action::Claim(Claim { request_id }), QueueError::NothingToClaim);
    // One second before the next round may run.
    market.advance(DAY - 1);
    market.rejected(
        KEEPER,
        Action::ServiceQueue(ServiceQueue { max_requests: 10 }),
        QueueError::RoundIntervalNotElapsed,
    );
    // At created_at + 7 days the notice period has ended and a day has passed since the last
    // round. Price is exactly 1 ((1,000e18 + V) / (1,000e18 + V)): 400 shares pay 400 USDai.
    // Liquidity = 1,000 idle - 5% of the 600 unqueued shares' value = 1,000 - 30 = 970.
    market.advance(1);
    assert_eq!(market.now(), created_at + 7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!(record.liquidity, whole(970));
    assert_eq!((record.served_shares, record.served_assets), (whole(400), whole(400)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id,
        shares: whole(400),
        assets: whole(400),
        fully_served: true,
    }));
    assert_eq!(market.nav().share_supply, whole(600));
    assert_eq!(market.usdai(ProtocolAccount::RedemptionClaims), whole(400));
    market.rejected(
        ALICE,
        Action::CancelRedeem(CancelRedeem { request_id }),
        QueueError::RequestAlreadyServed,
    );
    market.rejected(BOB, Action::Claim(Claim { request_id }), QueueError::SenderIsNotRequestOwner);
    market.ok(ALICE, Action::Claim(Claim { request_id }));
    assert_eq!(market.usdai(ALICE), whole(400));
    assert!(market.state.queue.requests.get(&request_id).is_none());
    market.rejected(ALICE, Action::Claim(Claim { request_id }), QueueError::RequestNotFound);
}

#[test]
fn a_round_fills_the_first_request_partially_when_liquidity_is_short_and_keeps_fifo_order() {
    let mut market = Market::new();
    for user in [ALICE, BOB] {
        market.mint(user, whole(1_000));
        market.stake(user, whole(1_000));
    }
    // 1,500 of the 2,000 is lent out, interest-free so that the price stays exactly 1: 500
    // idle, conservative NAV still 500 + 1,500 = 2,000. (The vault may lend it: 1,500 <= 90% of
    // 2,000, and the 500 left is above the 5% buffer, 100. The silo's pool holds the 150 that
    // 10% first-loss on 1,500 requires; the receipt is appraised at 3,000: LTV 50%.)
    let silo = market.open_silo(whole(150), whole(1_500));
    let receipt = market.issue_receipt(BORROWER, 1, whole(3_000));
    let loan = market.originate(silo, senior_loan(receipt, whole(1_500), 0, market.now()));
    assert_eq!((market.vault_usdai(), market.nav().conservative), (whole(500), whole(2_000)));
    let alice_request = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) })),
    );
    let bob_request = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(200) })),
    );
    market.advance(7 * DAY);
    // Unqueued shares: 2,000 - 1,200 = 800, worth ceil(2,000 * 800 / 2,000) = 800; buffer =
    // 5% = 40; liquidity = 500 - 40 = 460. Alice, first in line, wants 1,000 and gets 460
    // shares for 460 USDai; Bob, behind her, gets nothing this round.
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!(record.liquidity, whole(460));
    assert_eq!((record.requests_served, record.served_assets), (1, whole(460)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id: alice_request,
        shares: whole(460),
        assets: whole(460),
        fully_served: false,
    }));
    market.ok(ALICE, Action::Claim(Claim { request_id: alice_request }));
    assert_eq!(market.usdai(ALICE), whole(460));
    let alice = market.state.queue.requests.get(&alice_request).cloned().expect("still active");
    assert_eq!(alice.shares_remaining, whole(540));
    // The borrower prepays 600 of principal (at 0% no interest is due on it), all of it to the
    // senior tranche and so to the vault: idle 40 + 600 = 640, principal 900, conservative NAV
    // 1,540 over 1,540 shares; unqueued 800 shares -> buffer 40; liquidity 600: Alice's
    // remaining 540 in full, then 60 of Bob's 200.
    market.ok(
        BORROWER,
        Action::PrepayLoan(PrepayLoan {
            loan_id: loan,
            principal: whole(600),
            max_amount: whole(600),
        }),
    );
    assert_eq!((market.vault_usdai(), market.loan(loan).balance), (whole(640), whole(900)));
    market.advance(DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!(record.liquidity, whole(600));
    assert_eq!((record.requests_served, record.served_shares), (2, whole(600)));
    let bob = market.state.queue.requests.get(&bob_request).cloned().expect("still active");
    assert_eq!((bob.shares_remaining, bob.claimable), (whole(140), whole(60)));
    // Bob cancels the rest: 140 shares come back, the 60 USDai stay claimable.
    market.ok(BOB, Action::CancelRedeem(CancelRedeem { request_id: bob_request }));
    assert_eq!(market.susdai(BOB), whole(800 + 140));
    market.ok(BOB, Action::Claim(Claim { request_id: bob_request }));
    assert_eq!(market.usdai(BOB), whole(60));
}

#[test]
fn the_liquidity_buffer_covers_only_the_value_of_unqueued_shares() {
    let mut market = Market::new();
    market.mint(ALICE, whole(1_000));
    market.stake(ALICE, whole(1_000));
    market.mint(BOB, whole(3_000));
    market.stake(BOB, whole(3_000));
    market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) }));
    market.advance(7 * DAY);
    // Unqueued: Bob's 3,000 shares worth 3,000; buffer 5% = 150; liquidity 4,000 - 150.
    market.begin_block();
    assert_eq!(round_liquidity(&market.state), Ok(whole(3_850)));
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.liquidity, record.served_assets), (whole(3_850), whole(1_000)));

    // The vault lends as much as it may, interest-free so that the price stays exactly 1: 90%
    // of its NAV of 3,000 = 2,700 (the 300 left is above the 5% buffer of 150); one unit more
    // is refused. The silo's pool holds 300 (10% first-loss on 2,700 needs 270); the receipt
    // is appraised at 6,000: LTV 45%.
    let silo = market.open_silo(whole(300), whole(3_000));
    let receipt = market.issue_receipt(BORROWER, 1, whole(6_000));
    let too_much = senior_loan(receipt, plus(whole(2_700), Amount(1)), 0, market.now());
    let loan_id = LoanId(*market.state.loans.next_loan_id.get());
    market.ok(CURATOR, Action::ProposeLoan(ProposeLoan { silo_id: silo, terms: too_much }));
    market.rejected(
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id }),
        LoanError::VaultMaxDeployedExceeded,
    );
    market.originate(silo, senior_loan(receipt, whole(2_700), 0, market.now()));
    assert_eq!((market.vault_usdai(), market.nav().conservative), (whole(300), whole(3_000)));
    // Bob queues 1,000 of his 3,000 shares: the other 2,000 are worth 2,000, so the buffer is
    // 5% of 2,000 = 100 and the round's liquidity is 300 - 100 = 200 (a buffer on all 3,000
    // shares would have left only 150). Bob's request is served 200 shares for 200 USDai.
    let first = Market::request_id(
        &market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(1_000) })),
    );
    market.advance(7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!((record.liquidity, record.served_assets), (whole(200), whole(200)));
    assert!(events.contains(&Event::RedemptionServed {
        request_id: first,
        shares: whole(200),
        assets: whole(200),
        fully_served: false,
    }));

    // When every share is queued nothing is left to protect: the buffer is 0 and the whole
    // 100 idle USDai is paid out (100 shares at price 1: conservative NAV 100 + 2,700 = 2,800
    // over 2,800 shares).
    market.ok(BOB, Action::CancelRedeem(CancelRedeem { request_id: first }));
    assert_eq!(market.susdai(BOB), whole(2_800));
    market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(2_800) }));
    market.advance(7 * DAY);
    let record =
        round_record(&market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 })));
    assert_eq!((record.liquidity, record.served_assets), (whole(100), whole(100)));
    assert_eq!(market.vault_usdai(), Amount::ZERO);
}

#[test]
fn a_notice_period_change_never_lengthens_an_existing_request() {
    let mut market = Market::new();
    market.mint(ALICE, whole(100));
    market.stake(ALICE, whole(100));
    let request_id = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    let created_at = market.now();
    // A longer notice period reduces users' rights: it waits 2 days, then applies.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::NoticePeriodSecs(30 * DAY) }),
    );
    market.advance(2 * DAY);
    market.begin_block();
    assert_eq!(market.state.governance.params.get().notice_period_secs, 30 * DAY);
    let later = Market::request_id(
        &market.ok(ALICE, Action::RequestRedeem(RequestRedeem { shares: whole(10) })),
    );
    market.advance(5 * DAY);
    assert_eq!(market.now(), created_at + 7 * DAY);
    let events = market.ok(KEEPER, Action::ServiceQueue(ServiceQueue { max_requests: 10 }));
    let record = round_record(&events);
    assert_eq!((record.requests_served, record.served_shares), (1, whole(10)));
    let request = market.state.queue.requests.get(&request_id).cloned().expect("claimable");
    assert_eq!(request.claimable, whole(10));
    let later = market.state.queue.requests.get(&later).cloned().expect("waiting");
    assert_eq!(later.eligible_at, created_at + 2 * DAY + 30 * DAY);
}

// ---------------------------------------------------------------------------------------------
// Points (SPEC 12).

#[test]
fn points_after_a_week_count_usdai_five_times_and_unlocked_susdai_twice_at_the_redemption_price() {
    let mut market = Market::new();
    // In the genesis block (no time has passed yet): Alice holds 1,000 USDai; Bob stakes
    // 1,000 and Carol donates 100, so 1,000 sUSDai are redeemable for 1,100 USDai.
    market.mint(ALICE, whole(1_000));
    market.mint(BOB, whole(1_000));
    market.stake(BOB, whole(1_000));
    market.mint(CAROL, whole(100));
    market.ok(CAROL, Action::DonateToVault(DonateToVault { amount: whole(100) }));
    // Redemption price = floor(1e18 * (1,100e18 + V) / (1,000e18 + V)): 1.1e18 less the
    // virtual pair's pull, 1e18 * V * (1,100e18 - 1,000e18) / (1,000e18 * (1,000e18 + V)),
    // just under 100,000 units: floor(1,099,999,999,999,900,000.0...) = 1,099,999,999,999,900,000.
    let price = floor_mul_div(WAD, 1_100 * WAD + V, 1_000 * WAD + V);
    assert_eq!(price, 1_099_999_999_999_900_000);
    // A week passes, one block a day.
    for _ in 0..7 {
        market.advance(DAY);
        market.begin_block();
    }
    // Alice: 1,000 USDai x 5 points per dollar-day x 7 days = 35,000 points (18 decimals).
    assert_eq!(points::points_of(&market.state, ALICE), 35_000 * WAD);
    // Bob: 1,000 sUSDai x 2 x 7 = 14,000 share-days, each worth the redemption price:
    // 14,000 x 1.0999999999999 = 15,399.9999999986 points. Each day the accumulator grows per
    // share unit by floor(floor(2 x 86,400 x 10^27 / 86,400) x price / 10^18)
    // = 2 x 10^9 x 1,099,999,999,999,900,000 (no remainder), so the week gives
    // 1,000e18 x 7 x 2,199,999,999,999,800,000 x 10^9 / 10^27 = 15,399,999,999,998,600,000,000.
    assert_eq!(points::points_of(&market.state, BOB), 15_399_999_999_998_600_000_000);
    // Carol gave hers away: she earned on her 100 USDai for no time at all.
    assert_eq!(points::points_of(&market.state, CAROL), 0);

    // Locked shares earn nothing: Bob queues 500 of his 1,000; next week he earns on 500.
    market.ok(BOB, Action::RequestRedeem(RequestRedeem { shares: whole(500) }));
    let bob_before = points::points_of(&market.state, BOB);
    market.advance(7 * DAY);
    market.begin_block();
    // Growth over one 7-day advance: floor(floor(2 x 604,800 x 10^27 / 86,400) x price / 10^18)
    // = 14 x 10^9 x 1,099,999,999,999,900,000, times 500e18 / 10^27
    // = 7,699,999,999,999,300,000,000 (7,699.9999999993 points).
    assert_eq!(points::points_of(&market.state, BOB) - bob_before, 7_699_999_999_999_300_000_000);
}
