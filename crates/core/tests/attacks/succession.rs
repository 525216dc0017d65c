//! A successor curator does not take the original curator's capital (issue 11 item 4).
//!
//! Assigning a frozen silo to a successor used to hand it the pool: the successor could
//! withdraw the original curator's first-loss capital (and whatever the loans paid back into
//! it) as soon as no loan was impaired, or have the silo unfrozen and lend on that capital.
//! Now the capital stays with whoever posted it (`silos::capital_owner`): it keeps absorbing
//! the losses of the silo's loans, only its owner may add to or withdraw it
//! (`sender_is_not_capital_owner`), the silo cannot be unfrozen for the successor while that
//! capital or those loans remain (`silo_capital_belongs_to_predecessor`), and what is left when
//! the loans close goes back to its owner. The successor posts its own capital.

use crate::common::{
    ADMIN, ALICE, BOB, CURATOR, CURATOR_TWO, DAY, GpuLoan, LIQUIDATION_AGENT, Market, model_sale,
    whole,
};
use infrafi_core::{
    Action, Asset, Role,
    action::{
        AssignSuccessorCurator, DepositFirstLoss, GrantRole, SetSiloFrozen, Transfer,
        WithdrawFirstLoss,
    },
    loans::LoanStatus,
    silos::{self, SiloError},
};

/// Attack: a silo holds 100,000 of its curator's first-loss capital behind two loans of
/// 120,000 when the curator fails; admin freezes it and assigns a successor. The successor
/// tries to withdraw the pool, to top it up as its own, and to have the silo unfrozen so it can
/// lend on it: each is refused and changes nothing. The loans are serviced while frozen (the
/// successor forecloses the one that defaults); that loan's loss is taken from the original's
/// capital, the vault loses nothing, and once the other loan is repaid the original curator
/// withdraws exactly its capital less that loss. Only then is the silo unfrozen for the
/// successor, which posts its own capital. The successor ends with exactly what it started
/// with plus its own capital in the pool.
#[test]
fn a_successor_curator_cannot_take_the_original_curators_first_loss_capital() {
    let own_capital = whole(50_000);
    let (mut market, silo) = Market::builder()
        .staked(ALICE, whole(950_000))
        .holding(ALICE, own_capital)
        .with_silo(whole(100_000), whole(1_000_000));
    let loan =
        GpuLoan { units: 10, appraisal: whole(300_000), senior: whole(120_000), apr_bps: 1_000 };
    let (healthy, _) = market.lend(silo, loan);
    let (failing, failing_receipt) = market.lend(silo, loan);
    // The successor holds the curator role and some USDai of its own.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: CURATOR_TWO }));
    market.ok(
        ALICE,
        Action::Transfer(Transfer { asset: Asset::Usdai, to: CURATOR_TWO, amount: own_capital }),
    );
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator {
            silo_id: silo,
            curator: CURATOR_TWO,
        }),
    );
    assert_eq!(market.silo(silo).curator, CURATOR_TWO);
    assert_eq!(silos::capital_owner(&market.state, &market.silo(silo)), CURATOR);
    let original_at_freeze = market.usdai(CURATOR);
    let successor_at_freeze = market.usdai(CURATOR_TWO);

    // The successor cannot take the pool, add to it as its own, or lend on it.
    let take = WithdrawFirstLoss { silo_id: silo, amount: whole(1) };
    market.rejected(
        CURATOR_TWO,
        Action::WithdrawFirstLoss(take),
        SiloError::SenderIsNotCapitalOwner,
    );
    let add = DepositFirstLoss { silo_id: silo, amount: whole(1) };
    market.rejected(CURATOR_TWO, Action::DepositFirstLoss(add), SiloError::SenderIsNotCapitalOwner);
    let unfreeze = SetSiloFrozen { silo_id: silo, frozen: false };
    market.rejected(
        ADMIN,
        Action::SetSiloFrozen(unfreeze),
        SiloError::SiloCapitalBelongsToPredecessor,
    );

    // Frozen, the loans are still serviced: one pays, the other defaults and the successor
    // forecloses it; the sale's shortfall is taken from the original curator's capital.
    market.advance(30 * DAY);
    market.repay(healthy);
    market.default_after_grace(failing);
    market.foreclose(failing, LIQUIDATION_AGENT); // by the silo's curator: the successor
    // The agent sold the hardware off-chain and pays the proceeds in (its costs come back to it).
    let gross = whole(100_000);
    market.buyer_pays(BOB, LIQUIDATION_AGENT, gross);
    let pool_before_sale = market.pool(silo);
    let vault_before_sale = market.vault_usdai();
    market.report_sale(LIQUIDATION_AGENT, failing_receipt, model_sale(gross));
    assert_eq!(market.loan(failing).status, LoanStatus::Settled);
    let loss = market.silo(silo).losses_absorbed;
    assert!(loss > whole(40_000), "the sale left a shortfall: {loss}");
    assert_eq!(
        market.pool(silo),
        pool_before_sale.checked_sub(loss).expect("the loss came from the pool")
    );
    assert!(
        market.vault_usdai() >= vault_before_sale.checked_add(whole(120_000)).expect("fits"),
        "the vault recovered all of the senior principal, from the sale and the pool"
    );

    // The healthy loan runs to its end while frozen.
    while market.loan(healthy).status == LoanStatus::Active {
        let day_before_due = market.loan(healthy).next_due_at - DAY;
        market.advance(day_before_due.saturating_sub(market.now()));
        market.repay(healthy);
    }
    assert_eq!(market.silo(silo).loans_outstanding, 0);
    market.rejected(
        CURATOR_TWO,
        Action::WithdrawFirstLoss(take),
        SiloError::SenderIsNotCapitalOwner,
    );
    let left = market.pool(silo);
    assert_eq!(left, whole(100_000).checked_sub(loss).expect("fits"), "the capital less the loss");
    market
        .ok(CURATOR, Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: left }));
    assert_eq!(market.usdai(CURATOR), original_at_freeze.checked_add(left).expect("fits"));

    // Wound down, the silo is unfrozen for the successor, whose own capital starts from nothing.
    market.ok(ADMIN, Action::SetSiloFrozen(unfreeze));
    assert_eq!(silos::capital_owner(&market.state, &market.silo(silo)), CURATOR_TWO);
    market.ok(
        CURATOR_TWO,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: own_capital }),
    );
    market.rejected(CURATOR, Action::DepositFirstLoss(add), SiloError::SenderIsNotSiloCurator);
    assert_eq!(market.pool(silo), own_capital);
    assert_eq!(
        market.usdai(CURATOR_TWO).checked_add(own_capital).expect("fits"),
        successor_at_freeze,
        "the successor gained nothing: all it has in the silo is its own capital"
    );
}
