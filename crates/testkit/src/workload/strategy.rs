//! The proptest strategies that draw random steps: ops weighted towards what the state can
//! accept, with invalid arguments and unauthorised senders mixed in.

use super::step::*;
use super::*;
use proptest::prelude::*;

pub(super) fn size() -> impl Strategy<Value = Size> {
    prop_oneof![
        1 => Just(Size::Zero),
        2 => (1u64..2_000_000).prop_map(Size::Units),
        4 => (1u32..50_000).prop_map(Size::Whole),
        10 => (1u16..=10_000).prop_map(Size::Fraction),
        2 => Just(Size::Fraction(10_000)),
        1 => Just(Size::AllPlusOne),
        1 => Just(Size::Max),
    ]
}

pub(super) fn limit() -> impl Strategy<Value = Limit> {
    prop_oneof![
        6 => Just(Limit::None),
        1 => Just(Limit::Exact),
        2 => Just(Limit::Loose),
        1 => Just(Limit::Impossible),
    ]
}

pub(super) fn token_index() -> impl Strategy<Value = u8> {
    prop_oneof![5 => Just(0u8), 4 => Just(1u8), 1 => Just(2u8)]
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let index = || 0u8..6;
    let token = token_index;
    prop_oneof![
        6 => (0u8..5, index(), size())
            .prop_map(|(asset, to, amount)| Op::Transfer { asset, to, amount }),
        1 => (0u8..11, index()).prop_map(|(role, account)| Op::GrantRole { role, account }),
        1 => (0u8..11, index()).prop_map(|(role, account)| Op::RevokeRole { role, account }),
        2 => (any::<u8>(), any::<u64>())
            .prop_map(|(which, value)| Op::SetParameter { which, value }),
        1 => (0u8..3).prop_map(|token| Op::AddStablecoin { token }),
        1 => (0u8..3, prop::bool::weighted(0.4))
            .prop_map(|(scope, paused)| Op::SetPause { scope, paused }),
        2 => any::<u8>().prop_map(|account| Op::Freeze { account }),
        5 => any::<u8>().prop_map(|account| Op::Unfreeze { account }),
        1 => (index(), any::<bool>())
            .prop_map(|(account, verified)| Op::SetKyc { account, verified }),
        10 => (token(), prop_oneof![9 => 9_960u16..10_040, 1 => 0u16..25_000])
            .prop_map(|(token, price_bps)| Op::PostPrice { token, price_bps }),
        2 => prop_oneof![5 => 0u16..2_000, 1 => 0u16..3_000]
            .prop_map(|apr_bps| Op::PostTbillRate { apr_bps }),
        3 => (index(), token(), size(), any::<u8>()).prop_map(
            |(account, token, amount, external_id)| Op::GatewayCredit {
                account,
                token,
                amount,
                external_id,
            }
        ),
        2 => (token(), size(), prop::bool::weighted(0.9)).prop_map(
            |(token, amount, destination_is_valid)| Op::GatewayWithdraw {
                token,
                amount,
                destination_is_valid,
            }
        ),
        2 => (any::<u8>(), any::<u8>())
            .prop_map(|(payout, external_id)| Op::GatewayConfirm { payout, external_id }),
        1 => (any::<u8>(), prop::bool::weighted(0.9))
            .prop_map(|(payout, reason_is_valid)| Op::GatewayReject { payout, reason_is_valid }),
        14 => (token(), size(), limit())
            .prop_map(|(token, amount, min_out)| Op::MintUsdai { token, amount, min_out }),
        4 => (token(), size(), limit())
            .prop_map(|(token, amount, min_out)| Op::RedeemUsdai { token, amount, min_out }),
        3 => Just(Op::HarvestBaseYield),
        1 => (token(), size()).prop_map(|(token, amount)| Op::QueueDeposit { token, amount }),
        1 => any::<u8>().prop_map(|deposit| Op::CancelQueuedDeposit { deposit }),
        3 => prop_oneof![9 => 1u32..65, 1 => Just(0u32), 1 => Just(65u32)]
            .prop_map(|max_deposits| Op::FillQueuedDeposits { max_deposits }),
        // Mostly an honest attestation of the reserve, as of now or a little before (a second
        // one in the same block is as of the same time: refused); now and then a shortfall, a
        // surplus, a future time or a zero document hash.
        3 => (
            prop_oneof![6 => Just(10_000u16), 2 => 9_000u16..10_000, 2 => 10_000u16..11_000],
            prop_oneof![6 => Just(Some(0u32)), 3 => (1u32..3_600).prop_map(Some), 1 => Just(None)],
            prop::bool::weighted(0.95),
        )
            .prop_map(|(value_bps, age_secs, document_is_valid)| {
                Op::PostReserveAttestation { value_bps, age_secs, document_is_valid }
            }),
        12 => (size(), limit()).prop_map(|(assets, min_shares)| Op::Stake { assets, min_shares }),
        3 => (size(), limit())
            .prop_map(|(shares, max_assets)| Op::MintShares { shares, max_assets }),
        1 => size().prop_map(|amount| Op::DonateToVault { amount }),
        10 => size().prop_map(|shares| Op::RequestRedeem { shares }),
        3 => any::<u8>().prop_map(|request| Op::CancelRedeem { request }),
        6 => prop_oneof![8 => 1u32..20, 1 => 0u32..2, 1 => 9_999u32..10_002]
            .prop_map(|max_requests| Op::ServiceQueue { max_requests }),
        8 => any::<u8>().prop_map(|request| Op::Claim { request }),
    ]
}

/// Credit ops, most of them aimed at an object in the state the action needs (so loans are
/// proposed, accepted, paid, marked down, defaulted and liquidated), with invalid arguments
/// mixed in.
pub(super) fn credit_op() -> impl Strategy<Value = Op> {
    prop_oneof![59 => receipt_op(), 10 => silo_op(), 121 => loan_op()]
}

/// Mostly `on`, now and then any of `0..below`.
pub(super) fn usually(on: u8, below: u8) -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(on), 1 => 0..below]
}

/// Basis points: `zero` weight of 0, `inside` of `range`, `outside` of `outliers`.
pub(super) fn bps(
    zero: u32,
    (inside, range): (u32, std::ops::Range<u16>),
    (outside, outliers): (u32, std::ops::Range<u16>),
) -> impl Strategy<Value = u16> {
    prop_oneof![zero => Just(0u16), inside => range, outside => outliers]
}

pub(super) fn receipt_op() -> impl Strategy<Value = Op> {
    let receipt = || any::<u8>();
    let coverage_bps = || bps(1, (8, 10_000..15_000), (2, 5_000..10_000));
    let term = || prop_oneof![1 => Just(0u8), 1 => Just(1u8), 8 => 2u8..4];
    let units = prop_oneof![1 => Just(0u32), 12 => 1u32..100];
    let new_units = prop_oneof![3 => Just(None), 1 => (0u32..40).prop_map(Some)];
    let step_down_bps = bps(1, (6, 500..4_000), (1, 10_000..10_001));
    prop_oneof![
        1 => (0u8..3, prop::bool::weighted(0.8))
            .prop_map(|(class, valid)| Op::AddAssetClass { class, valid }),
        3 => (usually(0, 4), step_down_bps).prop_map(|(class, step_down_bps)| {
            Op::ApplyGenerationStepDown { class, step_down_bps }
        }),
        12 => (usually(0, 4), any::<u8>(), units, prop::bool::weighted(0.95)).prop_map(
            |(class, owner, units, text_is_valid)| {
                Op::IssueReceipt { class, owner, units, text_is_valid }
            }
        ),
        1 => (receipt(), new_units, prop::bool::weighted(0.8)).prop_map(
            |(receipt, units, text_is_valid)| Op::AmendReceipt { receipt, units, text_is_valid }
        ),
        1 => receipt().prop_map(|receipt| Op::ReleaseReceipt { receipt }),
        2 => (receipt(), any::<u8>())
            .prop_map(|(receipt, to)| Op::TransferReceipt { receipt, to }),
        2 => receipt().prop_map(|receipt| Op::RequestReceiptRedemption { receipt }),
        2 => receipt().prop_map(|receipt| Op::RedeemReceipt { receipt }),
        14 => (receipt(), coverage_bps(), term()).prop_map(|(receipt, coverage_bps, term)| {
            Op::AttachPolicy { receipt, coverage_bps, term }
        }),
        2 => (receipt(), coverage_bps(), term()).prop_map(|(receipt, coverage_bps, term)| {
            Op::RenewPolicy { receipt, coverage_bps, term }
        }),
        // Mostly drift around the current value; a quarter of them a fall to 2-40% of it.
        14 => (receipt(), bps(1, (8, 8_500..11_500), (3, 200..4_000)))
            .prop_map(|(receipt, value_bps)| Op::PostValuation { receipt, value_bps }),
        // Monitors attest often; admin rarely changes a class's limit, usually off.
        10 => (receipt(), any::<u8>())
            .prop_map(|(receipt, report)| Op::PostPresenceAttestation { receipt, report }),
        2 => (0u8..3, prop_oneof![2 => Just(0u8), 2 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)])
            .prop_map(|(class, limit)| Op::SetPresenceLimit { class, limit }),
        // Income terms now and then (a few invalid); index posts mostly within the day's bound
        // (25%), now and then a jump past it or a zero.
        2 => (usually(0, 4), prop::bool::weighted(0.6))
            .prop_map(|(class, valid)| Op::SetIncomeTerms { class, valid }),
        8 => (usually(0, 4), bps(1, (12, 8_000..12_000), (2, 12_600..30_000)))
            .prop_map(|(class, move_bps)| Op::PostRentalIndex { class, move_bps }),
    ]
}

pub(super) fn silo_op() -> impl Strategy<Value = Op> {
    let silo = || any::<u8>();
    let open = (any::<u8>(), prop::bool::weighted(0.3), any::<bool>(), prop::bool::weighted(0.8));
    prop_oneof![
        1 => open.prop_map(|(classes, narrow, curator_fee, valid)| {
            Op::OpenSilo { classes, narrow, curator_fee, valid }
        }),
        3 => (silo(), size()).prop_map(|(silo, amount)| Op::DepositFirstLoss { silo, amount }),
        2 => (silo(), size()).prop_map(|(silo, amount)| Op::WithdrawFirstLoss { silo, amount }),
        1 => (silo(), bps(1, (8, 2_000..10_001), (1, 1..2_000)))
            .prop_map(|(silo, cap_bps)| Op::SetSiloSeniorCap { silo, cap_bps }),
        2 => (silo(), any::<u8>())
            .prop_map(|(silo, change)| Op::SetSiloFrozen { silo, change }),
        1 => (silo(), any::<u8>())
            .prop_map(|(silo, successor)| Op::AssignSuccessorCurator { silo, successor }),
    ]
}

pub(super) fn loan_op() -> impl Strategy<Value = Op> {
    let loan = || any::<u8>();
    let terms = (
        prop::bool::weighted(0.95),
        prop_oneof![19 => 5_000u16..=10_000, 1 => 10_000u16..14_000],
        prop_oneof![2 => Just(0u16), 1 => 1u16..1_000],
        any::<bool>(),
        prop_oneof![1 => Just(0u32), 12 => 1u32..=12],
        any::<u8>(),
    )
        .prop_map(
            |(within_room, senior_bps, junior_bps, fixed_principal, periods, interval)| Terms {
                within_room,
                senior_bps,
                junior_bps,
                fixed_principal,
                periods,
                interval,
            },
        );
    let proposal = (any::<u8>(), any::<u8>(), any::<u8>(), terms);
    let remark_batch = prop_oneof![1 => Just(0u32), 8 => 1u32..50, 1 => Just(10_001u32)];
    // Gross proceeds up to twice what the tranches are owed (above it, a surplus for the
    // borrower); costs mostly below a third of the proceeds, now and then above them. A
    // commission above the class's 30% is held for the admin (`decide_held_sale`).
    let gross_bps = prop_oneof![1 => Just(0u16), 6 => 1u16..20_000];
    let costs_bps = prop_oneof![6 => 0u16..3_000, 3 => 3_000u16..4_500, 1 => 10_001u16..12_000];
    let sale = (loan(), gross_bps, costs_bps);
    prop_oneof![
        20 => proposal.prop_map(|(silo, borrower, receipt, terms)| {
            Op::ProposeLoan { silo, borrower, receipt, terms }
        }),
        1 => (loan(), any::<bool>())
            .prop_map(|(loan, by_curator)| Op::CancelLoanProposal { loan, by_curator }),
        40 => loan().prop_map(|loan| Op::AcceptLoan { loan }),
        24 => (loan(), limit())
            .prop_map(|(loan, max_amount)| Op::RepayLoan { loan, max_amount }),
        4 => (loan(), size(), limit()).prop_map(|(loan, principal, max_amount)| {
            Op::PrepayLoan { loan, principal, max_amount }
        }),
        4 => (loan(), any::<u8>(), prop::bool::weighted(0.2))
            .prop_map(|(loan, receipt, twice)| Op::PledgeReceipts { loan, receipt, twice }),
        8 => (any::<u8>(), remark_batch)
            .prop_map(|(first, max_loans)| Op::RemarkLoans { first, max_loans }),
        6 => loan().prop_map(|loan| Op::TriggerDefault { loan }),
        6 => (loan(), any::<u8>()).prop_map(|(loan, agent)| Op::ForecloseLoan { loan, agent }),
        8 => sale.prop_map(|(receipt, gross_bps, costs_bps)| {
            Op::ReportSale { receipt, gross_bps, costs_bps }
        }),
        4 => (loan(), bps(1, (8, 1..10_001), (1, 10_001..12_000)))
            .prop_map(|(receipt, amount_bps)| Op::PayInsuranceClaim { receipt, amount_bps }),
        2 => loan().prop_map(|receipt| Op::PayCasualtyClaim { receipt }),
        8 => (loan(), prop::bool::weighted(0.7))
            .prop_map(|(receipt, approve)| Op::DecideHeldSale { receipt, approve }),
        4 => loan().prop_map(|receipt| Op::WriteOffReceipt { receipt }),
        8 => loan().prop_map(|loan| Op::ClaimLoanSurplus { loan }),
        // Covenants: mostly valid (0-3 payments of reserve, a 30- or 90-day report), now and
        // then out of range; refills, draws and reports aimed at the loans that need them.
        4 => (any::<u8>(), prop_oneof![9 => 1u8..4, 1 => 12u8..14], any::<u8>())
            .prop_map(|(silo, periods, interval)| Op::SetLoanCovenants { silo, periods, interval }),
        8 => (loan(), size()).prop_map(|(loan, amount)| Op::FundDebtServiceReserve { loan, amount }),
        10 => loan().prop_map(|loan| Op::DrawDebtServiceReserve { loan }),
        4 => (loan(), prop::bool::weighted(0.95))
            .prop_map(|(loan, valid)| Op::PostBorrowerReport { loan, valid }),
        // Residual-value insurance: floors on insured receipts (now and then above the cover),
        // claims paid by their insurer or written off by the admin.
        10 => (any::<u8>(), bps(1, (8, 2_000..9_000), (1, 10_001..12_000)))
            .prop_map(|(receipt, floor_bps)| Op::SetResidualFloor { receipt, floor_bps }),
        3 => loan().prop_map(|receipt| Op::PayResidualClaim { receipt }),
        6 => loan().prop_map(|receipt| Op::WriteOffResidualClaim { receipt }),
    ]
}

/// The sender of an op: privileged ops are usually sent by the actor that holds the role
/// at genesis (index 0 or 1), everything else by anyone.
pub(super) fn step_for(op: Op) -> impl Strategy<Value = Step> {
    let privileged_holder = match op {
        Op::GrantRole { .. }
        | Op::RevokeRole { .. }
        | Op::SetParameter { .. }
        | Op::AddStablecoin { .. }
        | Op::SetPause { .. }
        | Op::Freeze { .. }
        | Op::Unfreeze { .. } => Some(0u8),
        Op::SetKyc { .. }
        | Op::PostPrice { .. }
        | Op::PostTbillRate { .. }
        | Op::GatewayCredit { .. }
        | Op::GatewayConfirm { .. }
        | Op::GatewayReject { .. }
        | Op::PostReserveAttestation { .. } => Some(1u8),
        _ => None,
    };
    let credit = op.is_credit();
    let sender = match privileged_holder {
        // Credit ops pick their party from the state (see `Step::sender`).
        _ if credit => any::<u8>().boxed(),
        Some(holder) => prop_oneof![6 => Just(holder), 1 => 0u8..6].boxed(),
        None => (0u8..6).boxed(),
    };
    let advance = prop_oneof![
        5 => Just(0u64),
        3 => 1u64..HOUR,
        2 => HOUR..2 * DAY,
        1 => 7 * DAY..9 * DAY,
    ];
    (advance, prop::bool::weighted(0.3), sender).prop_map(
        move |(advance_secs, upkeep_first, sender)| Step {
            advance_secs,
            upkeep_first,
            sender,
            op: op.clone(),
        },
    )
}

/// One random step: two in five are credit ops.
pub fn step() -> impl Strategy<Value = Step> {
    prop_oneof![3 => op(), 2 => credit_op()].prop_flat_map(step_for)
}

/// A sequence of `length` random steps.
pub fn steps(length: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), length)
}
