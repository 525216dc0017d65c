//! Rejections: closed enums of stable, numbered result codes whose names read as predicates.
//!
//! Each component declares its own enum with [`result_codes!`] in its own range of numbers;
//! [`TxError`] unites them. A code, once published, never changes number or meaning: clients
//! (API, CLI, wallets) branch on the number or the snake_case name. On the wire a code is
//! always `{"code": "<snake_case name>", "number": <n>, "message": "..."}`: `code` is the name
//! everywhere (as in every other API error body), `number` the stable number.

use serde::{Serialize, Serializer};
use std::fmt;

/// Declares a component's result-code enum: `Variant = number => "snake_name", "sentence";`.
#[macro_export]
macro_rules! result_codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident = $code:literal => $snake:literal, $message:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = $message]
                $variant = $code,
            )+
        }

        impl $name {
            /// Every code in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable number.
            pub const fn code(self) -> u16 {
                self as u16
            }

            /// The stable snake_case name, which reads as a predicate.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $snake),+ }
            }

            /// A sentence for people.
            pub const fn message(self) -> &'static str {
                match self { $($name::$variant => $message),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{} ({}): {}", self.name(), self.code(), self.message())
            }
        }

        impl ::std::error::Error for $name {}
    };
}

/// Codes that were published once and retired: `(number, why)`. Their numbers stay taken so
/// a client that learnt them never misreads a new code (none so far).
pub const RESERVED_CODES: &[(u16, &str)] = &[];

/// Why a transaction was rejected: the component's code. The state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TxError {
    /// Ledger, roles, parameters and time.
    Ledger(crate::ledger::LedgerError),
    /// Roles, parameters, pauses, freezes and KYC.
    Governance(crate::governance::GovernanceError),
    /// USDai, reserve, oracle and gateway.
    Reserve(crate::reserve::ReserveError),
    /// The sUSDai vault.
    Vault(crate::vault::VaultError),
    /// The redemption queue.
    Queue(crate::queue::QueueError),
    /// CALIBER hardware receipts and asset classes.
    Receipts(crate::receipts::ReceiptError),
    /// Curator silos and first-loss capital.
    Silos(crate::silos::SiloError),
    /// Loans, repayments, default and liquidation.
    Loans(crate::loans::LoanError),
    /// The QEV auction, wait-fees and tradable positions.
    Qev(crate::qev::QevError),
}

impl TxError {
    /// The stable number (unique across components).
    pub fn code(self) -> u16 {
        match self {
            TxError::Ledger(e) => e.code(),
            TxError::Governance(e) => e.code(),
            TxError::Reserve(e) => e.code(),
            TxError::Vault(e) => e.code(),
            TxError::Queue(e) => e.code(),
            TxError::Receipts(e) => e.code(),
            TxError::Silos(e) => e.code(),
            TxError::Loans(e) => e.code(),
            TxError::Qev(e) => e.code(),
        }
    }

    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            TxError::Ledger(e) => e.name(),
            TxError::Governance(e) => e.name(),
            TxError::Reserve(e) => e.name(),
            TxError::Vault(e) => e.name(),
            TxError::Queue(e) => e.name(),
            TxError::Receipts(e) => e.name(),
            TxError::Silos(e) => e.name(),
            TxError::Loans(e) => e.name(),
            TxError::Qev(e) => e.name(),
        }
    }

    /// A sentence for people.
    pub fn message(self) -> &'static str {
        match self {
            TxError::Ledger(e) => e.message(),
            TxError::Governance(e) => e.message(),
            TxError::Reserve(e) => e.message(),
            TxError::Vault(e) => e.message(),
            TxError::Queue(e) => e.message(),
            TxError::Receipts(e) => e.message(),
            TxError::Silos(e) => e.message(),
            TxError::Loans(e) => e.message(),
            TxError::Qev(e) => e.message(),
        }
    }

    /// The code families in order: each component's name and its hundred (`Ledger` owns
    /// 101..=199, `Governance` 201..=299, ...). Within a family codes are numbered from `N01`
    /// without gaps, in declaration order; a retired code keeps its number in
    /// [`RESERVED_CODES`] and is never reused.
    pub const FAMILIES: [(&'static str, u16); 9] = [
        ("ledger", 100),
        ("governance", 200),
        ("reserve", 300),
        ("vault", 400),
        ("queue", 500),
        ("receipts", 600),
        ("silos", 700),
        ("loans", 800),
        ("qev", 900),
    ];

    /// The family (an entry of [`TxError::FAMILIES`]) this code belongs to.
    pub fn family(self) -> (&'static str, u16) {
        let index = match self {
            TxError::Ledger(_) => 0,
            TxError::Governance(_) => 1,
            TxError::Reserve(_) => 2,
            TxError::Vault(_) => 3,
            TxError::Queue(_) => 4,
            TxError::Receipts(_) => 5,
            TxError::Silos(_) => 6,
            TxError::Loans(_) => 7,
            TxError::Qev(_) => 8,
        };
        TxError::FAMILIES[index]
    }

    /// The code named `name` (names are unique across components), if any.
    pub fn by_name(name: &str) -> Option<TxError> {
        TxError::all().into_iter().find(|error| error.name() == name)
    }

    /// Every code of every component, for documentation and exhaustive tests.
    pub fn all() -> Vec<TxError> {
        let mut all: Vec<TxError> = Vec::new();
        all.extend(crate::ledger::LedgerError::ALL.iter().map(|&e| TxError::Ledger(e)));
        all.extend(crate::governance::GovernanceError::ALL.iter().map(|&e| TxError::Governance(e)));
        all.extend(crate::reserve::ReserveError::ALL.iter().map(|&e| TxError::Reserve(e)));
        all.extend(crate::vault::VaultError::ALL.iter().map(|&e| TxError::Vault(e)));
        all.extend(crate::queue::QueueError::ALL.iter().map(|&e| TxError::Queue(e)));
        all.extend(crate::receipts::ReceiptError::ALL.iter().map(|&e| TxError::Receipts(e)));
        all.extend(crate::silos::SiloError::ALL.iter().map(|&e| TxError::Silos(e)));
        all.extend(crate::loans::LoanError::ALL.iter().map(|&e| TxError::Loans(e)));
        all.extend(crate::qev::QevError::ALL.iter().map(|&e| TxError::Qev(e)));
        all
    }
}

impl fmt::Display for TxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code(), self.message())
    }
}

impl std::error::Error for TxError {}

impl Serialize for TxError {
    /// `{ "code": "amount_must_not_be_zero", "number": 101, "message": "..." }`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("TxError", 3)?;
        out.serialize_field("code", self.name())?;
        out.serialize_field("number", &self.code())?;
        out.serialize_field("message", self.message())?;
        out.end()
    }
}

macro_rules! from_component {
    ($variant:ident, $error:ty) => {
        impl From<$error> for TxError {
            fn from(error: $error) -> TxError {
                TxError::$variant(error)
            }
        }
    };
}
from_component!(Ledger, crate::ledger::LedgerError);
from_component!(Governance, crate::governance::GovernanceError);
from_component!(Reserve, crate::reserve::ReserveError);
from_component!(Vault, crate::vault::VaultError);
from_component!(Queue, crate::queue::QueueError);
from_component!(Receipts, crate::receipts::ReceiptError);
from_component!(Silos, crate::silos::SiloError);
from_component!(Loans, crate::loans::LoanError);
from_component!(Qev, crate::qev::QevError);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn codes_and_names_are_unique_across_components() {
        let all = TxError::all();
        let codes: BTreeSet<u16> = all.iter().map(|e| e.code()).collect();
        let names: BTreeSet<&str> = all.iter().map(|e| e.name()).collect();
        assert_eq!(codes.len(), all.len(), "duplicate result code number");
        assert_eq!(names.len(), all.len(), "duplicate result code name");
        for error in all {
            assert_eq!(TxError::by_name(error.name()), Some(error));
            assert!(error.name().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!(error.message().ends_with('.'), "{} message is not a sentence", error.name());
        }
    }

    #[test]
    fn a_code_serializes_as_its_name_with_its_number_beside_it() {
        let error = TxError::Ledger(crate::ledger::LedgerError::ALL[0]);
        let json = serde_json::to_value(error).expect("a code serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "code": error.name(),
                "number": error.code(),
                "message": error.message(),
            })
        );
        assert_eq!(TxError::by_name("no_such_code"), None);
    }

    #[test]
    fn every_family_is_numbered_from_its_hundred_without_gaps_except_reserved_codes() {
        let reserved: BTreeSet<u16> = RESERVED_CODES.iter().map(|&(code, _)| code).collect();
        for &(code, why) in RESERVED_CODES {
            assert!(why.len() > 20, "reserved code {code} needs the reason it was retired");
        }
        let all = TxError::all();
        for (family, hundred) in TxError::FAMILIES {
            let codes: Vec<u16> =
                all.iter().filter(|e| e.family().0 == family).map(|e| e.code()).collect();
            assert!(!codes.is_empty(), "{family} declares no code");
            let mut expected = hundred + 1;
            for code in codes {
                while reserved.contains(&expected) {
                    expected += 1;
                }
                assert_eq!(code, expected, "{family}: code {code} where {expected} comes next");
                assert!(code < hundred + 100, "{family} overflows its hundred with {code}");
                expected += 1;
            }
        }
        // Every family appears once, in order, and covers every code.
        let families: Vec<&str> = TxError::FAMILIES.iter().map(|(name, _)| *name).collect();
        let mut seen: Vec<&str> = all.iter().map(|e| e.family().0).collect();
        seen.dedup();
        assert_eq!(seen, families);
    }
}
