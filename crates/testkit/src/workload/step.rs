//! A step of the workload as data: what it does ([`Op`]) with its sizes and picks still to be
//! resolved against the state, who sends it and how far time moves first.

use super::*;

/// How much: resolved against a reference balance when the step runs.
#[derive(Clone, Copy, Debug)]
pub enum Size {
    /// Nothing (always rejected).
    Zero,
    /// A few base units (dust, rounding edges).
    Units(u64),
    /// Whole tokens.
    Whole(u32),
    /// This many basis points of the reference balance (at least 1 unit).
    Fraction(u16),
    /// One unit more than the reference balance.
    AllPlusOne,
    /// `u128::MAX` units.
    Max,
}

impl Size {
    pub(super) fn resolve(self, reference: Amount) -> Amount {
        match self {
            Size::Zero => Amount::ZERO,
            Size::Units(units) => Amount(u128::from(units)),
            Size::Whole(count) => whole(u128::from(count)),
            Size::Fraction(bps) => Amount((reference.0 / 10_000 * u128::from(bps)).max(1)),
            Size::AllPlusOne => Amount(reference.0.saturating_add(1)),
            Size::Max => Amount::MAX,
        }
    }
}

/// A slippage limit relative to the step's input amount.
#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// No limit (0 minimum, maximum `u128::MAX`).
    None,
    /// Exactly the input (passes only at a price of exactly 1 and no fee).
    Exact,
    /// 2% worse than the input.
    Loose,
    /// Impossible (maximum minimum, zero maximum).
    Impossible,
}

impl Limit {
    pub(super) fn minimum(self, input: Amount) -> Amount {
        match self {
            Limit::None => Amount::ZERO,
            Limit::Exact => input,
            Limit::Loose => Amount(input.0 / 100 * 98),
            Limit::Impossible => Amount::MAX,
        }
    }

    pub(super) fn maximum(self, input: Amount) -> Amount {
        match self {
            Limit::None => Amount::MAX,
            Limit::Exact => input,
            Limit::Loose => Amount((input.0 / 100).saturating_mul(102)),
            Limit::Impossible => Amount::ZERO,
        }
    }
}

/// One action, with its arguments still to be resolved against the state.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub enum Op {
    Transfer {
        asset: u8,
        to: u8,
        amount: Size,
    },
    GrantRole {
        role: u8,
        account: u8,
    },
    RevokeRole {
        role: u8,
        account: u8,
    },
    SetParameter {
        which: u8,
        value: u64,
    },
    AddStablecoin {
        token: u8,
    },
    SetPause {
        scope: u8,
        paused: bool,
    },
    Freeze {
        account: u8,
    },
    Unfreeze {
        account: u8,
    },
    SetKyc {
        account: u8,
        verified: bool,
    },
    PostPrice {
        token: u8,
        price_bps: u16,
    },
    PostTbillRate {
        apr_bps: u16,
    },
    GatewayCredit {
        account: u8,
        token: u8,
        amount: Size,
        external_id: u8,
    },
    GatewayWithdraw {
        token: u8,
        amount: Size,
        destination_is_valid: bool,
    },
    GatewayConfirm {
        payout: u8,
        external_id: u8,
    },
    GatewayReject {
        payout: u8,
        reason_is_valid: bool,
    },
    MintUsdai {
        token: u8,
        amount: Size,
        min_out: Limit,
    },
    RedeemUsdai {
        token: u8,
        amount: Size,
        min_out: Limit,
    },
    HarvestBaseYield,
    /// Queue a deposit (issue 16): a share of the stablecoin balance, now and then below the
    /// minimum.
    QueueDeposit {
        token: u8,
        amount: Size,
    },
    /// Cancel one of the sender's queued deposits (now and then another's or none).
    CancelQueuedDeposit {
        deposit: u8,
    },
    /// Fill queued deposits (now and then a batch out of range).
    FillQueuedDeposits {
        max_deposits: u32,
    },
    /// The reserve custodian attests `value_bps` of the ledger's reserve value, as of
    /// `age_secs` before the block (`None`: one second after it, refused), with a zero
    /// document hash now and then (refused).
    PostReserveAttestation {
        value_bps: u16,
        age_secs: Option<u32>,
        document_is_valid: bool,
    },
    Stake {
        assets: Size,
        min_shares: Limit,
    },
    MintShares {
        shares: Size,
        max_assets: Limit,
    },
    DonateToVault {
        amount: Size,
    },
    RequestRedeem {
        shares: Size,
    },
    CancelRedeem {
        request: u8,
    },
    ServiceQueue {
        max_requests: u32,
    },
    Claim {
        request: u8,
    },
    // Receipts (SPEC 8).
    AddAssetClass {
        class: u8,
        valid: bool,
    },
    ApplyGenerationStepDown {
        class: u8,
        step_down_bps: u16,
    },
    IssueReceipt {
        class: u8,
        owner: u8,
        units: u32,
        text_is_valid: bool,
    },
    AmendReceipt {
        receipt: u8,
        units: Option<u32>,
        text_is_valid: bool,
    },
    ReleaseReceipt {
        receipt: u8,
    },
    TransferReceipt {
        receipt: u8,
        to: u8,
    },
    RequestReceiptRedemption {
        receipt: u8,
    },
    RedeemReceipt {
        receipt: u8,
    },
    AttachPolicy {
        receipt: u8,
        coverage_bps: u16,
        term: u8,
    },
    RenewPolicy {
        receipt: u8,
        coverage_bps: u16,
        term: u8,
    },
    PostValuation {
        receipt: u8,
        value_bps: u16,
    },
    SetIncomeTerms {
        class: u8,
        valid: bool,
    },
    PostRentalIndex {
        class: u8,
        move_bps: u16,
    },
    // Silos (SPEC 10).
    OpenSilo {
        classes: u8,
        narrow: bool,
        curator_fee: bool,
        valid: bool,
    },
    DepositFirstLoss {
        silo: u8,
        amount: Size,
    },
    WithdrawFirstLoss {
        silo: u8,
        amount: Size,
    },
    SetSiloSeniorCap {
        silo: u8,
        cap_bps: u16,
    },
    SetSiloFrozen {
        silo: u8,
        change: u8,
    },
    AssignSuccessorCurator {
        silo: u8,
        successor: u8,
    },
    // Loans (SPEC 9).
    ProposeLoan {
        silo: u8,
        borrower: u8,
        receipt: u8,
        terms: Terms,
    },
    CancelLoanProposal {
        loan: u8,
        by_curator: bool,
    },
    AcceptLoan {
        loan: u8,
    },
    RepayLoan {
        loan: u8,
        max_amount: Limit,
    },
    PrepayLoan {
        loan: u8,
        principal: Size,
        max_amount: Limit,
    },
    PledgeReceipts {
        loan: u8,
        receipt: u8,
        twice: bool,
    },
    RemarkLoans {
        first: u8,
        max_loans: u32,
    },
    TriggerDefault {
        loan: u8,
    },
    ForecloseLoan {
        loan: u8,
        agent: u8,
    },
    ReportSale {
        receipt: u8,
        gross_bps: u16,
        costs_bps: u16,
    },
    PayInsuranceClaim {
        receipt: u8,
        amount_bps: u16,
    },
    PayCasualtyClaim {
        receipt: u8,
    },
    DecideHeldSale {
        receipt: u8,
        approve: bool,
    },
    WriteOffReceipt {
        receipt: u8,
    },
    ClaimLoanSurplus {
        loan: u8,
    },
    // Borrower covenants (issue 16).
    SetLoanCovenants {
        silo: u8,
        periods: u8,
        interval: u8,
    },
    FundDebtServiceReserve {
        loan: u8,
        amount: Size,
    },
    DrawDebtServiceReserve {
        loan: u8,
    },
    PostBorrowerReport {
        loan: u8,
        valid: bool,
    },
    // Hardware presence (issue 16).
    /// `report % 8`: 0-3 honest (every unit, now), 4 an uptime above 100%, 5 a unit short,
    /// 6 a replay of the newest as-of time, 7 dated in the future; from 240 on the receipt's
    /// owner sends it.
    PostPresenceAttestation {
        receipt: u8,
        report: u8,
    },
    /// `limit % 4`: 0 off, 1 thirty days, 2 seven days, 3 a minute (out of range).
    SetPresenceLimit {
        class: u8,
        limit: u8,
    },
    // Residual-value insurance (issue 16).
    /// A floor of `floor_bps` of the policy's coverage (above 10,000: more than the coverage).
    SetResidualFloor {
        receipt: u8,
        floor_bps: u16,
    },
    PayResidualClaim {
        receipt: u8,
    },
    WriteOffResidualClaim {
        receipt: u8,
    },
}

impl Op {
    /// Whether the op is a credit action (SPEC 8-10).
    pub fn is_credit(&self) -> bool {
        matches!(
            self,
            Op::AddAssetClass { .. }
                | Op::ApplyGenerationStepDown { .. }
                | Op::IssueReceipt { .. }
                | Op::AmendReceipt { .. }
                | Op::ReleaseReceipt { .. }
                | Op::TransferReceipt { .. }
                | Op::RequestReceiptRedemption { .. }
                | Op::RedeemReceipt { .. }
                | Op::AttachPolicy { .. }
                | Op::RenewPolicy { .. }
                | Op::PostValuation { .. }
                | Op::SetIncomeTerms { .. }
                | Op::PostRentalIndex { .. }
                | Op::OpenSilo { .. }
                | Op::DepositFirstLoss { .. }
                | Op::WithdrawFirstLoss { .. }
                | Op::SetSiloSeniorCap { .. }
                | Op::SetSiloFrozen { .. }
                | Op::AssignSuccessorCurator { .. }
                | Op::ProposeLoan { .. }
                | Op::CancelLoanProposal { .. }
                | Op::AcceptLoan { .. }
                | Op::RepayLoan { .. }
                | Op::PrepayLoan { .. }
                | Op::PledgeReceipts { .. }
                | Op::RemarkLoans { .. }
                | Op::TriggerDefault { .. }
                | Op::ForecloseLoan { .. }
                | Op::ReportSale { .. }
                | Op::PayInsuranceClaim { .. }
                | Op::PayCasualtyClaim { .. }
                | Op::DecideHeldSale { .. }
                | Op::WriteOffReceipt { .. }
                | Op::ClaimLoanSurplus { .. }
                | Op::SetLoanCovenants { .. }
                | Op::FundDebtServiceReserve { .. }
                | Op::DrawDebtServiceReserve { .. }
                | Op::PostBorrowerReport { .. }
                | Op::PostPresenceAttestation { .. }
                | Op::SetPresenceLimit { .. }
                | Op::SetResidualFloor { .. }
                | Op::PayResidualClaim { .. }
                | Op::WriteOffResidualClaim { .. }
        )
    }
}

/// How a proposal is sized and shaped, resolved against the receipt's value and the
/// vault's room when the step runs.
#[derive(Clone, Copy, Debug)]
pub struct Terms {
    /// Size the senior tranche within what the vault and the silo's LTV allow (otherwise
    /// against the whole collateral value).
    pub within_room: bool,
    /// Senior principal, in basis points of that base.
    pub senior_bps: u16,
    /// Junior principal, in basis points of the collateral value.
    pub junior_bps: u16,
    /// Fixed principal or amortized.
    pub fixed_principal: bool,
    /// Payments (0 makes the terms invalid).
    pub periods: u32,
    /// Index of the interval (14 or 30 days) and, divided by 3, of the time to accept
    /// (a day, 60 or 90 days).
    pub interval: u8,
}

/// One step: time moves by `advance_secs` (a new block if it moves), optionally the block
/// upkeep runs on its own first, then the sender sends `op`.
#[derive(Clone, Debug)]
pub struct Step {
    /// Seconds since the previous step's block.
    pub advance_secs: u64,
    /// Run `begin_block` before the transaction (so time effects and the action's effects
    /// can be told apart).
    pub upkeep_first: bool,
    /// Who sends: an index into `ACTORS` for the ledger, governance, reserve, vault and
    /// queue actions; for credit actions, the party the action calls for (the receipt's
    /// custodian or owner, the silo's curator, the loan's borrower or agent...) except when
    /// `sender % 8 == 7`: then `PARTICIPANTS[sender / 8]`, usually the wrong party.
    pub sender: u8,
    /// What it does.
    pub op: Op,
}

pub(super) fn actor(index: u8) -> Address {
    ACTORS[usize::from(index) % ACTORS.len()]
}

pub(super) fn participant(index: u8) -> Address {
    PARTICIPANTS[usize::from(index) % PARTICIPANTS.len()]
}

pub(super) fn token(index: u8) -> Symbol {
    TOKENS[usize::from(index) % TOKENS.len()]
}

pub(super) fn role(index: u8) -> Role {
    Role::ALL[usize::from(index) % Role::ALL.len()]
}

/// A parameter change, valid or out of range, chosen by `which` and `value`.
pub fn parameter_change(which: u8, value: u64) -> ParameterChange {
    use ParameterChange as C;
    let bps = Bps((value % 12_000) as u32);
    let small_bps = Bps((value % 120) as u32);
    // Mostly ordinary durations; now and then the edges (0, 1 s, out of range).
    let durations =
        [HOUR, DAY, DAY, 2 * DAY, 7 * DAY, 7 * DAY, 30 * DAY, 0, 1, DURATION_SECS_MAX + 1];
    let duration = durations[(value % durations.len() as u64) as usize];
    // Credit durations are weeks to months (a valuation age of an hour would make every
    // receipt ineligible for good); now and then the edges.
    let credit_durations = [7 * DAY, 14 * DAY, 30 * DAY, 90 * DAY, 180 * DAY, HOUR, 0];
    let credit_duration = credit_durations[(value % credit_durations.len() as u64) as usize];
    let caps = [10_000_000, 100_000_000, 1_000_000_000, 1_000_000, 0];
    // Per-hour gateway limits: none, tight, ordinary, loose.
    let limits = [0, 1_000, 100_000, 10_000_000];
    let limit = whole(limits[(value % limits.len() as u64) as usize]);
    match which % 36 {
        0 => C::MintFeeBps(small_bps),
        1 => C::RedeemFeeBps(small_bps),
        2 => C::DepegToleranceBps(small_bps),
        3 => C::MaxPriceAgeSecs(duration),
        4 => C::UsdaiSupplyCap(whole(caps[(value % caps.len() as u64) as usize])),
        5 => C::KycRequired(value.is_multiple_of(3)),
        6 => C::YieldFeeBps(bps),
        7 => C::YieldVestingSecs(duration),
        8 => C::MaxTbillAprBps(bps),
        9 => C::PerformanceFeeBps(bps),
        10 => C::LiquidityBufferBps(bps),
        11 => C::MaxDeployedBps(bps),
        12 => C::MinRedeemShares(Amount(u128::from(value % 3) * WAD / 2)),
        13 => C::MaxActiveRequests((value % 8) as u32),
        14 => C::NoticePeriodSecs(duration),
        15 => C::RoundIntervalSecs(duration),
        16 => C::RevealWindowSecs(duration),
        17 => C::UnrevealedPenaltyBps(bps),
        18 => C::QevProtocolCutBps(bps),
        19 => C::FeeVestingSecs(duration),
        20 => C::UsdaiPointsMultiplier((value % 1_200) as u32),
        21 => C::SusdaiPointsMultiplier((value % 1_200) as u32),
        22 => C::GovernanceDelaySecs(duration),
        // Credit: insurance coverage from none to 11x the value (above 10x is out of range),
        // periods from 0 (out of range) to 699 (above 600 is out).
        23 => {
            let coverage = [0, 5_000, 10_000, 10_000, 15_000, 30_000, 110_000];
            C::MinInsuranceCoverageBps(Bps(coverage[(value % 7) as usize]))
        }
        24 => C::MaxValuationAgeSecs(credit_duration),
        25 => C::CurePeriodSecs(credit_duration),
        26 => C::MinFirstLossBps(bps),
        27 => C::DefaultLoanPeriods((value % 700) as u32),
        28 => C::DefaultRepaymentIntervalSecs(credit_duration),
        29 => C::LiquidationFeeBps(small_bps),
        // Reserve attestations (issue 16): the rule on and off, its age and tolerance.
        30 => C::ReserveAttestationRequired(value.is_multiple_of(2)),
        31 => C::ReserveAttestationMaxAgeSecs(duration),
        32 => C::ReserveAttestationToleranceBps(small_bps),
        // Rate limits (issue 16): mints and redemptions per hour.
        33 => C::MintLimitPerHour(limit),
        34 => C::RedeemLimitPerHour(limit),
        // One account's share of each limit: a quarter, or all of it.
        _ => C::RateLimitAccountShareBps(Bps(if value.is_multiple_of(2) { 2_500 } else { 10_000 })),
    }
}

/// A request id: usually one of the sender's own, sometimes anyone's, sometimes unknown.
pub(super) fn request_id(state: &State, sender: Address, pick: u8) -> RequestId {
    let requests = &state.queue.requests;
    let own: Vec<RequestId> =
        requests.iter().filter(|(_, r)| r.owner == sender).map(|(id, _)| *id).collect();
    let all: Vec<RequestId> = requests.iter().map(|(id, _)| *id).collect();
    let from = |ids: &[RequestId]| ids.get(usize::from(pick) % ids.len().max(1)).copied();
    let chosen = match pick % 8 {
        0..=4 => from(&own),
        5 | 6 => from(&all),
        _ => None,
    };
    chosen.unwrap_or(RequestId(u64::from(pick) + 1_000))
}

/// A queued deposit id: mostly one of the sender's, sometimes anyone's, sometimes none.
pub(super) fn queued_deposit_id(state: &State, sender: Address, pick: u8) -> u64 {
    let queue = &state.reserve.queued_deposits;
    let own: Vec<u64> =
        queue.iter().filter(|(_, d)| d.owner == sender).map(|(id, _)| *id).collect();
    let all: Vec<u64> = queue.keys().copied().collect();
    let from = |ids: &[u64]| ids.get(usize::from(pick) % ids.len().max(1)).copied();
    let chosen = match pick % 8 {
        0..=4 => from(&own),
        5 | 6 => from(&all),
        _ => None,
    };
    chosen.unwrap_or(*state.reserve.next_queued_deposit_id.get() + u64::from(pick))
}

/// A payout id: usually a pending one, sometimes any, sometimes unknown.
pub(super) fn payout_id(state: &State, pick: u8) -> PayoutId {
    let payouts = &state.reserve.payouts;
    let pending: Vec<PayoutId> = payouts
        .iter()
        .filter(|(_, p)| p.status == PayoutStatus::Pending)
        .map(|(id, _)| *id)
        .collect();
    let all: Vec<PayoutId> = payouts.iter().map(|(id, _)| *id).collect();
    let from = |ids: &[PayoutId]| ids.get(usize::from(pick) % ids.len().max(1)).copied();
    let chosen = match pick % 8 {
        0..=4 => from(&pending),
        5 | 6 => from(&all),
        _ => None,
    };
    chosen.unwrap_or(PayoutId(u64::from(pick) + 1_000))
}
