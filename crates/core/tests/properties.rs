//! Property tests, the backbone: random sequences of 100-300 transactions from six actors and
//! the credit parties (custodians, appraiser, insurers, curators, liquidation agents and two
//! borrowers), valid and invalid mixed, covering every `Action` variant, with time advancing by
//! nothing, seconds, hours or more than the notice period. Loans are real: receipts are issued,
//! insured and appraised, curators propose, borrowers accept, pay on schedule, prepay or
//! default, appraisals and generation step-downs open margin calls, liquidation agents and
//! insurers settle defaults, so share prices below 1 and partial fills occur. After every
//! transaction:
//!
//! - every SPEC 14 invariant holds (`invariants::check`), and a transaction that issued USDai
//!   while attestations are required stayed within a fresh attested bound
//!   (`invariants::check_attested_issuance`);
//! - a rejected transaction left the state hash unchanged;
//! - actions that `Action::moves_share_price` does not list did not move NAV within one
//!   timestamp, and the points accumulator's price (its sample, or the live price when the
//!   sample is stale) is the live redemption price;
//! - no value was created from nothing: what all holders could exit with (stablecoins at 1,
//!   USDai, claimable USDai, pending payouts, and shares at the redemption price) never
//!   exceeds what entered (genesis balances, gateway credits less confirmed payouts,
//!   harvested T-bill yield, the premium of minting from a stablecoin priced above 1, and
//!   USDai the credit parties paid in, less what was paid out to them) plus the senior
//!   principal the vault has lent (which its NAV counts as an asset);
//! - no action made its own sender richer, except minting above par (by that premium).
//!
//! And determinism: the same sequence applied to two fresh states gives the same state hash
//! after every step, and the canonical encoding decodes to a state with the same hash that
//! goes on to behave the same.

use alloy_primitives::U256;
use infrafi_core::{
    Account, Action, Address, Amount, Asset, Event, ProtocolAccount, State,
    action::HarvestBaseYield,
    apply, begin_block, invariants,
    reserve::PayoutStatus,
    vault::{self, Nav, VIRTUAL_ASSETS},
};
use infrafi_testkit::market::*;
use infrafi_testkit::workload::{self, ACTORS, Step, next_block, steps};
use proptest::prelude::*;

/// Values are summed in 256 bits: a gateway may credit up to `u128::MAX` of a stablecoin.
type Value = U256;

fn value(amount: Amount) -> Value {
    U256::from(amount.0)
}

/// What `who` could walk away with now, in USD at par: stablecoins, USDai, claimable USDai,
/// pending payouts, and its shares (unlocked and queued) at the redemption price.
fn exit_value(state: &State, nav: &Nav, who: Address) -> Value {
    let mut total = Value::ZERO;
    for (&(account, asset), amount) in state.ledger.balances.iter() {
        if account == Account::User(who) && matches!(asset, Asset::Stablecoin(_)) {
            total += value(*amount);
        }
    }
    total += value(state.ledger.balance(who, Asset::Usdai));
    let mut shares = state.ledger.balance(who, Asset::Susdai);
    for (_, request) in state.queue.requests.iter().filter(|(_, r)| r.owner == who) {
        total += value(request.claimable);
        shares = plus(shares, request.shares_remaining);
    }
    for (_, payout) in state.reserve.payouts.iter() {
        if payout.owner == who && payout.status == PayoutStatus::Pending {
            total += value(payout.amount);
        }
    }
    // A queued deposit's escrow is still its depositor's (issue 16).
    for (_, deposit) in state.reserve.queued_deposits.iter() {
        if deposit.owner == who {
            total += value(deposit.amount);
        }
    }
    total + value(nav.assets_for_redemption(shares).expect("share value fits"))
}

/// Every holder's exit value, plus the protocol's fees.
fn total_exit_value(state: &State) -> Value {
    let nav = vault::nav(state);
    let holders: Value = ACTORS.iter().map(|&actor| exit_value(state, &nav, actor)).sum();
    holders + value(state.ledger.balance(ProtocolAccount::FeeCollector, Asset::Usdai))
}

/// Whether `account`'s USDai is counted in what the holders could exit with: an actor's own, or
/// the vault's, the fee collector's and the served redemptions' (the rest of the USDai belongs
/// to the credit parties, their silos' pools and loans' transit accounts).
fn inside(account: &Account) -> bool {
    match account {
        Account::User(address) => ACTORS.contains(address),
        Account::Protocol(protocol) => matches!(
            protocol,
            ProtocolAccount::Vault
                | ProtocolAccount::FeeCollector
                | ProtocolAccount::RedemptionClaims
        ),
    }
}

/// Value in from outside and value out (see the module doc), cumulated.
#[derive(Default)]
struct Flows {
    entered: Value,
    left: Value,
}

impl Flows {
    /// Records what a committed transaction brought in or sent out.
    fn record(&mut self, state: &State, events: &[Event]) {
        for event in events {
            match event {
                Event::GatewayCredited { amount, .. } => self.entered += value(*amount),
                Event::PayoutConfirmed { payout_id, .. } => {
                    let payout = state.reserve.payouts.get(payout_id).expect("confirmed payout");
                    self.left += value(payout.amount);
                }
                Event::BaseYieldHarvested { surplus, .. } => self.entered += value(*surplus),
                Event::UsdaiMinted { account, amount_in, usdai_out, fee, .. } => {
                    if ACTORS.contains(account) {
                        let out = value(*usdai_out) + value(*fee);
                        self.entered += out.saturating_sub(value(*amount_in));
                    } else {
                        // A credit party's mint: only its fee reaches the inside.
                        self.entered += value(*fee);
                    }
                }
                // Credit: USDai between the inside and the credit parties, their pools and
                // loans. The senior principal the vault lends leaves here and is counted back
                // as the vault's asset (see `run_checked`).
                Event::Transferred { asset: Asset::Usdai, from, to, amount } => {
                    match (inside(from), inside(to)) {
                        (false, true) => self.entered += value(*amount),
                        (true, false) => self.left += value(*amount),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }
}

/// Actions that must leave both NAVs and the share supply exactly as they were when they run
/// in the same second as the previous transaction: every action `moves_share_price` leaves
/// out. (A harvest while yield vests leaves conservative NAV and the supply as they were and
/// raises optimistic NAV by exactly what it minted into the vault: checked on its own.)
fn leaves_nav_unchanged(action: &Action) -> bool {
    !action.moves_share_price()
}

/// A harvest while yield vests: what it minted into the vault (its event's `to_vault`).
fn vesting_harvest(action: &Action, state: &State, events: &[Event]) -> Option<Amount> {
    if !matches!(action, Action::HarvestBaseYield(_))
        || state.governance.params.get().yield_vesting_secs == 0
    {
        return None;
    }
    events.iter().find_map(|event| match event {
        Event::BaseYieldHarvested { to_vault, .. } => Some(*to_vault),
        _ => None,
    })
}

/// How much richer an action may make its own sender at one instant: nothing, except minting
/// from a stablecoin above par (`None`: not checked, because the sender legitimately gains from
/// others: a keeper holding shares gains the rounding of the requests it serves, an attestor
/// may credit itself, a borrower receives the principal it now owes or the surplus of its
/// liquidation, a curator takes back its first-loss capital, and anyone may send an action that
/// releases impairment (a payment that cures a margin call, a re-mark, a default, a sale,
/// claim or write-off that settles), which lifts every share, its sender's included, by more than the sender
/// paid). A deposit into a pool can release impairment too, but never more than the deposit.
fn sender_gain_allowed(action: &Action, state: &State, events: &[Event]) -> Option<u128> {
    match action {
        Action::ServiceQueue(_) | Action::GatewayCredit(_) => None,
        Action::AcceptLoan(_)
        | Action::ClaimLoanSurplus(_)
        | Action::WithdrawFirstLoss(_)
        | Action::RepayLoan(_)
        | Action::PrepayLoan(_)
        | Action::RemarkLoans(_)
        | Action::TriggerDefault(_)
        | Action::ReportSale(_)
        | Action::DecideHeldSale(_)
        | Action::WriteOffReceipt(_)
        | Action::PayInsuranceClaim(_)
        | Action::PayResidualClaim(_)
        | Action::WriteOffResidualClaim(_)
        | Action::DrawDebtServiceReserve(_) => None,
        Action::HarvestBaseYield(HarvestBaseYield {})
            if state.governance.params.get().yield_vesting_secs == 0 =>
        {
            None
        }
        // A fill mints for the depositors as their own mints would (issue 16).
        Action::MintUsdai(_) | Action::FillQueuedDeposits(_) => Some(
            events
                .iter()
                .map(|event| match event {
                    Event::UsdaiMinted { amount_in, usdai_out, .. } => {
                        usdai_out.0.saturating_sub(amount_in.0)
                    }
                    _ => 0,
                })
                .sum(),
        ),
        _ => Some(0),
    }
}

/// The actors' stablecoins at genesis (the credit parties' are outside).
fn genesis_value(genesis: &infrafi_core::Genesis) -> Value {
    genesis
        .stablecoin_balances
        .iter()
        .filter(|(holder, _, _)| ACTORS.contains(holder))
        .map(|(_, _, amount)| value(*amount))
        .sum()
}

/// Runs `steps` with every per-transaction check; returns how many transactions were accepted.
fn run_checked(steps: &[Step]) -> Result<usize, TestCaseError> {
    let (mut state, mut block, setup_events) = workload::start();
    let mut flows = Flows { entered: genesis_value(&workload::genesis()), left: Value::ZERO };
    flows.record(&state, &setup_events);
    // The set-up (mints at par, stakes at a price of 1, the first loans) balances exactly.
    prop_assert_eq!(
        total_exit_value(&state) + flows.left,
        flows.entered + value(vault::nav(&state).senior_principal)
    );
    let mut accepted = 0;
    for (index, step) in steps.iter().enumerate() {
        block = next_block(block, step);
        if step.upkeep_first {
            begin_block(&mut state, &block).expect("time only moves forward here");
            prop_assert_eq!(invariants::check(&state), Ok(()), "after upkeep at step {}", index);
            // The upkeep is idempotent for the same block.
            let upkept = state.state_hash();
            prop_assert_eq!(begin_block(&mut state, &block), Ok(vec![]));
            prop_assert_eq!(state.state_hash(), upkept, "second upkeep at step {}", index);
        }
        let tx = step.transaction(&state);
        let hash_before = state.state_hash();
        let time_before = state.now();
        let nav_before = vault::nav(&state);
        let sender_before = exit_value(&state, &nav_before, tx.sender);
        let result = apply(&mut state, &block, &tx);
        if let Err(broken) = invariants::check(&state) {
            return Err(TestCaseError::fail(format!(
                "step {index}: {tx:?} -> {result:?}: invariant broken: {broken}"
            )));
        }
        match &result {
            Err(error) => {
                prop_assert_eq!(
                    state.state_hash(),
                    hash_before,
                    "step {}: rejected {:?} ({}) changed the state",
                    index,
                    tx,
                    error
                );
            }
            Ok(events) => {
                accepted += 1;
                if let Err(broken) = invariants::check_attested_issuance(&state, events) {
                    return Err(TestCaseError::fail(format!("step {index}: {tx:?}: {broken}")));
                }
                flows.record(&state, events);
                let same_instant = state.now() == time_before;
                let nav_after = vault::nav(&state);
                if same_instant && leaves_nav_unchanged(&tx.action) {
                    prop_assert_eq!(
                        (nav_after.optimistic, nav_after.conservative, nav_after.share_supply),
                        (nav_before.optimistic, nav_before.conservative, nav_before.share_supply),
                        "step {}: {:?} moved NAV",
                        index,
                        tx
                    );
                }
                if same_instant && let Some(minted) = vesting_harvest(&tx.action, &state, events) {
                    // Vesting yield is in the deposit price at once, in the redemption price
                    // only as it vests.
                    prop_assert_eq!(
                        (nav_after.optimistic, nav_after.conservative, nav_after.share_supply),
                        (
                            nav_before.optimistic.checked_add(minted).expect("fits"),
                            nav_before.conservative,
                            nav_before.share_supply
                        ),
                        "step {}: {:?} moved NAV by other than the harvest",
                        index,
                        tx
                    );
                }
                if same_instant
                    && let Some(allowed) = sender_gain_allowed(&tx.action, &state, events)
                {
                    let sender_after = exit_value(&state, &nav_after, tx.sender);
                    prop_assert!(
                        sender_after <= sender_before + U256::from(allowed),
                        "step {}: {:?} made its sender richer: {} -> {} (allowed +{})",
                        index,
                        tx,
                        sender_before,
                        sender_after,
                        allowed
                    );
                }
            }
        }
        let nav = vault::nav(&state);
        prop_assert_eq!(
            infrafi_core::points::share_price_wad(&state),
            nav.redemption_price_wad(),
            "step {}: {:?} -> {:?} left points sampling a stale share price",
            index,
            tx,
            result.as_ref().map(|_| ())
        );
        let total = total_exit_value(&state);
        // Below a price of 1 (after a senior loss) valuing every share at the redemption price
        // counts up to VIRTUAL_ASSETS more than the vault holds: the virtual pair, valued at
        // 1.0, lifts the price of the real shares by less than V / S. No round can pay it out.
        let slack = if nav.conservative < nav.share_supply { VIRTUAL_ASSETS } else { 0 };
        let lent = value(nav.senior_principal);
        prop_assert!(
            total + flows.left <= flows.entered + lent + U256::from(slack),
            "step {}: {:?}: holders could exit with {} but only {} entered, {} left and {} is lent",
            index,
            tx,
            total,
            flows.entered,
            flows.left,
            lent
        );
    }
    Ok(accepted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_workloads_keep_every_invariant_and_never_create_value(steps in steps(100..300)) {
        let accepted = run_checked(&steps)?;
        // A workload that rejects everything proves little; the generator aims for a mix.
        prop_assert!(accepted * 10 >= steps.len(), "only {} of {} accepted", accepted, steps.len());
    }

    #[test]
    fn the_same_sequence_gives_the_same_state_hash_after_every_step_and_survives_a_round_trip(
        steps in steps(100..300),
    ) {
        let (mut first, mut block, _) = workload::start();
        let (mut second, _, _) = workload::start();
        prop_assert_eq!(first.state_hash(), second.state_hash());
        for (index, step) in steps.iter().enumerate() {
            block = next_block(block, step);
            if step.upkeep_first {
                prop_assert_eq!(begin_block(&mut first, &block), begin_block(&mut second, &block));
            }
            let tx = step.transaction(&first);
            prop_assert_eq!(&tx, &step.transaction(&second));
            let result_first = apply(&mut first, &block, &tx);
            let result_second = apply(&mut second, &block, &tx);
            prop_assert_eq!(&result_first, &result_second, "step {}: {:?}", index, tx);
            prop_assert_eq!(first.state_hash(), second.state_hash(), "step {}: {:?}", index, tx);
            // The canonical encoding decodes to the same state; every tenth step the second
            // market continues from its decoded copy, so nothing the encoding drops matters.
            let bytes = second.encode();
            let decoded = match State::decode(&bytes) {
                Ok(decoded) => decoded,
                Err(error) => {
                    return Err(TestCaseError::fail(format!(
                        "step {index}: {tx:?}: the state does not decode: {error}"
                    )));
                }
            };
            prop_assert_eq!(decoded.state_hash(), second.state_hash(), "step {}", index);
            prop_assert!(decoded.encode() == bytes, "step {}: re-encoding differs", index);
            if index % 10 == 9 {
                second = decoded;
            }
        }
    }
}

/// The generator must keep producing a useful mix, or the properties above prove little: over
/// a fixed sample of workloads every action is accepted at least once and rejected at least
/// once, requests are served (some partially), the share price sometimes falls below 1, and
/// most result codes occur.
///
/// The sample is 48 workloads of 400 steps: a loan's life (receipt issued, insured and
/// appraised, proposal, acceptance, default, foreclosure, sale, and for the surplus claim a
/// borrower frozen during its liquidation and unfrozen after) takes longer than the 24
/// workloads of 200 steps that sufficed before credit. The counts required of served
/// requests and steps below par are four times those required of that smaller sample, as the
/// sample is four times larger; partial fills, rarer, are required 8 times (the seed gave 12
/// until the generator also drew casualty claims, which take turns from the queue's actions,
/// and then 10), and steps below par 30 (the seed gave 31 once the generator also drew
/// presence attestations and write-offs, which take turns from the credit ops that impair
/// loans): a floor that says the path is exercised, not a pin.
#[test]
fn the_workload_generator_accepts_and_rejects_every_kind_of_action() {
    use proptest::{strategy::ValueTree, test_runner::TestRunner};
    use std::collections::BTreeSet;
    let mut runner = TestRunner::deterministic();
    let mut accepted: BTreeSet<&str> = BTreeSet::new();
    let mut rejected: BTreeSet<&str> = BTreeSet::new();
    let mut codes: BTreeSet<u16> = BTreeSet::new();
    let (mut served, mut partial, mut below_par) = (0, 0, 0);
    for _ in 0..48 {
        let steps = steps(400..401).new_tree(&mut runner).expect("a workload").current();
        let (mut state, mut block, _) = workload::start();
        for step in &steps {
            block = next_block(block, step);
            let nav = vault::nav(&state);
            below_par += usize::from(nav.conservative < nav.share_supply);
            let tx = step.transaction(&state);
            // The wire: the `type` tag is the action's name, and an unknown field is refused.
            let mut json = serde_json::to_value(&tx.action).expect("an action is plain data");
            assert_eq!(json["type"], tx.action.name(), "{tx:?}");
            json["unknown_field"] = serde_json::Value::Bool(true);
            assert!(serde_json::from_value::<Action>(json).is_err(), "{tx:?}");
            match apply(&mut state, &block, &tx) {
                Ok(events) => {
                    accepted.insert(tx.action.name());
                    for event in &events {
                        if let Event::RedemptionServed { fully_served, .. } = event {
                            served += 1;
                            partial += usize::from(!fully_served);
                        }
                    }
                }
                Err(error) => {
                    rejected.insert(tx.action.name());
                    codes.insert(error.code());
                }
            }
        }
    }
    // The QEV auction's actions are driven by `qev_property.rs`, not by this workload.
    let qev = [
        "set_bid",
        "commit_sealed_bid",
        "reveal_sealed_bid",
        "transfer_request",
        "list_request",
        "delist_request",
        "buy_request",
    ];
    let every_action: Vec<&str> =
        infrafi_core::Action::NAMES.iter().copied().filter(|name| !qev.contains(name)).collect();
    let never_accepted: Vec<&str> =
        every_action.iter().copied().filter(|name| !accepted.contains(name)).collect();
    let never_rejected: Vec<&str> =
        every_action.iter().copied().filter(|name| !rejected.contains(name)).collect();
    assert!(never_accepted.is_empty(), "never accepted: {never_accepted:?}");
    assert!(never_rejected.is_empty(), "never rejected: {never_rejected:?}");
    assert!(served >= 40, "only {served} requests were served");
    assert!(partial >= 8, "only {partial} partial fills");
    assert!(below_par >= 30, "the share price was below 1 in only {below_par} steps");
    let all = infrafi_core::TxError::all();
    let missing: Vec<&str> = all
        .iter()
        .filter(|error| !codes.contains(&error.code()))
        .map(|error| error.name())
        .collect();
    assert!(
        codes.len() * 4 >= all.len() * 3,
        "only {} of {} result codes occurred; missing: {missing:?}",
        codes.len(),
        all.len()
    );
}
