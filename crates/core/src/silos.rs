//! FiLo curator silos (SPEC 10): a curator's isolated book of loans with its own first-loss
//! pool (`ProtocolAccount::SiloPool(id)`), its LTV limits and concentration limit, the senior
//! cap admin sets, and the silo's share of senior impairment.
//!
//! Guarantees (SPEC 14.5): every movement of a pool's USDai goes through [`pool_transfer_in`] or
//! [`pool_transfer_out`], which name one silo and keep its `pool_balance` book equal to the
//! ledger, so no code path moves USDai from one silo's pool to another's; the first-loss
//! capital (free pool + junior principal funded) stays at least `min_first_loss_bps` of the
//! senior exposure except after a recognised loss; a silo's impairment is the senior principal
//! its impaired loans' expected recoveries leave uncovered, less its free pool.
//!
//! Succession (SPEC 10, issue 11 item 4): first-loss capital stays with whoever posted it. A
//! successor assigned to a frozen silo services its loans (and earns the curator fee), but the
//! pool keeps absorbing the losses of those loans for its owner, its junior repayments return
//! to it, and only its owner ([`capital_owner`]) may add to or withdraw it: what is left once
//! the loans close goes back to the original curator. The successor posts its own capital in
//! its own silo for new loans: a silo cannot be unfrozen for a successor while another's
//! capital or loans remain in it.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    governance::require_role,
    ids::{Account, Address, Asset, AssetClassId, ProtocolAccount, SiloId},
    ledger::{self, LedgerError},
    math::{Amount, Bps, Rounding},
    params::Role,
    result_codes,
    state::State,
    table::{Slot, Table, Unordered, component},
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of silo actions.
    pub enum SiloError {
        SiloNotFound = 701 => "silo_not_found",
            "No silo has this id.";
        SenderIsNotSiloCurator = 702 => "sender_is_not_silo_curator",
            "Only the silo's curator may do this.";
        SiloTermsInvalid = 703 => "silo_terms_invalid",
            "Silo terms need 1 to 16 distinct registered classes, 0 < initial LTV <= margin-call LTV <= 100%, a concentration limit above zero and a curator fee of at most 50%.";
        SiloIsFrozen = 704 => "silo_is_frozen",
            "The silo is frozen: it makes no new loans.";
        SiloNotFrozen = 705 => "silo_not_frozen",
            "Only a frozen silo can be assigned a successor curator.";
        FirstLossWouldFallBelowRequirement = 706 => "first_loss_would_fall_below_requirement",
            "The withdrawal would take the silo's first-loss capital below its requirement.";
        FirstLossPoolInsufficient = 707 => "first_loss_pool_insufficient",
            "The silo's first-loss pool holds less than the amount.";
        SiloHasImpairedLoans = 708 => "silo_has_impaired_loans",
            "First-loss capital cannot leave a silo while one of its loans is in margin call or default.";
        SiloSeniorCapExceeded = 709 => "silo_senior_cap_exceeded",
            "The loan would take the silo's senior exposure above the cap admin set.";
        BorrowerConcentrationExceeded = 710 => "borrower_concentration_exceeded",
            "The loan would take the borrower's senior exposure in the silo above its concentration limit.";
        AssetClassNotEligibleInSilo = 711 => "asset_class_not_eligible_in_silo",
            "The silo does not lend against this asset class.";
        SuccessorLacksCuratorRole = 712 => "successor_lacks_curator_role",
            "A successor curator must hold the curator role.";
        SiloFrozenStateUnchanged = 713 => "silo_frozen_state_unchanged",
            "The silo is already in the requested frozen state.";
        FirstLossBelowRequirement = 714 => "first_loss_below_requirement",
            "The silo's first-loss capital would be below its requirement after this loan.";
        SenderIsNotCapitalOwner = 715 => "sender_is_not_capital_owner",
            "Only whoever posted the silo's first-loss capital may add to it or withdraw it; a successor curator posts its own capital in its own silo.";
        SiloCapitalBelongsToPredecessor = 716 => "silo_capital_belongs_to_predecessor",
            "The silo cannot be unfrozen while a predecessor's first-loss capital or loans remain in it: the successor lends from its own silo.";
    }
}

/// The most asset classes one silo may lend against.
pub const SILO_CLASSES_MAX: usize = 16;
/// The highest curator fee, as a share of senior interest.
pub const CURATOR_FEE_BPS_MAX: u32 = 5_000;

/// What a curator sets when opening a silo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SiloTerms {
    /// The asset classes it lends against.
    pub eligible_classes: Vec<AssetClassId>,
    /// The highest LTV at origination and the limit a margin call must cure back under.
    pub max_initial_ltv_bps: Bps,
    /// Above this LTV a re-mark opens a margin call.
    pub margin_call_ltv_bps: Bps,
    /// One borrower's senior exposure may be at most this share of the silo's senior cap.
    pub max_borrower_share_bps: Bps,
    /// The curator's share of senior interest, for servicing.
    pub curator_fee_bps: Bps,
}

impl Default for SiloTerms {
    fn default() -> SiloTerms {
        SiloTerms {
            eligible_classes: Vec::new(),
            max_initial_ltv_bps: Bps(7_000),
            margin_call_ltv_bps: Bps(8_000),
            max_borrower_share_bps: Bps(10_000),
            curator_fee_bps: Bps(0),
        }
    }
}

impl SiloTerms {
    fn is_valid(&self, state: &State) -> bool {
        let classes = &self.eligible_classes;
        let distinct = classes.windows(2).all(|pair| pair[0] < pair[1]);
        !classes.is_empty()
            && classes.len() <= SILO_CLASSES_MAX
            && distinct
            && classes.iter().all(|class| state.receipts.classes.contains_key(class))
            && self.max_initial_ltv_bps.0 > 0
            && self.max_initial_ltv_bps <= self.margin_call_ltv_bps
            && self.margin_call_ltv_bps.is_fraction()
            && self.max_borrower_share_bps.0 > 0
            && self.max_borrower_share_bps.is_fraction()
            && self.curator_fee_bps.0 <= CURATOR_FEE_BPS_MAX
    }
}

/// A silo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silo {
    /// Its id.
    pub id: SiloId,
    /// Its curator (a successor after assignment).
    pub curator: Address,
    /// Its terms.
    pub terms: SiloTerms,
    /// The most senior principal it may draw from the vault.
    pub senior_cap: Amount,
    /// Whether admin froze it.
    pub frozen: bool,
    /// The free first-loss pool, as booked by this module; equals the ledger balance.
    pub pool_balance: Amount,
    /// Senior principal outstanding in its loans.
    pub senior_outstanding: Amount,
    /// Junior principal outstanding in its loans (funded from the pool).
    pub junior_outstanding: Amount,
    /// Loans originated and not yet repaid or settled.
    pub loans_outstanding: u32,
    /// The first-loss requirement in force when it was last enforced.
    pub required_first_loss_bps: Bps,
    /// First-loss capital consumed by recognised losses, ever.
    pub losses_absorbed: Amount,
    /// Whether a recognised loss left the capital below its requirement (cleared once it is
    /// back above it).
    pub below_requirement_after_loss: bool,
    /// Senior principal its impaired loans' expected recoveries would not cover.
    pub senior_uncovered: Amount,
    /// `senior_uncovered` less the free pool: its part of the vault's impairment.
    pub impairment: Amount,
}

impl Silo {
    /// Free pool plus junior principal funded (SPEC 10).
    pub fn first_loss_capital(&self) -> Amount {
        Amount(self.pool_balance.0.saturating_add(self.junior_outstanding.0))
    }

    /// `bps` of the senior exposure, rounded up.
    pub fn first_loss_requirement(&self, bps: Bps) -> Amount {
        // An overflowing requirement is the largest one: no withdrawal or loan passes it, which
        // favours the protocol (first-loss capital stays in place).
        self.senior_outstanding.mul_bps(bps, Rounding::Up).unwrap_or(Amount::MAX)
    }
}

component! {
    /// Silos.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct SilosState at "silos" paths SilosPaths {
        /// Every silo.
        pub silos: Table<SiloId, Silo>,
        /// Senior principal outstanding per (silo, borrower), for the concentration limit.
        /// Read by key; iterated only to be encoded or checked: no key order kept
        /// ([`Unordered`]).
        pub borrower_exposure: Table<(SiloId, Address), Amount, Unordered>,
        /// Who owns a silo's first-loss capital when that is not its curator: the curator who
        /// posted it, kept when a successor is assigned ([`capital_owner`]).
        pub capital_owners: Table<SiloId, Address>,
        /// The next silo id.
        pub next_silo_id: Slot<u64>,
    }
}

/// The silo `id`, or `silo_not_found`.
pub fn silo(state: &State, id: SiloId) -> Result<Silo, TxError> {
    state.silos.silos.get(&id).cloned().ok_or(SiloError::SiloNotFound.into())
}

/// Who owns silo `id`'s first-loss capital: the curator who posted it, which is the silo's
/// curator unless a successor was assigned.
pub fn capital_owner(state: &State, silo: &Silo) -> Address {
    state.silos.capital_owners.get(&silo.id).copied().unwrap_or(silo.curator)
}

/// The silo `id` if `sender` owns its first-loss capital, else `sender_is_not_capital_owner`
/// (`sender_is_not_silo_curator` for a sender with no part in the silo, as before succession).
fn capital_owned_by(state: &State, sender: Address, id: SiloId) -> Result<Silo, TxError> {
    let silo = silo(state, id)?;
    if capital_owner(state, &silo) == sender {
        return Ok(silo);
    }
    match silo.curator == sender {
        true => Err(SiloError::SenderIsNotCapitalOwner.into()),
        false => Err(SiloError::SenderIsNotSiloCurator.into()),
    }
}

/// Applies `change` to silo `id`; the silo exists (checked by every caller).
pub(crate) fn update<R>(state: &mut State, id: SiloId, change: impl FnOnce(&mut Silo) -> R) -> R {
    match state.silos.silos.update(&id, change) {
        Some(result) => result,
        None => unreachable!("update of a missing silo"),
    }
}

/// Moves `amount` USDai from `from` into silo `id`'s pool.
pub(crate) fn pool_transfer_in(
    state: &mut State,
    id: SiloId,
    from: Account,
    amount: Amount,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    assert!(!matches!(from, Account::Protocol(ProtocolAccount::SiloPool(_))), "pool to pool");
    ledger::transfer(state, Asset::Usdai, from, ProtocolAccount::SiloPool(id), amount)?;
    pool_credited(state, id, amount)
}

/// Records `amount` USDai already credited to silo `id`'s pool account (by a ledger transfer
/// the caller made), keeping the silo's pool balance and impairment in step.
pub(crate) fn pool_credited(state: &mut State, id: SiloId, amount: Amount) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    let pool_balance = update(state, id, |silo| {
        silo.pool_balance = silo.pool_balance.checked_add(amount)?;
        Ok::<Amount, TxError>(silo.pool_balance)
    })?;
    assert_eq!(pool_balance, state.ledger.balance(ProtocolAccount::SiloPool(id), Asset::Usdai));
    refresh(state, id)
}

/// Moves `amount` USDai out of silo `id`'s pool to `to`.
pub(crate) fn pool_transfer_out(
    state: &mut State,
    id: SiloId,
    to: Account,
    amount: Amount,
) -> Result<(), TxError> {
    if amount.is_zero() {
        return Ok(());
    }
    assert!(!matches!(to, Account::Protocol(ProtocolAccount::SiloPool(_))), "pool to pool");
    ledger::transfer(state, Asset::Usdai, ProtocolAccount::SiloPool(id), to, amount)?;
    let pool_balance = update(state, id, |silo| {
        silo.pool_balance = silo.pool_balance.checked_sub(amount)?;
        Ok::<Amount, TxError>(silo.pool_balance)
    })?;
    assert_eq!(pool_balance, state.ledger.balance(ProtocolAccount::SiloPool(id), Asset::Usdai));
    refresh(state, id)
}

/// Recomputes silo `id`'s impairment from its uncovered senior principal and its pool, moves
/// the vault's aggregate by the difference, and clears the after-loss flag once the capital is
/// back above its requirement.
pub(crate) fn refresh(state: &mut State, id: SiloId) -> Result<(), TxError> {
    let Some(silo) = state.silos.silos.get(&id) else { unreachable!("refresh of a missing silo") };
    let impairment = silo.senior_uncovered.saturating_sub(silo.pool_balance);
    let old = silo.impairment;
    let restored = silo.below_requirement_after_loss
        && silo.first_loss_capital() >= silo.first_loss_requirement(silo.required_first_loss_bps);
    if impairment == old && !restored {
        return Ok(());
    }
    update(state, id, |silo| {
        silo.impairment = impairment;
        if restored {
            silo.below_requirement_after_loss = false;
        }
    });
    if impairment != old {
        let book = &mut state.vault.globals.get_mut().senior;
        book.impairment = book.impairment.checked_sub(old)?.checked_add(impairment)?;
        state.emit(Event::SiloImpairmentChanged { silo_id: id, impairment });
    }
    Ok(())
}

/// Records a recognised loss of first-loss capital; flags the silo if it is now below its
/// requirement (SPEC 14.5 allows that only after a loss).
pub(crate) fn record_loss(state: &mut State, id: SiloId, loss: Amount) -> Result<(), TxError> {
    update(state, id, |silo| {
        silo.losses_absorbed = silo.losses_absorbed.checked_add(loss)?;
        let requirement = silo.first_loss_requirement(silo.required_first_loss_bps);
        if silo.first_loss_capital() < requirement {
            silo.below_requirement_after_loss = true;
        }
        Ok::<(), TxError>(())
    })
}

/// Curator: open a silo.
///
/// A curator opens a silo with its terms; admin sets its senior cap later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenSilo {
    /// The silo's eligible classes, LTV limits, concentration limit and curator fee.
    pub terms: SiloTerms,
}

impl ActionHandler for OpenSilo {
    const NAME: &'static str = "open_silo";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let terms = &self.terms;
        require_role(state, Role::Curator, sender)?;
        if !terms.is_valid(state) {
            return Err(SiloError::SiloTermsInvalid.into());
        }
        let id = SiloId(*state.silos.next_silo_id.get());
        *state.silos.next_silo_id.get_mut() += 1;
        let silo = Silo {
            id,
            curator: sender,
            terms: terms.clone(),
            senior_cap: Amount::ZERO,
            frozen: false,
            pool_balance: Amount::ZERO,
            senior_outstanding: Amount::ZERO,
            junior_outstanding: Amount::ZERO,
            loans_outstanding: 0,
            required_first_loss_bps: state.governance.params.get().min_first_loss_bps,
            losses_absorbed: Amount::ZERO,
            below_requirement_after_loss: false,
            senior_uncovered: Amount::ZERO,
            impairment: Amount::ZERO,
        };
        state.silos.silos.insert(id, silo);
        state.emit(Event::SiloOpened { silo_id: id, curator: sender });
        Ok(())
    }
}

/// Curator: add first-loss capital.
///
/// The curator adds USDai to its silo's first-loss pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositFirstLoss {
    /// The silo.
    pub silo_id: SiloId,
    /// USDai added to its first-loss pool, in base units.
    pub amount: Amount,
}

impl ActionHandler for DepositFirstLoss {
    const NAME: &'static str = "deposit_first_loss";
    // It the free pool absorbs an impaired silo's uncovered principal before the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id: id, amount } = *self;
        capital_owned_by(state, sender, id)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        pool_transfer_in(state, id, Account::User(sender), amount)?;
        state.emit(Event::FirstLossDeposited { silo_id: id, amount });
        Ok(())
    }
}

/// Curator: withdraw first-loss capital.
///
/// The curator takes USDai out of its pool; while loans are outstanding,
/// never while one is impaired and never below the requirement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawFirstLoss {
    /// The silo.
    pub silo_id: SiloId,
    /// USDai taken from its first-loss pool, in base units.
    pub amount: Amount,
}

impl ActionHandler for WithdrawFirstLoss {
    const NAME: &'static str = "withdraw_first_loss";
    // It the free pool absorbs an impaired silo's uncovered principal before the vault.
    const MOVES_SHARE_PRICE: bool = true;

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id: id, amount } = *self;
        let silo = capital_owned_by(state, sender, id)?;
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if silo.pool_balance < amount {
            return Err(SiloError::FirstLossPoolInsufficient.into());
        }
        if silo.loans_outstanding > 0 {
            if !silo.senior_uncovered.is_zero() || has_impaired_loans(state, id) {
                return Err(SiloError::SiloHasImpairedLoans.into());
            }
            let bps = state.governance.params.get().min_first_loss_bps;
            let after = silo.first_loss_capital().checked_sub(amount)?;
            if after < silo.first_loss_requirement(bps) {
                return Err(SiloError::FirstLossWouldFallBelowRequirement.into());
            }
            update(state, id, |silo| silo.required_first_loss_bps = bps);
        }
        pool_transfer_out(state, id, Account::User(sender), amount)?;
        state.emit(Event::FirstLossWithdrawn { silo_id: id, amount });
        Ok(())
    }
}

fn has_impaired_loans(state: &State, id: SiloId) -> bool {
    state
        .loans
        .impaired
        .range((id, crate::ids::LoanId(0))..=(id, crate::ids::LoanId(u64::MAX)))
        .next()
        .is_some()
}

/// Admin: set a silo's senior cap.
///
/// Admin sets how much vault capital a silo may draw. Lowering it
/// below the exposure stops new loans; it recalls nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetSiloSeniorCap {
    /// The silo.
    pub silo_id: SiloId,
    /// The most vault capital it may draw, in USDai base units.
    pub cap: Amount,
}

impl ActionHandler for SetSiloSeniorCap {
    const NAME: &'static str = "set_silo_senior_cap";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id: id, cap } = *self;
        require_role(state, Role::Admin, sender)?;
        silo(state, id)?;
        update(state, id, |silo| silo.senior_cap = cap);
        state.emit(Event::SiloSeniorCapSet { silo_id: id, cap });
        Ok(())
    }
}

/// Admin: freeze or unfreeze a silo.
///
/// Admin freezes a silo (curator failure: no new loans; existing loans keep
/// being serviced) or unfreezes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetSiloFrozen {
    /// The silo.
    pub silo_id: SiloId,
    /// Whether it is frozen afterwards.
    pub frozen: bool,
}

impl ActionHandler for SetSiloFrozen {
    const NAME: &'static str = "set_silo_frozen";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id: id, frozen } = *self;
        require_role(state, Role::Admin, sender)?;
        let silo = silo(state, id)?;
        if silo.frozen == frozen {
            return Err(SiloError::SiloFrozenStateUnchanged.into());
        }
        if !frozen && capital_owner(state, &silo) != silo.curator {
            // Unfrozen, the successor would lend on the predecessor's capital. Once that is
            // all back with its owner and no loan is left, the successor's own capital starts
            // from nothing.
            if !silo.pool_balance.is_zero() || silo.loans_outstanding > 0 {
                return Err(SiloError::SiloCapitalBelongsToPredecessor.into());
            }
            state.silos.capital_owners.remove(&id);
        }
        update(state, id, |silo| silo.frozen = frozen);
        state.emit(Event::SiloFrozenChanged { silo_id: id, frozen });
        Ok(())
    }
}

/// Admin: assign a frozen silo to a successor curator.
///
/// Admin hands a frozen silo's loans to another curator to service; the first-loss pool stays
/// its poster's (it absorbs those loans' losses and returns to its owner when they close).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignSuccessorCurator {
    /// The frozen silo.
    pub silo_id: SiloId,
    /// The curator who takes it over.
    pub curator: Address,
}

impl ActionHandler for AssignSuccessorCurator {
    const NAME: &'static str = "assign_successor_curator";

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { silo_id: id, curator: successor } = *self;
        require_role(state, Role::Admin, sender)?;
        let silo = silo(state, id)?;
        if !silo.frozen {
            return Err(SiloError::SiloNotFrozen.into());
        }
        if !state.governance.has_role(Role::Curator, successor) {
            return Err(SiloError::SuccessorLacksCuratorRole.into());
        }
        let owner = capital_owner(state, &silo);
        match owner == successor {
            // Handed back to the capital's owner: it curates its own capital again.
            true => {
                state.silos.capital_owners.remove(&id);
            }
            false => state.silos.capital_owners.insert(id, owner),
        }
        update(state, id, |silo| silo.curator = successor);
        state.emit(Event::SiloCuratorAssigned { silo_id: id, curator: successor });
        Ok(())
    }
}

/// Rejects a class the silo does not lend against.
pub(crate) fn require_class_eligible(silo: &Silo, class: AssetClassId) -> Result<(), TxError> {
    if silo.terms.eligible_classes.binary_search(&class).is_err() {
        return Err(SiloError::AssetClassNotEligibleInSilo.into());
    }
    Ok(())
}
