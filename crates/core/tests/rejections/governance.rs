//! Governance codes (2xx): roles, parameters, pauses, KYC and scheduled changes.

use super::*;

pub(crate) fn every_privileged_action_rejects_every_address_without_its_role() -> TxError {
    let mut market = funded_market();
    // A pending payout, so confirm and reject are otherwise valid.
    market.ok(
        ALICE,
        Action::GatewayWithdraw(GatewayWithdraw {
            token: USDC,
            amount: whole(1),
            destination: "0xdest".into(),
        }),
    );
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: DAVE }));
    // Credit objects, so that each credit role's action is otherwise valid.
    let silo = market.open_silo(whole(1_000), whole(10_000));
    let receipt = market.issue_receipt(BORROWER, 1, whole(30_000));
    let bare = ReceiptId(*market.state.receipts.next_receipt_id.get());
    let description = gpu_receipt(1);
    market.ok(
        CUSTODIAN,
        Action::IssueReceipt(IssueReceipt { class: GPU, owner: BORROWER, description }),
    );
    let expires_at = market.now() + 365 * DAY;
    let policy_id = B256::repeat_byte(0x71);
    let gpu_silo = SiloTerms { eligible_classes: vec![GPU], ..SiloTerms::default() };
    let privileged: Vec<(Role, Action)> = vec![
        (Role::Admin, Action::GrantRole(GrantRole { role: Role::Curator, account: BOB })),
        (Role::Admin, Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ORACLE })),
        (
            Role::Admin,
            Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(10)) }),
        ),
        (Role::Admin, Action::AddStablecoin(AddStablecoin { token: DAI })),
        (Role::Guardian, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true })),
        (Role::Compliance, Action::Freeze(Freeze { account: CAROL })),
        (Role::Compliance, Action::Unfreeze(Unfreeze { account: DAVE })),
        (Role::KycRegistrar, Action::SetKyc(SetKyc { account: CAROL, verified: true })),
        (Role::Oracle, Action::PostPrice(PostPrice { token: USDC, price_wad: WAD })),
        (Role::Oracle, Action::PostTbillRate(PostTbillRate { rate: Rate::from_apr_bps(400) })),
        (
            Role::ReserveCustodian,
            Action::PostReserveAttestation(PostReserveAttestation {
                par_amount: whole(1_000),
                market_value: whole(990),
                as_of: market.now(),
                document_hash: B256::repeat_byte(0x5a),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayCredit(GatewayCredit {
                account: BOB,
                token: USDC,
                amount: whole(1),
                external_id: B256::repeat_byte(7),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayConfirm(GatewayConfirm {
                payout_id: PayoutId(0),
                external_id: B256::repeat_byte(8),
            }),
        ),
        (
            Role::GatewayAttestor,
            Action::GatewayReject(GatewayReject { payout_id: PayoutId(0), reason: "no".into() }),
        ),
        (Role::Admin, Action::AddAssetClass(AddAssetClass { class: B200, terms: gpu_terms() })),
        (
            Role::Admin,
            Action::ApplyGenerationStepDown(ApplyGenerationStepDown {
                class: GPU,
                step_down_bps: Bps(100),
            }),
        ),
        (Role::Admin, Action::SetSiloSeniorCap(SetSiloSeniorCap { silo_id: silo, cap: whole(1) })),
        (Role::Admin, Action::SetSiloFrozen(SetSiloFrozen { silo_id: silo, frozen: true })),
        (
            Role::Custodian,
            Action::IssueReceipt(IssueReceipt {
                class: GPU,
                owner: BORROWER,
                description: gpu_receipt(2),
            }),
        ),
        (Role::Custodian, Action::ReleaseReceipt(ReleaseReceipt { receipt_id: bare })),
        (
            Role::Appraiser,
            Action::PostValuation(PostValuation { receipt_id: receipt, value: whole(1) }),
        ),
        (
            Role::Monitor,
            Action::PostPresenceAttestation(PostPresenceAttestation {
                receipt_id: receipt,
                units_seen: 1,
                serials_hash: B256::repeat_byte(0x5e),
                facility: "Reno NV DC-2".into(),
                uptime_bps: Bps(10_000),
                as_of: market.now(),
            }),
        ),
        (Role::Admin, Action::SetPresenceLimit(SetPresenceLimit { class: GPU, max_age_secs: 0 })),
        (
            Role::Insurer,
            Action::SetResidualFloor(SetResidualFloor { receipt_id: receipt, floor_value: ONE }),
        ),
        (
            Role::Insurer,
            Action::AttachPolicy(AttachPolicy {
                receipt_id: bare,
                policy_id,
                coverage: ONE,
                expires_at,
            }),
        ),
        (Role::Curator, Action::OpenSilo(OpenSilo { terms: gpu_silo })),
        (
            Role::Curator,
            Action::ProposeLoan(ProposeLoan {
                silo_id: silo,
                terms: senior_loan(receipt, whole(1_000), 0, market.now()),
            }),
        ),
    ];
    let everyone: Vec<Address> = ROLE_HOLDERS
        .iter()
        .map(|&(_, holder)| holder)
        .chain(USERS)
        .chain([KEEPER, BORROWER])
        .collect();
    for (role, action) in &privileged {
        let mut rejected = 0;
        for &sender in &everyone {
            if market.state.governance.has_role(*role, sender) {
                continue;
            }
            reject(&mut market, sender, action.clone(), GovernanceError::SenderLacksRole);
            rejected += 1;
        }
        assert_eq!(rejected, everyone.len() - 1, "exactly one address holds {role:?}");
    }
    // The role is the only obstacle: each holder's action is accepted (on a copy, since
    // confirm and reject of the one payout exclude each other).
    for (role, action) in privileged {
        let holder = market.state.governance.holders(role).next().expect("held");
        let mut copy = Market { state: market.state.clone(), block: market.block };
        copy.ok(holder, action);
    }
    // A revoked holder loses the power at once.
    market.ok(ADMIN, Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ORACLE }));
    reject(
        &mut market,
        ORACLE,
        Action::PostPrice(PostPrice { token: USDC, price_wad: WAD }),
        GovernanceError::SenderLacksRole,
    )
}

pub(crate) fn granting_a_role_twice_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Oracle, account: ORACLE }),
        GovernanceError::RoleAlreadyGranted,
    )
}

pub(crate) fn revoking_a_role_not_held_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Oracle, account: ALICE }),
        GovernanceError::RoleNotGranted,
    )
}

pub(crate) fn the_last_admin_cannot_be_revoked() -> TxError {
    let mut market = Market::new();
    let code = reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }),
        GovernanceError::LastAdminCannotBeRevoked,
    );
    // With a second admin, either may go.
    market.ok(ADMIN, Action::GrantRole(GrantRole { role: Role::Admin, account: BOB }));
    market.ok(BOB, Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }));
    reject(
        &mut market,
        BOB,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: BOB }),
        code,
    )
}

pub(crate) fn an_admin_cannot_hand_a_role_to_the_zero_address_and_leave_no_usable_admin() -> TxError
{
    // The attack: grant admin to 0x0 (a second "admin" for the last-admin rule), then revoke
    // one's own, leaving a protocol nobody can govern.
    let mut market = Market::new();
    let code = reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Admin, account: Address::ZERO }),
        GovernanceError::RoleAccountMustNotBeZero,
    );
    reject(
        &mut market,
        ADMIN,
        Action::RevokeRole(RevokeRole { role: Role::Admin, account: ADMIN }),
        GovernanceError::LastAdminCannotBeRevoked,
    );
    reject(
        &mut market,
        ADMIN,
        Action::GrantRole(GrantRole { role: Role::Oracle, account: Address::ZERO }),
        code,
    );
    // Nor can a genesis start with one.
    let mut genesis = genesis();
    genesis.roles.push((Role::Admin, Address::ZERO));
    assert!(infrafi_core::State::from_genesis(&genesis).is_err());
    code
}

pub(crate) fn parameter_values_outside_their_range_are_rejected() -> TxError {
    let mut market = Market::new();
    let out_of_range = [
        ParameterChange::MintFeeBps(Bps(10_001)),
        ParameterChange::RedeemFeeBps(Bps(u32::MAX)),
        ParameterChange::LiquidityBufferBps(Bps(10_001)),
        ParameterChange::MaxPriceAgeSecs(0),
        ParameterChange::NoticePeriodSecs(DURATION_SECS_MAX + 1),
        ParameterChange::GovernanceDelaySecs(u64::MAX),
        ParameterChange::MinRedeemShares(Amount::ZERO),
        ParameterChange::MaxActiveRequests(0),
        ParameterChange::MaxActiveRequests(1_001),
        ParameterChange::UsdaiPointsMultiplier(1_001),
    ];
    for change in out_of_range {
        reject(
            &mut market,
            ADMIN,
            Action::SetParameter(SetParameter { change }),
            GovernanceError::ParameterValueOutOfRange,
        );
    }
    // The edges themselves are valid.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(10_000)) }),
    );
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MaxActiveRequests(1_000) }),
    );
    GovernanceError::ParameterValueOutOfRange.into()
}

pub(crate) fn freezing_a_frozen_account_is_rejected() -> TxError {
    let mut market = Market::new();
    market.ok(COMPLIANCE, Action::Freeze(Freeze { account: BOB }));
    reject(
        &mut market,
        COMPLIANCE,
        Action::Freeze(Freeze { account: BOB }),
        GovernanceError::AccountAlreadyFrozen,
    )
}

pub(crate) fn unfreezing_an_account_not_frozen_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        COMPLIANCE,
        Action::Unfreeze(Unfreeze { account: BOB }),
        GovernanceError::AccountNotFrozen,
    )
}

pub(crate) fn a_pause_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause(SetPause { scope: PauseScope::Staking, paused: false }),
        GovernanceError::PauseStateUnchanged,
    );
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }));
    reject(
        &mut market,
        GUARDIAN,
        Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }),
        GovernanceError::PauseStateUnchanged,
    )
}

pub(crate) fn a_kyc_status_that_changes_nothing_is_rejected() -> TxError {
    let mut market = Market::new();
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc(SetKyc { account: BOB, verified: false }),
        GovernanceError::KycStatusUnchanged,
    );
    market.ok(REGISTRAR, Action::SetKyc(SetKyc { account: BOB, verified: true }));
    reject(
        &mut market,
        REGISTRAR,
        Action::SetKyc(SetKyc { account: BOB, verified: true }),
        GovernanceError::KycStatusUnchanged,
    )
}

pub(crate) fn paused_minting_and_staking_are_rejected() -> TxError {
    let mut market = funded_market();
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Minting, paused: true }));
    market.ok(GUARDIAN, Action::SetPause(SetPause { scope: PauseScope::Staking, paused: true }));
    reject(&mut market, ALICE, mint(USDC, whole(1)), GovernanceError::ActionIsPaused);
    reject(
        &mut market,
        ALICE,
        Action::Stake(Stake { assets: whole(1), min_shares: Amount::ZERO }),
        GovernanceError::ActionIsPaused,
    );
    reject(
        &mut market,
        ALICE,
        Action::MintShares(MintShares { shares: whole(1), max_assets: whole(2) }),
        GovernanceError::ActionIsPaused,
    )
}

pub(crate) fn scheduling_beyond_the_pending_changes_limit_is_rejected() -> TxError {
    let mut market = Market::new();
    // Each increase of the mint fee reduces users' rights and waits: 256 fill the schedule.
    for bps in 1..=PENDING_CHANGES_MAX as u32 {
        market.ok(
            ADMIN,
            Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(bps)) }),
        );
    }
    assert_eq!(market.state.governance.pending_changes.len(), PENDING_CHANGES_MAX);
    let code = reject(
        &mut market,
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MintFeeBps(Bps(1_000)) }),
        GovernanceError::PendingChangesLimitReached,
    );
    // A change that favours users does not wait, so it is never blocked by the limit.
    market.ok(
        ADMIN,
        Action::SetParameter(SetParameter { change: ParameterChange::MaxPriceAgeSecs(HOUR) }),
    );
    code
}
