//! Silo codes (7xx): silos, curators, successors and first-loss capital.

use super::*;

pub(crate) fn a_silo_must_exist_and_only_its_curator_may_run_it() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let missing = SiloId(9);
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    let code = reject(
        &mut market,
        CURATOR,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: missing, amount: ONE }),
        SiloError::SiloNotFound,
    );
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: missing, cap: ONE }),
        SiloError::SiloNotFound,
    );
    reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: missing, terms: terms.clone() }),
        SiloError::SiloNotFound,
    );
    // Another curator may not run this silo.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    for action in [
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: ONE }),
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: ONE }),
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }),
    ] {
        reject(&mut market, DAVE, action, SiloError::SenderIsNotSiloCurator);
    }
    code
}

pub(crate) fn silo_terms_need_registered_classes_ordered_limits_and_a_bounded_fee() -> TxError {
    let (mut market, _, _) = credit_market();
    let gpu = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
    let invalid = [
        SiloTerms::default(),
        SiloTerms { eligible_classes: vec![B200], ..gpu.clone() },
        SiloTerms { eligible_classes: vec![GPU, GPU], ..gpu.clone() },
        SiloTerms { max_initial_ltv_bps: Bps(9_000), ..gpu.clone() },
        SiloTerms { margin_call_ltv_bps: Bps(10_001), ..gpu.clone() },
        SiloTerms { max_borrower_share_bps: Bps(0), ..gpu.clone() },
        SiloTerms { curator_fee_bps: Bps(5_001), ..gpu.clone() },
    ];
    for terms in invalid {
        reject(
            &mut market,
            CURATOR,
            Action::OpenSilo(OpenSilo { terms }),
            SiloError::SiloTermsInvalid,
        );
    }
    market.ok(
        CURATOR,
        Action::OpenSilo(OpenSilo { terms: SiloTerms { curator_fee_bps: Bps(5_000), ..gpu } }),
    );
    SiloError::SiloTermsInvalid.into()
}

pub(crate) fn a_frozen_silo_makes_no_loans() -> TxError {
    let (mut market, silo, receipt) = credit_market();
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    let loan = propose(&mut market, silo, |_| terms.clone());
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    let code = reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: silo, terms }),
        SiloError::SiloIsFrozen,
    );
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloIsFrozen,
    );
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }));
    market.ok(BORROWER, Action::AcceptLoan(AcceptLoan { loan_id: loan }));
    code
}

pub(crate) fn only_a_frozen_silo_is_assigned_a_successor() -> TxError {
    let (mut market, silo, _) = credit_market();
    reject(
        &mut market,
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: CURATOR }),
        SiloError::SiloNotFrozen,
    )
}

pub(crate) fn first_loss_capital_leaves_only_above_its_requirement_and_never_while_a_loan_is_impaired()
-> TxError {
    let (mut market, silo, receipt) = credit_market();
    // The pool holds 100,000.
    reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss {
            silo_id: silo,
            amount: plus(whole(100_000), Amount(1)),
        }),
        SiloError::FirstLossPoolInsufficient,
    );
    // 200,000 of senior exposure requires 10% = 20,000 of first-loss capital.
    market.originate(silo, senior_loan(receipt, whole(200_000), 1_200, market.now()));
    let code = reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss {
            silo_id: silo,
            amount: plus(whole(80_000), Amount(1)),
        }),
        SiloError::FirstLossWouldFallBelowRequirement,
    );
    market.ok(
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(80_000) }),
    );
    // The appraisal falls to 200,000 (LTV 100%) and a re-mark opens a margin call: the pool is
    // locked while the loan is impaired.
    market.revalue_and_remark(receipt, whole(200_000));
    reject(
        &mut market,
        CURATOR,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: ONE }),
        SiloError::SiloHasImpairedLoans,
    );
    code
}

pub(crate) fn loans_stay_within_the_silo_cap_the_borrower_concentration_and_the_silo_classes()
-> TxError {
    let (mut market, silo, receipt) = credit_market();
    market.ok(
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(50_000) }),
    );
    let above_cap = plus(whole(50_000), Amount(1));
    let loan = propose(&mut market, silo, |now| senior_loan(receipt, above_cap, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::SiloSeniorCapExceeded,
    );
    // A silo where one borrower may take 10% of its 1,000,000 cap: 100,000.
    let narrow = SiloId(*market.state.silos.next_silo_id.get());
    let terms = SiloTerms {
        eligible_classes: vec![GPU],
        max_borrower_share_bps: Bps(1_000),
        ..SiloTerms::default()
    };
    market.ok(CURATOR, Action::OpenSilo(OpenSilo { terms }));
    market.ok(
        ADMIN,
        Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: narrow, cap: whole(1_000_000) }),
    );
    let above_share = plus(whole(100_000), Amount(1));
    let loan = propose(&mut market, narrow, |now| senior_loan(receipt, above_share, 0, now));
    reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::BorrowerConcentrationExceeded,
    );
    // A silo lending only against another class.
    market.ok(ADMIN, Action::AddAssetClass(AddAssetClass { class: B200, terms: gpu_terms() }));
    let other = SiloId(*market.state.silos.next_silo_id.get());
    let terms = SiloTerms { eligible_classes: vec![B200], ..SiloTerms::default() };
    market.ok(CURATOR, Action::OpenSilo(OpenSilo { terms }));
    let terms = senior_loan(receipt, whole(1_000), 0, market.now());
    reject(
        &mut market,
        CURATOR,
        Action::ProposeLoan(ProposeLoan { silo_id: other, terms }),
        SiloError::AssetClassNotEligibleInSilo,
    );
    code
}

pub(crate) fn a_successor_must_be_a_curator_and_a_freeze_must_change_something() -> TxError {
    let (mut market, silo, _) = credit_market();
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }),
        SiloError::SiloFrozenStateUnchanged,
    );
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }),
        SiloError::SiloFrozenStateUnchanged,
    );
    let code = reject(
        &mut market,
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
        SiloError::SuccessorLacksCuratorRole,
    );
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
    );
    code
}

pub(crate) fn a_loan_needs_first_loss_capital_for_its_senior_exposure() -> TxError {
    let (mut market, _, receipt) = credit_market();
    // A second silo with 5,000 of first-loss capital: enough for 50,000 of senior exposure.
    let thin = market.open_silo(whole(5_000), whole(1_000_000));
    let above = plus(whole(50_000), Amount(1));
    let loan = propose(&mut market, thin, |now| senior_loan(receipt, above, 0, now));
    let code = reject(
        &mut market,
        BORROWER,
        Action::AcceptLoan(AcceptLoan { loan_id: loan }),
        SiloError::FirstLossBelowRequirement,
    );
    market.originate(thin, senior_loan(receipt, whole(50_000), 0, market.now()));
    code
}

/// A frozen silo with loans and the original curator's capital, handed to DAVE.
fn succeeded_silo() -> (Market, SiloId) {
    let (mut market, silo, receipt) = credit_market();
    market.originate(silo, senior_loan(receipt, whole(100_000), 0, market.now()));
    market.ok(ADMIN, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true }));
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Curator, account: DAVE }));
    market.ok(
        ADMIN,
        Action::AssignSuccessorCurator(AssignSuccessorCurator { silo_id: silo, curator: DAVE }),
    );
    (market, silo)
}

pub(crate) fn a_successor_curator_cannot_move_the_original_curators_capital() -> TxError {
    let (mut market, silo) = succeeded_silo();
    let code = reject(
        &mut market,
        DAVE,
        Action::WithdrawFirstLoss(WithdrawFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotCapitalOwner,
    );
    reject(
        &mut market,
        DAVE,
        Action::DepositFirstLoss(DepositFirstLoss { silo_id: silo, amount: whole(1) }),
        SiloError::SenderIsNotCapitalOwner,
    );
    code
}

pub(crate) fn a_silo_cannot_be_unfrozen_for_a_successor_while_the_original_capital_remains()
-> TxError {
    let (mut market, silo) = succeeded_silo();
    reject(
        &mut market,
        ADMIN,
        Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: false }),
        SiloError::SiloCapitalBelongsToPredecessor,
    )
}
