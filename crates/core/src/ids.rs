//! Identities: addresses, asset symbols, ledger accounts and typed ids that cannot be mixed.

use serde::{Deserialize, Serialize};
use std::fmt;

pub use alloy_primitives::{Address, B256};

/// A short ASCII asset symbol such as `USDC`, stored inline so it is `Copy` and cheap to order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol([u8; Symbol::LENGTH_MAX]);

impl Serialize for Symbol {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Symbol, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Symbol::new(&text).ok_or_else(|| {
            serde::de::Error::custom("a symbol is 1 to 8 uppercase ASCII letters or digits")
        })
    }
}

impl Symbol {
    /// The longest symbol in bytes.
    pub const LENGTH_MAX: usize = 8;

    /// A symbol from 1 to 8 uppercase ASCII letters or digits; `None` otherwise.
    pub const fn new(text: &str) -> Option<Symbol> {
        let bytes = text.as_bytes();
        if bytes.is_empty() || bytes.len() > Self::LENGTH_MAX {
            return None;
        }
        let mut out = [0u8; Self::LENGTH_MAX];
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if !(byte.is_ascii_uppercase() || byte.is_ascii_digit()) {
                return None;
            }
            out[index] = byte;
            index += 1;
        }
        Some(Symbol(out))
    }

    /// The symbol as text.
    pub fn as_str(&self) -> &str {
        let length = self.0.iter().position(|&b| b == 0).unwrap_or(Self::LENGTH_MAX);
        // Only ASCII bytes are ever stored (checked in `new`).
        std::str::from_utf8(&self.0[..length]).unwrap_or("?")
    }
}

impl fmt::Debug for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// USD Coin, supported from genesis in the default market.
pub const USDC: Symbol = match Symbol::new("USDC") {
    Some(symbol) => symbol,
    None => panic!("invalid symbol"),
};
/// Tether USD, supported from genesis in the default market.
pub const USDT: Symbol = match Symbol::new("USDT") {
    Some(symbol) => symbol,
    None => panic!("invalid symbol"),
};

/// Every fungible asset the ledger carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asset {
    /// An external stablecoin the gateway supports (USDC, USDT, ...).
    Stablecoin(Symbol),
    /// The T-bill reserve token; only the reserve holds it.
    Tbill,
    /// The protocol dollar.
    Usdai,
    /// The yield-bearing vault share.
    Susdai,
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Asset::Stablecoin(symbol) => write!(f, "{symbol}"),
            Asset::Tbill => f.write_str("TBILL"),
            Asset::Usdai => f.write_str("USDai"),
            Asset::Susdai => f.write_str("sUSDai"),
        }
    }
}

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// A redemption request in the queue.
    RequestId
);
typed_id!(
    /// A gateway payout to another chain.
    PayoutId
);
typed_id!(
    /// A CALIBER hardware receipt.
    ReceiptId
);
typed_id!(
    /// A loan, from its proposal on.
    LoanId
);
typed_id!(
    /// A curator's credit silo.
    SiloId
);

/// An asset class name such as `gpu.h100-sxm`: 1 to 24 bytes of lowercase ASCII letters,
/// digits, `.` and `-`, stored inline so it is `Copy` and cheap to order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetClassId([u8; AssetClassId::LENGTH_MAX]);

impl AssetClassId {
    /// The longest class name in bytes.
    pub const LENGTH_MAX: usize = 24;

    /// A class name, or `None` when empty, too long or with another character.
    pub const fn new(text: &str) -> Option<AssetClassId> {
        let bytes = text.as_bytes();
        if bytes.is_empty() || bytes.len() > Self::LENGTH_MAX {
            return None;
        }
        let mut out = [0u8; Self::LENGTH_MAX];
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            let allowed =
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'.' || byte == b'-';
            if !allowed {
                return None;
            }
            out[index] = byte;
            index += 1;
        }
        Some(AssetClassId(out))
    }

    /// The class name as text.
    pub fn as_str(&self) -> &str {
        let length = self.0.iter().position(|&b| b == 0).unwrap_or(Self::LENGTH_MAX);
        // Only ASCII bytes are ever stored (checked in `new`).
        std::str::from_utf8(&self.0[..length]).unwrap_or("?")
    }
}

impl Serialize for AssetClassId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AssetClassId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AssetClassId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        AssetClassId::new(&text)
            .ok_or_else(|| serde::de::Error::custom("an asset class is 1 to 24 of [a-z0-9.-]"))
    }
}

impl fmt::Debug for AssetClassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AssetClassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Protocol-owned ledger accounts. Users cannot send to these directly: each moves only by the
/// protocol rule that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolAccount {
    /// The USDai reserve: holds TBILL.
    Reserve,
    /// The sUSDai vault: holds idle USDai.
    Vault,
    /// Protocol fees.
    FeeCollector,
    /// sUSDai locked in redemption requests (still in supply).
    QueueEscrow,
    /// USDai owed to served redemption requests, waiting for their claim.
    RedemptionClaims,
    /// Stablecoins debited for gateway payouts not yet confirmed.
    GatewayOut,
    /// One loan's transit account: tranche funding and payments pass through it, so each
    /// loan's cash flows are visible in the ledger. Empty between transactions.
    Loan(LoanId),
    /// One silo's first-loss pool: the curator's free first-loss capital.
    SiloPool(SiloId),
    /// Insurance claim payments on their way into a waterfall. Empty between transactions.
    InsuranceClaims,
    /// Liquidation sale proceeds on their way into a waterfall. Empty between transactions.
    LiquidationEscrow,
    /// USDai escrowed for priority bids, sealed-bid deposits, and escrow owed back to bidders.
    BidEscrow,
    /// USDai of the QEV fee pool: wait-fees owed to overtaken requests, fees waiting to be
    /// distributed, and sub-unit dust.
    QevFeePool,
    /// One loan's debt-service reserve (issue 16): the borrower's payments held for missed
    /// payments; emptied when the loan is repaid or defaulted.
    DebtServiceReserve(LoanId),
    /// The gross proceeds of sale reports held for the admin's decision (issue 11): paid back
    /// to the agent if rejected, through the waterfall if approved.
    HeldSales,
    /// Stablecoins of deposits waiting in the deposit queue for room to mint (issue 16).
    DepositQueue,
}

/// A ledger account: a user's address or a protocol account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// An externally owned address.
    User(Address),
    /// A protocol account.
    Protocol(ProtocolAccount),
}

impl From<Address> for Account {
    fn from(address: Address) -> Account {
        Account::User(address)
    }
}

impl From<ProtocolAccount> for Account {
    fn from(account: ProtocolAccount) -> Account {
        Account::Protocol(account)
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::User(address) => write!(f, "{address}"),
            Account::Protocol(account) => write!(f, "protocol:{account:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_accept_short_uppercase_ascii_only() {
        assert_eq!(Symbol::new("USDC").map(|s| s.to_string()), Some("USDC".to_string()));
        assert!(Symbol::new("").is_none());
        assert!(Symbol::new("usdc").is_none());
        assert!(Symbol::new("TOOLONGSYM").is_none());
        assert!(Symbol::new("US-C").is_none());
    }
}
