//! The sums over the open loans that the vault's senior book and each silo's books must equal
//! (SPEC 14.4, 14.5), kept by the loans table's index ([`super::LoanIndex`]) at every write,
//! rollback and decoding, so the node's per-block check ([`crate::invariants::check_block`])
//! reads them in O(silos) instead of walking every open loan (issue 14, target 3).
//!
//! The accrued interest is the one sum that moves with time. A position accrues
//! `accrued_wad + interest_per_second_wad x (now - checkpoint_at)` ([`SeniorAccrual`]), which
//! is linear in `now`, so the sum over positions is
//! `sum(accrued_wad) - sum(interest_per_second_wad x checkpoint_at) + now x sum(rate)`: three
//! time-independent sums that a write moves by exactly one position's terms, and an exact
//! figure at any `now` no earlier than every checkpoint. The sums are kept in 512 bits, where
//! no count of loans this chain could hold overflows them, so adding and taking away a
//! position are exact inverses whatever the values; a figure that does not fit the 256 bits
//! the book uses, or a `now` before a checkpoint (where a position's own accrual saturates
//! instead of going negative), is not given: the caller walks the loans instead.

use crate::{
    ids::SiloId,
    loans::{Loan, LoanStatus},
    math::Amount,
    vault::SeniorAccrual,
};
use alloy_primitives::{U256, U512};
use std::collections::BTreeMap;

/// What the sums keep of one open loan (active or defaulted); `None` for any other loan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenPosition {
    silo: SiloId,
    senior: Amount,
    junior: Amount,
    /// Whether its tranche principals sum to its balance (SPEC 14.4 says always).
    tranches_sum: bool,
    accrued_wad: U256,
    interest_per_second_wad: U256,
    checkpoint_at: u64,
}

impl OpenPosition {
    /// The position of `loan` if it is open.
    pub fn of(loan: &Loan) -> Option<OpenPosition> {
        if !matches!(loan.status, LoanStatus::Active | LoanStatus::Defaulted) {
            return None;
        }
        let SeniorAccrual { accrued_wad, interest_per_second_wad, checkpoint_at, .. } =
            loan.senior_accrual;
        Some(OpenPosition {
            silo: loan.silo,
            senior: loan.senior.principal,
            junior: loan.junior.principal,
            tranches_sum: loan.senior.principal.0.checked_add(loan.junior.principal.0)
                == Some(loan.balance.0),
            accrued_wad,
            interest_per_second_wad,
            checkpoint_at,
        })
    }
}

/// One silo's open loans: how many, and their senior and junior principal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SiloSums {
    count: u64,
    senior: U256,
    junior: U256,
}

/// The sums over the open loans (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenLoanBooks {
    /// Open loans counted.
    count: u64,
    /// Open loans whose tranche principals do not sum to their balance.
    tranches_off: u64,
    /// Their senior principal.
    senior_principal: U256,
    /// Sum of the positions' `accrued_wad`.
    accrued_wad: U512,
    /// Sum of the positions' `interest_per_second_wad`.
    rate: U512,
    /// Sum of each position's `interest_per_second_wad x checkpoint_at`.
    rate_times_checkpoint: U512,
    /// No position was counted with a later checkpoint. Only ever raised (a loan leaving does
    /// not lower it), so it may lie above the latest checkpoint still counted: it only decides
    /// whether the accrued sum may be read at a time, and a state's time does not go back.
    checkpoints_until: u64,
    /// By silo; a silo is present while it has open loans.
    by_silo: BTreeMap<SiloId, SiloSums>,
}

/// The sums read at a time: the figures the books must equal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenLoanSums {
    /// Senior principal of the open loans.
    pub senior_principal: Amount,
    /// Sum of their senior accrual rates.
    pub rate: U256,
    /// Sum of their senior interest accrued at the time read.
    pub accrued: U256,
    /// Senior and junior principal of each silo's open loans (silos with open loans only).
    pub by_silo: BTreeMap<SiloId, (Amount, Amount)>,
}

impl OpenLoanBooks {
    /// A loan opened, or its position became `position`.
    pub fn add(&mut self, position: &OpenPosition) {
        self.count = up(self.count, 1);
        self.tranches_off = up(self.tranches_off, u64::from(!position.tranches_sum));
        self.senior_principal = up(self.senior_principal, U256::from(position.senior.0));
        self.accrued_wad = up(self.accrued_wad, U512::from(position.accrued_wad));
        self.rate = up(self.rate, U512::from(position.interest_per_second_wad));
        self.rate_times_checkpoint =
            up(self.rate_times_checkpoint, rate_times_checkpoint(position));
        self.checkpoints_until = self.checkpoints_until.max(position.checkpoint_at);
        let silo = self.by_silo.entry(position.silo).or_default();
        silo.count = up(silo.count, 1);
        silo.senior = up(silo.senior, U256::from(position.senior.0));
        silo.junior = up(silo.junior, U256::from(position.junior.0));
    }

    /// A loan with `position` closed, or its position is changing from `position`.
    pub fn remove(&mut self, position: &OpenPosition) {
        self.count = down(self.count, 1);
        self.tranches_off = down(self.tranches_off, u64::from(!position.tranches_sum));
        self.senior_principal = down(self.senior_principal, U256::from(position.senior.0));
        self.accrued_wad = down(self.accrued_wad, U512::from(position.accrued_wad));
        self.rate = down(self.rate, U512::from(position.interest_per_second_wad));
        self.rate_times_checkpoint =
            down(self.rate_times_checkpoint, rate_times_checkpoint(position));
        let silo = self
            .by_silo
            .get_mut(&position.silo)
            .unwrap_or_else(|| unreachable!("a position is removed from the silo it was added to"));
        silo.count = down(silo.count, 1);
        silo.senior = down(silo.senior, U256::from(position.senior.0));
        silo.junior = down(silo.junior, U256::from(position.junior.0));
        if silo.count == 0 {
            self.by_silo.remove(&position.silo);
        }
    }

    /// Whether `self` (made from a scan of the loans) holds the same sums as `kept` (kept
    /// write by write): every sum equal, and `kept`'s checkpoint bound at or above the scan's
    /// (a scan sees only the loans still open).
    pub fn same_sums(&self, kept: &OpenLoanBooks) -> bool {
        OpenLoanBooks { checkpoints_until: kept.checkpoints_until, ..self.clone() } == *kept
            && kept.checkpoints_until >= self.checkpoints_until
    }

    /// How many open loans are counted.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sums at `now`, exactly what a walk over the open loans adds up (principal and
    /// each position's [`SeniorAccrual::accrued_wad_at`]); `None` when any open loan's tranches
    /// do not sum to its balance, when `now` is before a position's checkpoint, or when a sum
    /// does not fit where the walk keeps it: the walk says what is wrong then.
    pub fn at(&self, now: u64) -> Option<OpenLoanSums> {
        if self.tranches_off != 0 || now < self.checkpoints_until {
            return None;
        }
        let accrued = self
            .accrued_wad
            .checked_add(self.rate.checked_mul(U512::from(now))?)?
            .checked_sub(self.rate_times_checkpoint)?;
        let amount = |sum: U256| u128::try_from(sum).ok().map(Amount);
        let mut by_silo = BTreeMap::new();
        for (&id, silo) in &self.by_silo {
            by_silo.insert(id, (amount(silo.senior)?, amount(silo.junior)?));
        }
        Some(OpenLoanSums {
            senior_principal: amount(self.senior_principal)?,
            rate: narrow(self.rate)?,
            accrued: narrow(accrued)?,
            by_silo,
        })
    }
}

/// A position's rate times its checkpoint: below 2^320, so exact in 512 bits.
fn rate_times_checkpoint(position: &OpenPosition) -> U512 {
    U512::from(position.interest_per_second_wad) * U512::from(position.checkpoint_at)
}

/// `sum + by`. The sums never come near their width: fewer than 2^64 loans, each term below
/// 2^320 (a rate times a checkpoint; a principal below 2^128), so an overflow is a bug.
fn up<T: CheckedSum>(sum: T, by: T) -> T {
    sum.checked_plus(by).unwrap_or_else(|| unreachable!("an open-loan sum overflows"))
}

/// `sum - by`, where `sum` holds `by` (the position was added and not removed since).
fn down<T: CheckedSum>(sum: T, by: T) -> T {
    sum.checked_minus(by)
        .unwrap_or_else(|| unreachable!("an open-loan sum loses a position it never held"))
}

/// The value if it fits 256 bits.
fn narrow(value: U512) -> Option<U256> {
    (value <= U512::from(U256::MAX)).then(|| U256::from(value))
}

/// The checked addition and subtraction the sums use, over their integer widths.
trait CheckedSum: Sized {
    fn checked_plus(self, by: Self) -> Option<Self>;
    fn checked_minus(self, by: Self) -> Option<Self>;
}

impl CheckedSum for u64 {
    fn checked_plus(self, by: Self) -> Option<Self> {
        self.checked_add(by)
    }
    fn checked_minus(self, by: Self) -> Option<Self> {
        self.checked_sub(by)
    }
}

impl CheckedSum for U256 {
    fn checked_plus(self, by: Self) -> Option<Self> {
        self.checked_add(by)
    }
    fn checked_minus(self, by: Self) -> Option<Self> {
        self.checked_sub(by)
    }
}

impl CheckedSum for U512 {
    fn checked_plus(self, by: Self) -> Option<Self> {
        self.checked_add(by)
    }
    fn checked_minus(self, by: Self) -> Option<Self> {
        self.checked_sub(by)
    }
}
