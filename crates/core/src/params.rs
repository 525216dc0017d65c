//! The one typed parameter set, its defaults (SPEC 13), roles (SPEC 4) and pause scopes.
//!
//! Every number the spec names is a field here. Admin changes arrive as [`ParameterChange`];
//! a change that reduces users' rights (a higher fee, a longer wait, a smaller cap) waits
//! `governance_delay_secs` before it takes effect, so holders can leave first.

use crate::math::{Amount, Bps, WAD};
use serde::{Deserialize, Serialize};

/// Every protocol parameter, with the spec's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Params {
    // USDai and the reserve (SPEC 5).
    /// Fee on minting USDai, taken from the USDai minted.
    pub mint_fee_bps: Bps,
    /// Fee on redeeming USDai, taken from the USDai burned.
    pub redeem_fee_bps: Bps,
    /// How far a stablecoin's price may stray from 1.0 and still mint.
    pub depeg_tolerance_bps: Bps,
    /// The oldest oracle price that still counts.
    pub max_price_age_secs: u64,
    /// The most USDai that may exist.
    pub usdai_supply_cap: Amount,
    /// Whether direct minting needs a KYC-verified sender.
    pub kyc_required: bool,
    /// The protocol's share of harvested base yield.
    pub yield_fee_bps: Bps,
    /// Over how long harvested yield enters NAV.
    pub yield_vesting_secs: u64,
    /// The highest T-bill yield rate the oracle may post, as an APR.
    pub max_tbill_apr_bps: Bps,
    /// Whether issuing USDai (mint, harvest) needs a fresh reserve attestation covering it.
    pub reserve_attestation_required: bool,
    /// The oldest reserve attestation (from its as-of time) that USDai may be issued against.
    pub reserve_attestation_max_age_secs: u64,
    /// How far above the attested value the supply may be minted, for the deposits that
    /// arrived since the attestation's as-of time.
    pub reserve_attestation_tolerance_bps: Bps,
    /// The most USDai that minting may add to the supply per hour (fee included), measured
    /// over a sliding hour; zero means no limit.
    pub mint_limit_per_hour: Amount,
    /// The most USDai that redemptions may retire per hour (fee included), measured over a
    /// sliding hour; zero means no limit.
    pub redeem_limit_per_hour: Amount,
    /// The share of each per-hour limit one account may use in an hour: a large holder (or an
    /// attacker cycling mints and redemptions) cannot take the whole room from everyone else.
    pub rate_limit_account_share_bps: Bps,
    // The vault (SPEC 6, 7).
    /// The protocol's share of realised loan interest, before it reaches NAV.
    pub performance_fee_bps: Bps,
    /// The share of the value of unqueued shares kept idle, never served nor deployed.
    pub liquidity_buffer_bps: Bps,
    /// The most of NAV that may be deployed into loans.
    pub max_deployed_bps: Bps,
    // The queue (SPEC 11).
    /// The smallest redemption request, in sUSDai.
    pub min_redeem_shares: Amount,
    /// The most unserved requests one owner may have.
    pub max_active_requests: u32,
    /// How long a request waits before it may be served.
    pub notice_period_secs: u64,
    /// The least time between two servicing rounds.
    pub round_interval_secs: u64,
    /// How long before a round sealed bids may be revealed.
    pub reveal_window_secs: u64,
    /// The share of an unrevealed sealed bid's deposit forfeited.
    pub unrevealed_penalty_bps: Bps,
    /// The protocol's share of priority fees.
    pub qev_protocol_cut_bps: Bps,
    /// Over how long wait-fees vest to the overtaken.
    pub fee_vesting_secs: u64,
    // Points (SPEC 12).
    /// Points per USDai-dollar-day.
    pub usdai_points_multiplier: u32,
    /// Points per unlocked sUSDai-dollar-day (valued at the redemption share price).
    pub susdai_points_multiplier: u32,
    // Governance (SPEC 13).
    /// How long a change that reduces users' rights waits.
    pub governance_delay_secs: u64,
    // Credit (SPEC 8-10).
    /// The least insurance coverage of an eligible receipt, as a share of its value for LTV.
    pub min_insurance_coverage_bps: Bps,
    /// The oldest valuation that keeps a receipt eligible.
    pub max_valuation_age_secs: u64,
    /// How long a borrower in margin call (or with ineligible collateral) has to cure.
    pub cure_period_secs: u64,
    /// A silo's first-loss capital must stay at least this share of its senior exposure.
    pub min_first_loss_bps: Bps,
    /// Repayments in a loan whose terms do not say (36 monthly payments).
    pub default_loan_periods: u32,
    /// The repayment interval of a loan whose terms do not say (a schedule "month").
    pub default_repayment_interval_secs: u64,
    /// The protocol's fee on the net proceeds of every liquidation sale and insurance claim.
    pub liquidation_fee_bps: Bps,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            mint_fee_bps: Bps(0),
            redeem_fee_bps: Bps(0),
            depeg_tolerance_bps: Bps(50),
            max_price_age_secs: 86_400,
            usdai_supply_cap: Amount::from_whole(10_000_000_000),
            kyc_required: false,
            yield_fee_bps: Bps(0),
            yield_vesting_secs: 8 * 3_600,
            max_tbill_apr_bps: Bps(2_000),
            reserve_attestation_required: false,
            reserve_attestation_max_age_secs: 7 * 86_400,
            reserve_attestation_tolerance_bps: Bps(100),
            mint_limit_per_hour: Amount::ZERO,
            redeem_limit_per_hour: Amount::ZERO,
            rate_limit_account_share_bps: Bps(10_000),
            performance_fee_bps: Bps(0),
            liquidity_buffer_bps: Bps(500),
            max_deployed_bps: Bps(9_000),
            min_redeem_shares: Amount(WAD),
            max_active_requests: 50,
            notice_period_secs: 7 * 86_400,
            round_interval_secs: 86_400,
            reveal_window_secs: 3_600,
            unrevealed_penalty_bps: Bps(1_000),
            qev_protocol_cut_bps: Bps(1_000),
            fee_vesting_secs: 7 * 86_400,
            usdai_points_multiplier: 5,
            susdai_points_multiplier: 2,
            governance_delay_secs: 2 * 86_400,
            min_insurance_coverage_bps: Bps(10_000),
            max_valuation_age_secs: 90 * 86_400,
            cure_period_secs: 14 * 86_400,
            min_first_loss_bps: Bps(1_000),
            default_loan_periods: 36,
            default_repayment_interval_secs: 30 * 86_400,
            liquidation_fee_bps: Bps(200),
        }
    }
}

/// Implements `Serialize` and `Deserialize` for `$ty` through one of two mirror types chosen by
/// the format: `$human` for human-readable formats (JSON), `$binary` for binary ones.
///
/// Why: serde's internally and adjacently tagged enums (`#[serde(tag = ...)]`) can be written
/// to postcard but never read back (postcard cannot `deserialize_any` or
/// `deserialize_identifier`), so `State::decode` failed on any state holding such a value. The
/// binary mirror is a plain (externally tagged) enum, which postcard reads by variant index;
/// JSON keeps its tagged shape.
macro_rules! serde_by_format {
    ($ty:ty, human: $human:ty, binary: $binary:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    <$human>::from(self.clone()).serialize(serializer)
                } else {
                    <$binary>::from(self.clone()).serialize(serializer)
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    <$human>::deserialize(deserializer).map(Self::from)
                } else {
                    <$binary>::deserialize(deserializer).map(Self::from)
                }
            }
        }
    };
}
pub(crate) use serde_by_format;

/// Declares [`ParameterChange`] and its two serde mirrors from one list of variants, so the
/// three cannot drift apart.
macro_rules! parameter_changes {
    ($($variant:ident($value:ty)),+ $(,)?) => {
        /// One admin change of one parameter. In JSON: `{"parameter": "mint_fee_bps", "value": 30}`.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[allow(missing_docs)] // Each variant sets the `Params` field of the same name.
        pub enum ParameterChange { $($variant($value)),+ }

        /// One admin change of one parameter, in JSON: `{"parameter": "mint_fee_bps", "value":
        /// 30}`, `parameter` naming the `Params` field and `value` its new value.
        #[derive(Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(tag = "parameter", content = "value", rename_all = "snake_case")]
        #[schemars(rename = "ParameterChange")]
        #[allow(missing_docs)]
        enum ParameterChangeTagged { $($variant($value)),+ }

        /// JSON's schema: the tagged form's.
        impl schemars::JsonSchema for ParameterChange {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                <ParameterChangeTagged as schemars::JsonSchema>::schema_name()
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <ParameterChangeTagged as schemars::JsonSchema>::json_schema(generator)
            }
        }

        /// Binary form (the state's canonical encoding): variant index, then value.
        #[derive(Serialize, Deserialize)]
        enum ParameterChangeIndexed { $($variant($value)),+ }

        impl From<ParameterChange> for ParameterChangeTagged {
            fn from(change: ParameterChange) -> Self {
                match change { $(ParameterChange::$variant(value) => Self::$variant(value)),+ }
            }
        }

        impl From<ParameterChangeTagged> for ParameterChange {
            fn from(change: ParameterChangeTagged) -> Self {
                match change { $(ParameterChangeTagged::$variant(value) => Self::$variant(value)),+ }
            }
        }

        impl From<ParameterChange> for ParameterChangeIndexed {
            fn from(change: ParameterChange) -> Self {
                match change { $(ParameterChange::$variant(value) => Self::$variant(value)),+ }
            }
        }

        impl From<ParameterChangeIndexed> for ParameterChange {
            fn from(change: ParameterChangeIndexed) -> Self {
                match change { $(ParameterChangeIndexed::$variant(value) => Self::$variant(value)),+ }
            }
        }
    };
}

parameter_changes! {
    MintFeeBps(Bps),
    RedeemFeeBps(Bps),
    DepegToleranceBps(Bps),
    MaxPriceAgeSecs(u64),
    UsdaiSupplyCap(Amount),
    KycRequired(bool),
    YieldFeeBps(Bps),
    YieldVestingSecs(u64),
    MaxTbillAprBps(Bps),
    PerformanceFeeBps(Bps),
    LiquidityBufferBps(Bps),
    MaxDeployedBps(Bps),
    MinRedeemShares(Amount),
    MaxActiveRequests(u32),
    NoticePeriodSecs(u64),
    RoundIntervalSecs(u64),
    RevealWindowSecs(u64),
    UnrevealedPenaltyBps(Bps),
    QevProtocolCutBps(Bps),
    FeeVestingSecs(u64),
    UsdaiPointsMultiplier(u32),
    SusdaiPointsMultiplier(u32),
    GovernanceDelaySecs(u64),
    MinInsuranceCoverageBps(Bps),
    MaxValuationAgeSecs(u64),
    CurePeriodSecs(u64),
    MinFirstLossBps(Bps),
    DefaultLoanPeriods(u32),
    DefaultRepaymentIntervalSecs(u64),
    LiquidationFeeBps(Bps),
    ReserveAttestationRequired(bool),
    ReserveAttestationMaxAgeSecs(u64),
    ReserveAttestationToleranceBps(Bps),
    MintLimitPerHour(Amount),
    RedeemLimitPerHour(Amount),
    RateLimitAccountShareBps(Bps),
}

serde_by_format!(ParameterChange, human: ParameterChangeTagged, binary: ParameterChangeIndexed);

/// The longest duration any time parameter may take (10 years): keeps time sums in range.
pub const DURATION_SECS_MAX: u64 = 10 * 365 * 86_400;
/// The largest points multiplier.
pub const POINTS_MULTIPLIER_MAX: u32 = 1_000;
/// The most active requests per owner a parameter may allow.
pub const ACTIVE_REQUESTS_MAX: u32 = 1_000;
/// The most repayments a loan may have (50 years of monthly payments).
pub const LOAN_PERIODS_MAX: u32 = 600;
/// The longest repayment interval (one year).
pub const REPAYMENT_INTERVAL_SECS_MAX: u64 = 365 * 86_400;

impl ParameterChange {
    /// Whether the new value is in its allowed range.
    pub fn is_valid(&self) -> bool {
        use ParameterChange as C;
        match self {
            C::MintFeeBps(b)
            | C::RedeemFeeBps(b)
            | C::DepegToleranceBps(b)
            | C::YieldFeeBps(b)
            | C::MaxTbillAprBps(b)
            | C::PerformanceFeeBps(b)
            | C::LiquidityBufferBps(b)
            | C::MaxDeployedBps(b)
            | C::UnrevealedPenaltyBps(b)
            | C::QevProtocolCutBps(b)
            | C::MinFirstLossBps(b)
            | C::LiquidationFeeBps(b)
            | C::ReserveAttestationToleranceBps(b) => b.is_fraction(),
            // Coverage above the value is allowed (over-insurance), up to 10x.
            C::MinInsuranceCoverageBps(b) => b.0 <= 100_000,
            // A share of zero would refuse every mint and redemption under a limit.
            C::RateLimitAccountShareBps(b) => b.is_fraction() && b.0 > 0,
            C::MaxValuationAgeSecs(s) | C::CurePeriodSecs(s) => (1..=DURATION_SECS_MAX).contains(s),
            C::DefaultLoanPeriods(n) => (1..=LOAN_PERIODS_MAX).contains(n),
            C::DefaultRepaymentIntervalSecs(s) => (1..=REPAYMENT_INTERVAL_SECS_MAX).contains(s),
            C::MaxPriceAgeSecs(s) | C::ReserveAttestationMaxAgeSecs(s) => {
                (1..=DURATION_SECS_MAX).contains(s)
            }
            C::YieldVestingSecs(s)
            | C::NoticePeriodSecs(s)
            | C::RoundIntervalSecs(s)
            | C::RevealWindowSecs(s)
            | C::FeeVestingSecs(s)
            | C::GovernanceDelaySecs(s) => *s <= DURATION_SECS_MAX,
            C::UsdaiSupplyCap(_)
            | C::KycRequired(_)
            | C::ReserveAttestationRequired(_)
            | C::MintLimitPerHour(_)
            | C::RedeemLimitPerHour(_) => true,
            C::MinRedeemShares(a) => !a.is_zero(),
            C::MaxActiveRequests(n) => (1..=ACTIVE_REQUESTS_MAX).contains(n),
            C::UsdaiPointsMultiplier(m) | C::SusdaiPointsMultiplier(m) => {
                *m <= POINTS_MULTIPLIER_MAX
            }
        }
    }

    /// Whether applying this to `current` reduces users' rights, so it must wait out the
    /// governance delay: higher fees, longer waits, tighter caps, fewer points.
    pub fn reduces_user_rights(&self, current: &Params) -> bool {
        use ParameterChange as C;
        match self {
            C::MintFeeBps(b) => *b > current.mint_fee_bps,
            C::RedeemFeeBps(b) => *b > current.redeem_fee_bps,
            C::DepegToleranceBps(b) => *b < current.depeg_tolerance_bps,
            C::MaxPriceAgeSecs(_) => false,
            C::UsdaiSupplyCap(a) => *a < current.usdai_supply_cap,
            C::KycRequired(k) => *k && !current.kyc_required,
            C::YieldFeeBps(b) => *b > current.yield_fee_bps,
            C::YieldVestingSecs(_) => false,
            C::MaxTbillAprBps(_) => false,
            C::PerformanceFeeBps(b) => *b > current.performance_fee_bps,
            C::LiquidityBufferBps(b) => *b > current.liquidity_buffer_bps,
            C::MaxDeployedBps(b) => *b > current.max_deployed_bps,
            C::MinRedeemShares(a) => *a > current.min_redeem_shares,
            C::MaxActiveRequests(n) => *n < current.max_active_requests,
            C::NoticePeriodSecs(s) => *s > current.notice_period_secs,
            C::RoundIntervalSecs(s) => *s > current.round_interval_secs,
            C::RevealWindowSecs(_) => false,
            C::UnrevealedPenaltyBps(b) => *b > current.unrevealed_penalty_bps,
            C::QevProtocolCutBps(b) => *b > current.qev_protocol_cut_bps,
            C::FeeVestingSecs(s) => *s > current.fee_vesting_secs,
            C::UsdaiPointsMultiplier(m) => *m < current.usdai_points_multiplier,
            C::SusdaiPointsMultiplier(m) => *m < current.susdai_points_multiplier,
            C::GovernanceDelaySecs(s) => *s < current.governance_delay_secs,
            // Tighter collateral standards can push existing loans into a cure window.
            C::MinInsuranceCoverageBps(b) => *b > current.min_insurance_coverage_bps,
            C::MaxValuationAgeSecs(s) => *s < current.max_valuation_age_secs,
            C::CurePeriodSecs(s) => *s < current.cure_period_secs,
            // A higher requirement can lock curators' capital.
            C::MinFirstLossBps(b) => *b > current.min_first_loss_bps,
            // Defaults only fill in terms of new proposals, which a borrower may refuse.
            C::DefaultLoanPeriods(_) | C::DefaultRepaymentIntervalSecs(_) => false,
            C::LiquidationFeeBps(b) => *b > current.liquidation_fee_bps,
            // Like a lower supply cap: fewer mints are accepted.
            C::ReserveAttestationRequired(r) => *r && !current.reserve_attestation_required,
            C::ReserveAttestationMaxAgeSecs(s) => *s < current.reserve_attestation_max_age_secs,
            C::ReserveAttestationToleranceBps(b) => *b < current.reserve_attestation_tolerance_bps,
            // A tighter limit (or one where there was none) holds mints or redemptions back.
            C::MintLimitPerHour(a) => is_tighter_limit(*a, current.mint_limit_per_hour),
            C::RedeemLimitPerHour(a) => is_tighter_limit(*a, current.redeem_limit_per_hour),
            C::RateLimitAccountShareBps(b) => *b < current.rate_limit_account_share_bps,
        }
    }

    /// Writes the new value into `params`.
    pub fn apply_to(&self, params: &mut Params) {
        use ParameterChange as C;
        match *self {
            C::MintFeeBps(v) => params.mint_fee_bps = v,
            C::RedeemFeeBps(v) => params.redeem_fee_bps = v,
            C::DepegToleranceBps(v) => params.depeg_tolerance_bps = v,
            C::MaxPriceAgeSecs(v) => params.max_price_age_secs = v,
            C::UsdaiSupplyCap(v) => params.usdai_supply_cap = v,
            C::KycRequired(v) => params.kyc_required = v,
            C::YieldFeeBps(v) => params.yield_fee_bps = v,
            C::YieldVestingSecs(v) => params.yield_vesting_secs = v,
            C::MaxTbillAprBps(v) => params.max_tbill_apr_bps = v,
            C::PerformanceFeeBps(v) => params.performance_fee_bps = v,
            C::LiquidityBufferBps(v) => params.liquidity_buffer_bps = v,
            C::MaxDeployedBps(v) => params.max_deployed_bps = v,
            C::MinRedeemShares(v) => params.min_redeem_shares = v,
            C::MaxActiveRequests(v) => params.max_active_requests = v,
            C::NoticePeriodSecs(v) => params.notice_period_secs = v,
            C::RoundIntervalSecs(v) => params.round_interval_secs = v,
            C::RevealWindowSecs(v) => params.reveal_window_secs = v,
            C::UnrevealedPenaltyBps(v) => params.unrevealed_penalty_bps = v,
            C::QevProtocolCutBps(v) => params.qev_protocol_cut_bps = v,
            C::FeeVestingSecs(v) => params.fee_vesting_secs = v,
            C::UsdaiPointsMultiplier(v) => params.usdai_points_multiplier = v,
            C::SusdaiPointsMultiplier(v) => params.susdai_points_multiplier = v,
            C::GovernanceDelaySecs(v) => params.governance_delay_secs = v,
            C::MinInsuranceCoverageBps(v) => params.min_insurance_coverage_bps = v,
            C::MaxValuationAgeSecs(v) => params.max_valuation_age_secs = v,
            C::CurePeriodSecs(v) => params.cure_period_secs = v,
            C::MinFirstLossBps(v) => params.min_first_loss_bps = v,
            C::DefaultLoanPeriods(v) => params.default_loan_periods = v,
            C::DefaultRepaymentIntervalSecs(v) => params.default_repayment_interval_secs = v,
            C::LiquidationFeeBps(v) => params.liquidation_fee_bps = v,
            C::ReserveAttestationRequired(v) => params.reserve_attestation_required = v,
            C::ReserveAttestationMaxAgeSecs(v) => params.reserve_attestation_max_age_secs = v,
            C::ReserveAttestationToleranceBps(v) => params.reserve_attestation_tolerance_bps = v,
            C::MintLimitPerHour(v) => params.mint_limit_per_hour = v,
            C::RedeemLimitPerHour(v) => params.redeem_limit_per_hour = v,
            C::RateLimitAccountShareBps(v) => params.rate_limit_account_share_bps = v,
        }
    }
}

/// Whether per-hour limit `new` lets less through than `current` (zero is no limit).
fn is_tighter_limit(new: Amount, current: Amount) -> bool {
    !new.is_zero() && (current.is_zero() || new < current)
}

/// A privileged role (SPEC 4). Borrowers and keepers are anyone and need none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets parameters, grants and revokes roles, adds stablecoins.
    Admin,
    /// Pauses and unpauses new minting, staking and borrowing.
    Guardian,
    /// Freezes and unfreezes addresses.
    Compliance,
    /// Credits gateway deposits and confirms or rejects payouts.
    GatewayAttestor,
    /// Marks addresses KYC-verified.
    KycRegistrar,
    /// Posts stablecoin prices and the T-bill yield rate.
    Oracle,
    /// Issues, amends and releases hardware receipts.
    Custodian,
    /// Posts valuations.
    Appraiser,
    /// Attaches and renews insurance policies.
    Insurer,
    /// Opens silos and underwrites loans.
    Curator,
    /// Takes foreclosed receipts and reports sales.
    LiquidationAgent,
    /// Attests the T-bill holdings behind USDai (par, market value, as-of time, document).
    ReserveCustodian,
    /// Attests the presence of receipts' hardware (units and serials seen, facility, uptime).
    Monitor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 13] = [
        Role::Admin,
        Role::Guardian,
        Role::Compliance,
        Role::GatewayAttestor,
        Role::KycRegistrar,
        Role::Oracle,
        Role::Custodian,
        Role::Appraiser,
        Role::Insurer,
        Role::Curator,
        Role::LiquidationAgent,
        Role::ReserveCustodian,
        Role::Monitor,
    ];
}

/// What the guardian may pause. Repayments, claims and withdrawals of what is owed never pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseScope {
    /// New USDai minting.
    Minting,
    /// New sUSDai staking.
    Staking,
    /// New loans.
    Borrowing,
}

/// Which scopes are paused.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct PauseFlags {
    /// New USDai minting is paused.
    pub minting: bool,
    /// New staking is paused.
    pub staking: bool,
    /// New borrowing is paused.
    pub borrowing: bool,
}

impl PauseFlags {
    /// Whether `scope` is paused.
    pub fn is_paused(&self, scope: PauseScope) -> bool {
        match scope {
            PauseScope::Minting => self.minting,
            PauseScope::Staking => self.staking,
            PauseScope::Borrowing => self.borrowing,
        }
    }

    /// Sets `scope`.
    pub fn set(&mut self, scope: PauseScope, paused: bool) {
        match scope {
            PauseScope::Minting => self.minting = paused,
            PauseScope::Staking => self.staking = paused,
            PauseScope::Borrowing => self.borrowing = paused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_changes_round_trip_through_the_binary_encoding() {
        // Regression: the adjacently tagged derive could be written to postcard but not read
        // back, so `State::decode` failed while any change was pending.
        let changes = [
            ParameterChange::MintFeeBps(Bps(30)),
            ParameterChange::UsdaiSupplyCap(Amount(u128::MAX)),
            ParameterChange::KycRequired(true),
            ParameterChange::MaxActiveRequests(7),
            ParameterChange::GovernanceDelaySecs(u64::MAX),
        ];
        for change in changes {
            let bytes = postcard::to_stdvec(&change).expect("encodes");
            assert_eq!(postcard::from_bytes::<ParameterChange>(&bytes), Ok(change));
        }
    }
}
