//! The double-entry ledger (SPEC 3): every movement of every asset is a transfer between two
//! accounts, recorded as an event; minting and burning change an asset's supply.
//!
//! Guarantees: for every asset, the sum of balances equals issued minus burned; no balance is
//! negative (amounts are unsigned and every subtraction is checked); zero balances are not
//! stored, so equal ledgers have equal encodings.

use crate::{
    action::ActionHandler,
    error::TxError,
    event::Event,
    ids::{Account, Address, Asset, ProtocolAccount},
    math::Amount,
    points, result_codes,
    state::State,
    table::{Table, Unordered, component},
};
use serde::{Deserialize, Serialize};

result_codes! {
    /// Rejections of the ledger and of time.
    pub enum LedgerError {
        AmountMustNotBeZero = 101 => "amount_must_not_be_zero",
            "The amount must be greater than zero.";
        BalanceInsufficient = 102 => "balance_insufficient",
            "The account's balance is smaller than the amount.";
        ArithmeticOverflow = 103 => "arithmetic_overflow",
            "The result does not fit in the protocol's number range.";
        BlockTimeMustNotDecrease = 104 => "block_time_must_not_decrease",
            "The block timestamp is earlier than the state's time.";
        SenderIsFrozen = 105 => "sender_is_frozen",
            "The sender is frozen and may not send USDai or sUSDai.";
        RecipientIsFrozen = 106 => "recipient_is_frozen",
            "The recipient is frozen and may not receive USDai or sUSDai.";
        AssetIsNotTransferable = 107 => "asset_is_not_transferable",
            "This asset cannot be transferred between users.";
        RecipientMustNotBeSender = 108 => "recipient_must_not_be_sender",
            "The recipient is the sender.";
        NonceMismatch = 109 => "nonce_mismatch",
            "The transaction's nonce is not the sender's next nonce.";
        AssetIsNotSupported = 110 => "asset_is_not_supported",
            "The asset is not supported by the protocol.";
        BlockHeightMustNotDecrease = 111 => "block_height_must_not_decrease",
            "The block height is lower than the state's height.";
        RecipientMustNotBeZero = 112 => "recipient_must_not_be_zero",
            "The recipient is the zero address, which no key controls.";
    }
}

impl From<crate::math::Overflow> for TxError {
    fn from(_: crate::math::Overflow) -> TxError {
        TxError::Ledger(LedgerError::ArithmeticOverflow)
    }
}

/// Issued and burned totals of one asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supply {
    /// Everything ever minted.
    pub issued: Amount,
    /// Everything ever burned.
    pub burned: Amount,
}

impl Supply {
    /// Issued minus burned: what exists now.
    pub fn outstanding(&self) -> Amount {
        // Burning more than was issued is impossible: a burn debits a balance first.
        self.issued.saturating_sub(self.burned)
    }
}

/// A user's USDai and sUSDai balances with the points they earn, kept in one record so the
/// hottest path (a USDai transfer) finds everything it needs in one lookup per side.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// USDai balance.
    pub usdai: Amount,
    /// Unlocked sUSDai balance.
    pub susdai: Amount,
    /// Points earned on these balances.
    pub points: points::PointsAccount,
}

impl Holding {
    /// The balance of `asset` (USDai or sUSDai).
    fn amount(&self, asset: Asset) -> Amount {
        match asset {
            Asset::Usdai => self.usdai,
            Asset::Susdai => self.susdai,
            _ => unreachable!("a holding carries only USDai and sUSDai"),
        }
    }

    fn set_amount(&mut self, asset: Asset, amount: Amount) {
        match asset {
            Asset::Usdai => self.usdai = amount,
            Asset::Susdai => self.susdai = amount,
            _ => unreachable!("a holding carries only USDai and sUSDai"),
        }
    }
}

component! {
    /// Balances and supplies.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub struct LedgerState at "ledger" paths LedgerPaths {
        /// Users' USDai and sUSDai balances and points (every user that ever held either).
        /// Like every table here but `supply`, read by key on every path and iterated only
        /// where order cannot matter (encoding and leaves sort the keys, checks, the points
        /// leaderboard and totals): no key order kept ([`Unordered`]), so a new key costs no
        /// B-tree insert and a key that goes no B-tree removal.
        pub holdings: Table<Address, Holding, Unordered>,
        /// Every other non-zero balance: protocol accounts, stablecoins, TBILL. A protocol
        /// account's balance that falls to zero goes and comes back (the reserve's stablecoin,
        /// at every mint).
        pub balances: Table<(Account, Asset), Amount, Unordered>,
        /// Issued and burned per asset.
        pub supply: Table<Asset, Supply>,
        /// Addresses frozen by compliance (SPEC 4).
        pub frozen: Table<Address, (), Unordered>,
        /// Addresses verified by the KYC registrar.
        pub kyc_verified: Table<Address, (), Unordered>,
        /// Each address's next transaction nonce (absent means 0): a new sender's first
        /// transaction adds one.
        pub nonces: Table<Address, u64, Unordered>,
    }
}

impl LedgerState {
    /// The balance of `account` in `asset`.
    pub fn balance(&self, account: impl Into<Account>, asset: Asset) -> Amount {
        let account = account.into();
        match holding_key(account, asset) {
            Some(address) => self.holdings.get(&address).map_or(Amount::ZERO, |h| h.amount(asset)),
            None => self.balances.get(&(account, asset)).copied().unwrap_or(Amount::ZERO),
        }
    }

    /// Every non-zero balance, holdings included, in no particular order of accounts.
    pub fn all_balances(&self) -> impl Iterator<Item = (Account, Asset, Amount)> + '_ {
        let held = self.holdings.iter().flat_map(|(address, holding)| {
            [(Asset::Usdai, holding.usdai), (Asset::Susdai, holding.susdai)]
                .into_iter()
                .filter(|(_, amount)| !amount.is_zero())
                .map(|(asset, amount)| (Account::User(*address), asset, amount))
        });
        let other =
            self.balances.iter().map(|(&(account, asset), &amount)| (account, asset, amount));
        held.chain(other)
    }

    /// What exists of `asset`: issued minus burned.
    pub fn supply_of(&self, asset: Asset) -> Amount {
        self.supply.get(&asset).map(Supply::outstanding).unwrap_or(Amount::ZERO)
    }

    /// Whether `address` is frozen.
    pub fn is_frozen(&self, address: Address) -> bool {
        !self.frozen.is_empty() && self.frozen.contains_key(&address)
    }

    /// The next nonce `address` must use.
    pub fn nonce(&self, address: Address) -> u64 {
        self.nonces.get(&address).copied().unwrap_or(0)
    }

    fn set_balance(&mut self, account: Account, asset: Asset, amount: Amount) {
        debug_assert!(holding_key(account, asset).is_none(), "holdings change through set_holding");
        if amount.is_zero() {
            self.balances.remove(&(account, asset));
        } else {
            self.balances.insert((account, asset), amount);
        }
    }
}

/// The user whose `Holding` carries this balance, if it is a user's USDai or sUSDai (the
/// balances that earn points, SPEC 12).
fn holding_key(account: Account, asset: Asset) -> Option<Address> {
    match (account, asset) {
        (Account::User(address), Asset::Usdai | Asset::Susdai) => Some(address),
        _ => None,
    }
}

/// A balance read for a write: a user's whole holding, or a plain balance.
enum Entry {
    Held(Address, Holding),
    Plain(Amount),
}

impl Entry {
    fn read(state: &State, account: Account, asset: Asset) -> Entry {
        match holding_key(account, asset) {
            Some(address) => Entry::Held(
                address,
                state.ledger.holdings.get(&address).cloned().unwrap_or_default(),
            ),
            None => Entry::Plain(
                state.ledger.balances.get(&(account, asset)).copied().unwrap_or_default(),
            ),
        }
    }

    fn amount(&self, asset: Asset) -> Amount {
        match self {
            Entry::Held(_, holding) => holding.amount(asset),
            Entry::Plain(amount) => *amount,
        }
    }

    /// Writes `amount` back, settling a holding's points first (SPEC 12: settle on change).
    fn write(self, state: &mut State, account: Account, asset: Asset, amount: Amount) {
        match self {
            Entry::Held(address, mut holding) => {
                points::settle_holding(state.points.globals.get(), &mut holding);
                holding.set_amount(asset, amount);
                state.ledger.holdings.insert(address, holding);
            }
            Entry::Plain(_) => state.ledger.set_balance(account, asset, amount),
        }
    }
}

/// Frozen addresses can neither send nor receive USDai or sUSDai (SPEC 4).
fn check_not_frozen(
    state: &State,
    account: Account,
    asset: Asset,
    error: LedgerError,
) -> Result<(), TxError> {
    if let (Account::User(address), Asset::Usdai | Asset::Susdai) = (account, asset)
        && state.ledger.is_frozen(address)
    {
        return Err(error.into());
    }
    Ok(())
}

/// Moves `amount` of `asset` from `from` to `to`. Rejects a zero amount, a short balance, and
/// USDai/sUSDai moving out of or into a frozen address.
pub fn transfer(
    state: &mut State,
    asset: Asset,
    from: impl Into<Account>,
    to: impl Into<Account>,
    amount: Amount,
) -> Result<(), TxError> {
    let (from, to) = (from.into(), to.into());
    if amount.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    check_not_frozen(state, from, asset, LedgerError::SenderIsFrozen)?;
    check_not_frozen(state, to, asset, LedgerError::RecipientIsFrozen)?;
    if from == to {
        return match state.ledger.balance(from, asset) >= amount {
            true => Ok(()),
            false => Err(LedgerError::BalanceInsufficient.into()),
        };
    }
    let from_entry = Entry::read(state, from, asset);
    let from_after = from_entry
        .amount(asset)
        .checked_sub(amount)
        .map_err(|_| LedgerError::BalanceInsufficient)?;
    let to_entry = Entry::read(state, to, asset);
    let to_after = to_entry.amount(asset).checked_add(amount)?;
    from_entry.write(state, from, asset, from_after);
    to_entry.write(state, to, asset, to_after);
    state.emit(Event::Transferred { asset, from, to, amount });
    Ok(())
}

/// Moves `legs` from `from` to their recipients through the transit account `via` (a loan's
/// account): the events show `from` paying the sum into `via` and `via` paying each leg, in
/// order, as if each had been a [`transfer`]; the balances move straight from `from` to the
/// recipients, so `via`, empty before, is never written (it would be empty again after). Zero
/// legs are skipped. Checks the sender and every recipient (frozen, balance) before any write;
/// a credit overflowing (beyond any supply) is the only failure after a write, and the caller's
/// transaction is then rolled back.
pub(crate) fn transfer_through(
    state: &mut State,
    asset: Asset,
    from: impl Into<Account>,
    via: impl Into<Account>,
    legs: &[(Account, Amount)],
) -> Result<(), TxError> {
    let (from, via) = (from.into(), via.into());
    debug_assert!(state.ledger.balance(via, asset).is_zero(), "a transit account is empty");
    let mut total = Amount::ZERO;
    for &(to, amount) in legs {
        total = total.checked_add(amount)?;
        if !amount.is_zero() {
            check_not_frozen(state, to, asset, LedgerError::RecipientIsFrozen)?;
        }
    }
    if total.is_zero() {
        return Ok(());
    }
    check_not_frozen(state, from, asset, LedgerError::SenderIsFrozen)?;
    let from_entry = Entry::read(state, from, asset);
    let from_after = from_entry
        .amount(asset)
        .checked_sub(total)
        .map_err(|_| LedgerError::BalanceInsufficient)?;
    from_entry.write(state, from, asset, from_after);
    state.emit(Event::Transferred { asset, from, to: via, amount: total });
    for &(to, amount) in legs.iter().filter(|(_, amount)| !amount.is_zero()) {
        // Read each recipient after the previous write: two legs may pay the same account.
        let to_entry = Entry::read(state, to, asset);
        let to_after = to_entry.amount(asset).checked_add(amount)?;
        to_entry.write(state, to, asset, to_after);
        state.emit(Event::Transferred { asset, from: via, to, amount });
    }
    Ok(())
}

/// Creates `amount` of `asset` in `to`'s balance.
pub fn mint(
    state: &mut State,
    asset: Asset,
    to: impl Into<Account>,
    amount: Amount,
) -> Result<(), TxError> {
    let to = to.into();
    if amount.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    check_not_frozen(state, to, asset, LedgerError::RecipientIsFrozen)?;
    let to_entry = Entry::read(state, to, asset);
    let to_after = to_entry.amount(asset).checked_add(amount)?;
    let mut supply = state.ledger.supply.get(&asset).copied().unwrap_or_default();
    supply.issued = supply.issued.checked_add(amount)?;
    state.ledger.supply.insert(asset, supply);
    to_entry.write(state, to, asset, to_after);
    state.emit(Event::Minted { asset, to, amount });
    Ok(())
}

/// Destroys `amount` of `asset` from `from`'s balance.
pub fn burn(
    state: &mut State,
    asset: Asset,
    from: impl Into<Account>,
    amount: Amount,
) -> Result<(), TxError> {
    let from = from.into();
    if amount.is_zero() {
        return Err(LedgerError::AmountMustNotBeZero.into());
    }
    check_not_frozen(state, from, asset, LedgerError::SenderIsFrozen)?;
    let from_entry = Entry::read(state, from, asset);
    let from_after = from_entry
        .amount(asset)
        .checked_sub(amount)
        .map_err(|_| LedgerError::BalanceInsufficient)?;
    let mut supply = state.ledger.supply.get(&asset).copied().unwrap_or_default();
    supply.burned = supply.burned.checked_add(amount)?;
    assert!(supply.burned <= supply.issued, "burned more {asset} than was issued");
    state.ledger.supply.insert(asset, supply);
    from_entry.write(state, from, asset, from_after);
    state.emit(Event::Burned { asset, from, amount });
    Ok(())
}

/// A run of burns and transfers between protocol accounts (a servicing round's: shares burned
/// from the queue's escrow and USDai moved from the vault to the claims account once per
/// request served, the jumpers' fees from the bid escrow to the fee pool, the protocol's cut
/// and swept dust from the pool to the fee collector), each checked and announced as [`burn`]
/// and [`transfer`] would (same checks, same errors, same events, in the same order), with the
/// balances and supplies they touch kept here and written to the ledger once, by
/// [`Postings::write`]: each balance is read once and written once however many postings move
/// it. Protocol accounts hold plain balances, never frozen and earning no points, so nothing
/// else happens on their writes.
///
/// Until `write`, the ledger still holds the balances from before each balance's first
/// posting: while postings are pending their balances are read here, never from the ledger,
/// and nothing writes them to the ledger directly (checked in debug builds by `write`). A
/// balance is read when first needed, so one written directly before that (a sealed bid's
/// penalty, paid into the fee pool while a round serves) is read as it then stands.
///
/// The few balances and supplies are kept in place (a round posts to six accounts and one
/// supply), so a run of postings allocates nothing.
#[derive(Debug)]
pub(crate) struct Postings {
    /// Balances read so far (the first `balances_read`), with whether a posting changed them.
    balances: [((Account, Asset), Amount, bool); POSTINGS_BALANCES_MAX],
    /// The ledger's balance when each was read (for `write`'s debug check).
    balances_at_read: [Amount; POSTINGS_BALANCES_MAX],
    balances_read: usize,
    /// Supplies read so far (the first `supplies_read`), with whether a posting changed them.
    supplies: [(Asset, Supply, bool); POSTINGS_SUPPLIES_MAX],
    supplies_read: usize,
}

/// The most balances one [`Postings`] holds (a round's: the vault, the queue's escrow, the
/// claims account, the bid escrow, the fee pool and the fee collector).
const POSTINGS_BALANCES_MAX: usize = 6;

/// The most supplies one [`Postings`] holds (a round's serving reads one).
const POSTINGS_SUPPLIES_MAX: usize = 2;

impl Default for Postings {
    fn default() -> Self {
        // Places not yet read hold a placeholder that is never read.
        let unread =
            ((Account::Protocol(ProtocolAccount::Vault), Asset::Usdai), Amount::ZERO, false);
        Postings {
            balances: [unread; POSTINGS_BALANCES_MAX],
            balances_at_read: [Amount::ZERO; POSTINGS_BALANCES_MAX],
            balances_read: 0,
            supplies: [(Asset::Usdai, Supply::default(), false); POSTINGS_SUPPLIES_MAX],
            supplies_read: 0,
        }
    }
}

/// The place of a balance in a [`Postings`], taken once for a run of postings to the same
/// account (a round's vault, escrow and claims accounts) so each posting finds it at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BalanceSlot(usize);

/// The place of an asset's supply in a [`Postings`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct SupplySlot(usize);

impl Postings {
    /// The slot of `account`'s `asset` balance, read from the ledger the first time.
    pub(crate) fn balance_slot(
        &mut self,
        state: &State,
        account: impl Into<Account>,
        asset: Asset,
    ) -> BalanceSlot {
        let account = account.into();
        debug_assert!(holding_key(account, asset).is_none(), "postings hold plain balances");
        let key = (account, asset);
        let read = &self.balances[..self.balances_read];
        match read.iter().position(|(held, _, _)| *held == key) {
            Some(at) => BalanceSlot(at),
            None => {
                let at = self.balances_read;
                assert!(at < POSTINGS_BALANCES_MAX, "postings hold {at} balances at most");
                let amount = state.ledger.balances.get(&key).copied().unwrap_or_default();
                self.balances[at] = (key, amount, false);
                self.balances_at_read[at] = amount;
                self.balances_read += 1;
                BalanceSlot(at)
            }
        }
    }

    /// The slot of `asset`'s supply, read from the ledger the first time.
    pub(crate) fn supply_slot(&mut self, state: &State, asset: Asset) -> SupplySlot {
        let read = &self.supplies[..self.supplies_read];
        match read.iter().position(|(held, _, _)| *held == asset) {
            Some(at) => SupplySlot(at),
            None => {
                let at = self.supplies_read;
                assert!(at < POSTINGS_SUPPLIES_MAX, "postings hold {at} supplies at most");
                let supply = state.ledger.supply.get(&asset).copied().unwrap_or_default();
                self.supplies[at] = (asset, supply, false);
                self.supplies_read += 1;
                SupplySlot(at)
            }
        }
    }

    /// The balance in `slot`, postings included.
    pub(crate) fn balance_in(&self, slot: BalanceSlot) -> Amount {
        self.balances[slot.0].1
    }

    /// What exists of the asset in `slot`, postings included.
    pub(crate) fn supply_in(&self, slot: SupplySlot) -> Amount {
        self.supplies[slot.0].1.outstanding()
    }

    /// [`burn`] from the protocol account in `from`, of the asset whose supply is in `supply`.
    pub(crate) fn burn_from(
        &mut self,
        state: &mut State,
        from: BalanceSlot,
        supply: SupplySlot,
        amount: Amount,
    ) -> Result<(), TxError> {
        let ((account, asset), balance, _) = self.balances[from.0];
        assert_eq!(self.supplies[supply.0].0, asset, "a burn's supply is its balance's asset");
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        let from_after =
            balance.checked_sub(amount).map_err(|_| LedgerError::BalanceInsufficient)?;
        let supply = &mut self.supplies[supply.0];
        let burned = supply.1.burned.checked_add(amount)?;
        assert!(burned <= supply.1.issued, "burned more {asset} than was issued");
        supply.1.burned = burned;
        supply.2 = true;
        self.balances[from.0].1 = from_after;
        self.balances[from.0].2 = true;
        state.emit(Event::Burned { asset, from: account, amount });
        Ok(())
    }

    /// [`transfer`] between the protocol accounts in `from` and `to` (the same asset).
    pub(crate) fn transfer_between(
        &mut self,
        state: &mut State,
        from: BalanceSlot,
        to: BalanceSlot,
        amount: Amount,
    ) -> Result<(), TxError> {
        let ((from_account, asset), from_balance, _) = self.balances[from.0];
        let ((to_account, to_asset), to_balance, _) = self.balances[to.0];
        assert_eq!(asset, to_asset, "a transfer moves one asset");
        if amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        if from == to {
            return match from_balance >= amount {
                true => Ok(()),
                false => Err(LedgerError::BalanceInsufficient.into()),
            };
        }
        let from_after =
            from_balance.checked_sub(amount).map_err(|_| LedgerError::BalanceInsufficient)?;
        let to_after = to_balance.checked_add(amount)?;
        self.balances[from.0].1 = from_after;
        self.balances[from.0].2 = true;
        self.balances[to.0].1 = to_after;
        self.balances[to.0].2 = true;
        state.emit(Event::Transferred { asset, from: from_account, to: to_account, amount });
        Ok(())
    }

    /// Writes what the postings changed to the ledger.
    pub(crate) fn write(self, state: &mut State) {
        let read = self.balances[..self.balances_read].iter().zip(&self.balances_at_read);
        for (&((account, asset), amount, changed), &at_read) in read {
            debug_assert_eq!(
                state.ledger.balances.get(&(account, asset)).copied().unwrap_or_default(),
                at_read,
                "{account:?}'s {asset} balance was written beside its pending postings"
            );
            if changed {
                state.ledger.set_balance(account, asset, amount);
            }
        }
        for &(asset, supply, changed) in &self.supplies[..self.supplies_read] {
            if changed {
                state.ledger.supply.insert(asset, supply);
            }
        }
    }
}

/// Send an asset to another user.
///
/// The `transfer` action: a user sends a transferable asset to another user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The asset sent (USDai, sUSDai or a stablecoin; TBILL never moves by transfer).
    pub asset: Asset,
    /// The recipient.
    pub to: Address,
    /// How much, in base units (10^-18).
    pub amount: Amount,
}

impl ActionHandler for Transfer {
    const NAME: &'static str = "transfer";

    fn check_stateless(&self) -> Result<(), TxError> {
        if self.amount.is_zero() {
            return Err(LedgerError::AmountMustNotBeZero.into());
        }
        Ok(())
    }

    fn execute(&self, state: &mut State, sender: Address) -> Result<(), TxError> {
        let Self { asset, to, amount } = *self;
        match asset {
            Asset::Tbill => return Err(LedgerError::AssetIsNotTransferable.into()),
            Asset::Stablecoin(symbol) if !state.reserve.stablecoins.contains_key(&symbol) => {
                return Err(LedgerError::AssetIsNotSupported.into());
            }
            _ => {}
        }
        if to == sender {
            return Err(LedgerError::RecipientMustNotBeSender.into());
        }
        // Nobody holds the zero address's key: what is sent there is lost for good.
        if to == Address::ZERO {
            return Err(LedgerError::RecipientMustNotBeZero.into());
        }
        transfer(state, asset, sender, to, amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POOL: Account = Account::Protocol(ProtocolAccount::QevFeePool);
    const ESCROW: Account = Account::Protocol(ProtocolAccount::BidEscrow);
    const COLLECTOR: Account = Account::Protocol(ProtocolAccount::FeeCollector);

    /// Three postings to one account (a round's fee in, its protocol cut and swept dust out)
    /// leave the balances three transfers would, each written once, with the three transfers'
    /// events in order; an account emptied goes from the ledger as a transfer's would.
    #[test]
    fn postings_leave_the_balances_and_events_of_the_transfers_they_stand_for() {
        let mut state = State::default();
        state.ledger.set_balance(POOL, Asset::Usdai, Amount(10));
        state.ledger.set_balance(ESCROW, Asset::Usdai, Amount(5));
        let mut postings = Postings::default();
        let escrow = postings.balance_slot(&state, ProtocolAccount::BidEscrow, Asset::Usdai);
        let pool = postings.balance_slot(&state, ProtocolAccount::QevFeePool, Asset::Usdai);
        postings.transfer_between(&mut state, escrow, pool, Amount(5)).expect("escrowed");
        let collector = postings.balance_slot(&state, ProtocolAccount::FeeCollector, Asset::Usdai);
        assert_eq!(postings.balance_slot(&state, POOL, Asset::Usdai), pool, "found again");
        postings.transfer_between(&mut state, pool, collector, Amount(3)).expect("held");
        postings.transfer_between(&mut state, pool, collector, Amount(2)).expect("held");
        let short = postings.transfer_between(&mut state, escrow, pool, Amount(1));
        assert_eq!(short, Err(LedgerError::BalanceInsufficient.into()));
        assert_eq!(state.ledger.balance(POOL, Asset::Usdai), Amount(10), "not yet written");
        postings.write(&mut state);
        assert_eq!(state.ledger.balance(POOL, Asset::Usdai), Amount(10));
        assert_eq!(state.ledger.balance(COLLECTOR, Asset::Usdai), Amount(5));
        assert!(!state.ledger.balances.contains_key(&(ESCROW, Asset::Usdai)), "emptied, gone");
        let moved: Vec<_> = state
            .events
            .iter()
            .map(|event| match *event {
                Event::Transferred { from, to, amount, .. } => (from, to, amount),
                ref other => panic!("only transfers: {other:?}"),
            })
            .collect();
        let expected =
            [(ESCROW, POOL, Amount(5)), (POOL, COLLECTOR, Amount(3)), (POOL, COLLECTOR, Amount(2))];
        assert_eq!(moved, expected);
    }

    /// A balance written to the ledger directly while postings to it are pending would be lost
    /// when they are written: a debug build refuses it at `write`.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "written beside its pending postings")]
    fn a_balance_written_beside_its_pending_postings_is_refused() {
        let mut state = State::default();
        state.ledger.set_balance(POOL, Asset::Usdai, Amount(10));
        let mut postings = Postings::default();
        let pool = postings.balance_slot(&state, ProtocolAccount::QevFeePool, Asset::Usdai);
        let collector = postings.balance_slot(&state, ProtocolAccount::FeeCollector, Asset::Usdai);
        postings.transfer_between(&mut state, pool, collector, Amount(4)).expect("held");
        state.ledger.set_balance(POOL, Asset::Usdai, Amount(11));
        postings.write(&mut state);
    }
}
