//! The value parsers of `infrafi tx` flags, typed for people: amounts and prices are decimals
//! of the token (`1250.5`), rates are annual (`4.5%` or `450bps`), basis points are integers,
//! ids are numbers. Each error says what it expected.

use anyhow::Result;
use infrafi_core::{
    Amount, Asset, AssetClassId, LoanId, ReceiptId, RequestId, Role, SiloId, Symbol,
    ids::PayoutId,
    math::{Bps, Rate, parse_decimal_units},
    params::{ParameterChange, PauseScope},
    schedule::InterestModel,
};

pub(super) fn amount(text: &str) -> Result<Amount, String> {
    Amount::parse_decimal(text).map_err(|e| format!("`{text}`: {e} (amounts are decimals: 1250.5)"))
}

pub(super) fn amount_or_max(text: &str) -> Result<Amount, String> {
    if text == "max" { Ok(Amount::MAX) } else { amount(text) }
}

/// A price in 18-decimal fixed point, typed as a decimal (`0.9998`).
pub(super) fn price(text: &str) -> Result<u128, String> {
    amount(text).map(|a| a.0)
}

/// An annual rate: `4.5%` or `450bps`, at most two decimals of a percent.
pub(super) fn rate(text: &str) -> Result<Rate, String> {
    let bps = if let Some(bps) = text.strip_suffix("bps") {
        bps.parse::<u32>().map_err(|e| format!("`{text}`: {e}"))?
    } else if let Some(percent) = text.strip_suffix('%') {
        let units = parse_decimal_units(percent).map_err(|e| format!("`{text}`: {e}"))?;
        // 1% is 100 bps: a basis point is 10^16 units of an 18-decimal percent.
        let scale = 10u128.pow(16);
        if units % scale != 0 {
            return Err(format!("`{text}`: a rate has at most two decimals of a percent"));
        }
        u32::try_from(units / scale).map_err(|_| format!("`{text}` is too large"))?
    } else {
        return Err(format!("`{text}` is not an annual rate (4.5% or 450bps)"));
    };
    Ok(Rate::from_apr_bps(bps))
}

pub(super) fn bps(text: &str) -> Result<Bps, String> {
    text.parse::<u32>().map(Bps).map_err(|e| format!("`{text}`: {e} (basis points: 250)"))
}

pub(super) fn class_id(text: &str) -> Result<AssetClassId, String> {
    AssetClassId::new(text).ok_or_else(|| format!("`{text}` is not an asset class id (gpu.h100)"))
}

/// A value given as its JSON string (`amortized`, `admin`, `minting`).
pub(super) fn json_string<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not {what}"))
}

pub(super) fn model(text: &str) -> Result<InterestModel, String> {
    json_string(text, "an interest model (amortized, fixed_principal)")
}

pub(super) fn role(text: &str) -> Result<Role, String> {
    json_string(text, "a role (admin, oracle, gateway_attestor, ...)")
}

pub(super) fn scope(text: &str) -> Result<PauseScope, String> {
    json_string(text, "a pause scope (minting, staking, borrowing)")
}

pub(super) fn change(text: &str) -> Result<ParameterChange, String> {
    serde_json::from_str(text).map_err(|e| {
        format!(
            "`{text}`: {e} (a parameter change: {{\"parameter\":\"mint_fee_bps\",\"value\":10}})"
        )
    })
}

pub(super) fn symbol(text: &str) -> Result<Symbol, String> {
    Symbol::new(text).ok_or_else(|| format!("`{text}` is not a symbol (USDC, USDT, ...)"))
}

pub(super) fn asset(text: &str) -> Result<Asset, String> {
    match text {
        "USDai" | "usdai" => Ok(Asset::Usdai),
        "sUSDai" | "susdai" => Ok(Asset::Susdai),
        other => symbol(other).map(Asset::Stablecoin),
    }
}

pub(super) fn id(text: &str) -> Result<u64, String> {
    text.parse::<u64>().map_err(|e| format!("`{text}`: {e} (ids are numbers)"))
}

pub(super) fn loan_id(text: &str) -> Result<LoanId, String> {
    id(text).map(LoanId)
}

pub(super) fn receipt_id(text: &str) -> Result<ReceiptId, String> {
    id(text).map(ReceiptId)
}

pub(super) fn request_id(text: &str) -> Result<RequestId, String> {
    id(text).map(RequestId)
}

pub(super) fn silo_id(text: &str) -> Result<SiloId, String> {
    id(text).map(SiloId)
}

pub(super) fn payout_id(text: &str) -> Result<PayoutId, String> {
    id(text).map(PayoutId)
}
