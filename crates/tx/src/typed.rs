//! One EIP-712 struct per action, derived from the core's action structs, so a wallet shows
//! its user what they approve ("Stake: assets 1000000000000000000000, min_shares 0") instead of
//! a JSON blob.
//!
//! Each action `X` is signed as the struct `X(uint64 chain,uint64 nonce,<X's fields>)`: the
//! struct's name is the action's Rust name, its fields are the action's fields under their wire
//! names, typed by [`Eip712Field`]: amounts, rates and prices as `uint256` base units, ids as
//! `uint64`, addresses as `address`, hashes as `bytes32`, basis points as `uint32`, names as
//! `string`, nested terms as their own structs (`LoanTerms`, `TrancheTerms`, ...), and enums and
//! optional values as their JSON text (`"usdai"`, `{"stablecoin":"USDC"}`, `"24"`, `"null"`),
//! which keeps every encoding one-to-one.
//!
//! [`message_of`] destructures every action struct without `..`: a field added to an action in
//! the core does not compile here until its line says how it is signed, and a new action does
//! not compile until it has a line. The node computes the digest from the action's fields
//! ([`action_signing_hash`]: each field type gives its `encodeData` word beside its JSON value,
//! each struct's type hash is computed once), about a seventh of the instructions of building
//! the typed-data JSON and hashing it with `alloy-dyn-abi` ([`typed_data_signing_hash`], what a
//! wallet does with the typed data the node serves at `POST /v1/typed-data`); a test checks the
//! two digests equal for every action with varied values, so what a wallet signs and what the
//! node verifies cannot drift apart.

use alloy_dyn_abi::TypedData;
use alloy_primitives::{Address, B256, U256, keccak256};
use infrafi_core::{
    Action, Amount, Asset, AssetClassId, Bps, LoanId, ParameterChange, Rate, ReceiptId, RequestId,
    Role, SiloId, Symbol,
    action::*,
    ids::PayoutId,
    loans::{LoanTerms, SaleReport, TrancheTerms},
    params::PauseScope,
    receipts::{AssetClassTerms, ReceiptDescription, RecoveryCostModel},
    rental_index::IncomeTerms,
    schedule::InterestModel,
    silos::SiloTerms,
};
use serde_json::{Map, Value, json};
use std::{collections::BTreeMap, sync::OnceLock};

/// Struct types by name: `[(field name, field type)]`, as typed data's `types` lists them.
pub type Types = BTreeMap<&'static str, Vec<(&'static str, String)>>;

/// How one Rust type is signed: its EIP-712 type, its value in typed-data JSON (integers as
/// decimal strings, as `eth_signTypedData_v4` takes them), and its word in the struct's
/// `encodeData`, from which the node computes the digest without the JSON.
pub trait Eip712Field {
    /// The EIP-712 type (`uint256`, `address`, `LoanTerms`, `uint64[]`).
    fn eip712_type() -> String;
    /// Adds the struct types this type refers to (none for atomic types).
    fn eip712_types(_types: &mut Types) {}
    /// The value.
    fn eip712_value(&self) -> Value;
    /// The value's 32-byte word in EIP-712 `encodeData`: an integer or a `bool` big-endian, an
    /// address left-padded, a `bytes32` itself, `keccak256` of a string's UTF-8 bytes, a nested
    /// struct's `hashStruct`, `keccak256` of an array's elements' words one after another.
    fn eip712_word(&self) -> B256;
}

/// An unsigned integer's `encodeData` word.
fn uint_word(value: u128) -> B256 {
    B256::from(U256::from(value))
}

macro_rules! atomic {
    ($($rust:ty => $eip712:literal, |$value:ident| $json:expr, $word:expr;)*) => {$(
        impl Eip712Field for $rust {
            fn eip712_type() -> String {
                $eip712.to_string()
            }
            fn eip712_value(&self) -> Value {
                let $value = self;
                $json
            }
            fn eip712_word(&self) -> B256 {
                let $value = self;
                $word
            }
        }
    )*};
}

atomic! {
    Amount => "uint256", |v| Value::String(v.0.to_string()), uint_word(v.0);
    Rate => "uint256", |v| Value::String(v.0.to_string()), uint_word(v.0);
    u128 => "uint256", |v| Value::String(v.to_string()), uint_word(*v);
    u64 => "uint64", |v| Value::String(v.to_string()), uint_word(u128::from(*v));
    u32 => "uint32", |v| Value::String(v.to_string()), uint_word(u128::from(*v));
    Bps => "uint32", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
    bool => "bool", |v| Value::Bool(*v), uint_word(u128::from(*v));
    String => "string", |v| Value::String(v.clone()), keccak256(v.as_bytes());
    Address => "address", |v| Value::String(v.to_string()), v.into_word();
    B256 => "bytes32", |v| Value::String(v.to_string()), *v;
    Symbol => "string", |v| Value::String(v.to_string()), keccak256(v.to_string());
    AssetClassId => "string", |v| Value::String(v.to_string()), keccak256(v.to_string());
    RequestId => "uint64", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
    LoanId => "uint64", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
    ReceiptId => "uint64", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
    SiloId => "uint64", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
    PayoutId => "uint64", |v| Value::String(v.0.to_string()), uint_word(u128::from(v.0));
}

/// The `encodeData` word of a string-typed JSON value (what [`json_text`] returns).
fn string_word(value: &Value) -> B256 {
    match value {
        Value::String(text) => keccak256(text.as_bytes()),
        // `json_text` only returns strings.
        other => keccak256(other.to_string()),
    }
}

/// The JSON text of a value, without the quotes when it is a plain string (`usdai`).
fn json_text<T: serde::Serialize>(value: &T) -> Value {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => Value::String(text),
        Ok(other) => Value::String(other.to_string()),
        // The core's types always encode; an error would be a programmer's.
        Err(error) => Value::String(format!("unencodable: {error}")),
    }
}

/// Enums are signed as their JSON text: `"usdai"`, `{"stablecoin":"USDC"}`, `"curator"`.
macro_rules! as_json_text {
    ($($rust:ty),*) => {$(
        impl Eip712Field for $rust {
            fn eip712_type() -> String {
                "string".to_string()
            }
            fn eip712_value(&self) -> Value {
                json_text(self)
            }
            fn eip712_word(&self) -> B256 {
                string_word(&json_text(self))
            }
        }
    )*};
}

as_json_text!(Asset, Role, PauseScope, ParameterChange, InterestModel);

/// An optional value is signed as its JSON text (`"24"`, `"null"`): EIP-712 has no option, and
/// a sentinel such as 0 could be a real value.
impl<T: serde::Serialize> Eip712Field for Option<T> {
    fn eip712_type() -> String {
        "string".to_string()
    }
    fn eip712_value(&self) -> Value {
        match self {
            None => Value::String("null".into()),
            Some(value) => json_text(value),
        }
    }
    fn eip712_word(&self) -> B256 {
        string_word(&self.eip712_value())
    }
}

impl<T: Eip712Field> Eip712Field for Vec<T> {
    fn eip712_type() -> String {
        format!("{}[]", T::eip712_type())
    }
    fn eip712_types(types: &mut Types) {
        T::eip712_types(types);
    }
    fn eip712_value(&self) -> Value {
        Value::Array(self.iter().map(Eip712Field::eip712_value).collect())
    }
    fn eip712_word(&self) -> B256 {
        let words: Vec<u8> = self.iter().flat_map(|element| element.eip712_word().0).collect();
        keccak256(words)
    }
}

/// Nested terms are EIP-712 structs of their own.
macro_rules! nested {
    ($($rust:ident { $($field:ident),* };)*) => {$(
        impl Eip712Field for $rust {
            fn eip712_type() -> String {
                stringify!($rust).to_string()
            }
            fn eip712_types(types: &mut Types) {
                let fields =
                    vec![$((stringify!($field), field_type(|t: &$rust| &t.$field, types))),*];
                types.insert(stringify!($rust), fields);
            }
            fn eip712_value(&self) -> Value {
                let $rust { $($field),* } = self;
                let mut map = Map::new();
                $( map.insert(stringify!($field).to_string(), $field.eip712_value()); )*
                Value::Object(map)
            }
            fn eip712_word(&self) -> B256 {
                static TYPE_HASH: OnceLock<B256> = OnceLock::new();
                let type_hash = *TYPE_HASH.get_or_init(|| {
                    let mut types = Types::new();
                    Self::eip712_types(&mut types);
                    let fields = types.get(stringify!($rust)).cloned().unwrap_or_default();
                    keccak256(encode_type(stringify!($rust), &fields, &types))
                });
                let $rust { $($field),* } = self;
                let mut data = type_hash.to_vec();
                $( data.extend_from_slice($field.eip712_word().as_slice()); )*
                keccak256(data)
            }
        }

        #[cfg(test)]
        impl tests::Sample for $rust {
            fn sample(seed: u64) -> $rust {
                $rust { $($field: tests::Sample::sample(seed)),* }
            }
        }
    )*};
}

/// EIP-712 `encodeType` of the struct `name` with `fields`: `Name(type field,...)`, then each
/// struct type of `types` it refers to (every one but itself) in the order of their names.
fn encode_type(name: &str, fields: &[(&str, String)], types: &Types) -> String {
    let one = |name: &str, fields: &[(&str, String)]| {
        let list: Vec<String> =
            fields.iter().map(|(field, kind)| format!("{kind} {field}")).collect();
        format!("{name}({})", list.join(","))
    };
    let mut out = one(name, fields);
    for (other, other_fields) in types {
        if *other != name {
            out.push_str(&one(other, other_fields));
        }
    }
    out
}

/// The type of the field `get` reads, registering its struct types.
fn field_type<S, T: Eip712Field>(_get: fn(&S) -> &T, types: &mut Types) -> String {
    T::eip712_types(types);
    T::eip712_type()
}

nested! {
    TrancheTerms { amount, rate };
    LoanTerms { borrower, receipts, senior, junior, model, periods, interval_secs,
        grace_period_secs, grace_rate, origination_fee_bps, exit_fee_bps, expires_at };
    SiloTerms { eligible_classes, max_initial_ltv_bps, margin_call_ltv_bps, max_borrower_share_bps,
        curator_fee_bps };
    RecoveryCostModel { itad_commission_bps, legal_cost_per_unit, logistics_cost_per_unit,
        data_destruction_cost_per_unit, condition_haircut_bps };
    AssetClassTerms { new_price_per_unit, annual_depreciation_bps, floor_bps, recovery };
    ReceiptDescription { quantity, serials_hash, facility, jurisdiction, bailment_hash };
    SaleReport { gross_proceeds, itad_commission, legal_costs, logistics_costs,
        data_destruction_costs };
    IncomeTerms { utilisation_bps, opex_share_bps, discount_rate_bps_per_year,
        economic_life_ends_at, index_max_age_secs, index_max_move_bps };
}

/// One action as an EIP-712 message: its struct's name, the types it uses, and its fields
/// (name, type, value) after `chain` and `nonce`.
#[derive(Debug)]
pub struct ActionMessage {
    /// The primary type: the action's Rust name (`Stake`).
    pub name: &'static str,
    /// The struct types its fields refer to.
    pub types: Types,
    /// The action's fields: name, EIP-712 type, value.
    pub fields: Vec<(&'static str, String, Value)>,
}

fn field<T: Eip712Field>(
    name: &'static str,
    value: &T,
    types: &mut Types,
) -> (&'static str, String, Value) {
    T::eip712_types(types);
    (name, T::eip712_type(), value.eip712_value())
}

macro_rules! actions {
    ($($action:ident { $($field:ident),* };)*) => {
        /// Every action's EIP-712 struct name, in the order listed here.
        pub const ACTION_STRUCTS: &[&str] = &[$(stringify!($action)),*];

        /// EIP-712 `hashStruct` of `action`'s message with `chain` and `nonce`, computed from
        /// the action's fields (see [`Eip712Field::eip712_word`]); each action struct's type
        /// hash is computed once per process.
        fn action_struct_hash(chain_id: u64, nonce: u64, action: &Action) -> B256 {
            match action {
                $(Action::$action($action { $($field),* }) => {
                    static TYPE_HASH: OnceLock<B256> = OnceLock::new();
                    let type_hash = *TYPE_HASH.get_or_init(|| action_type_hash(action));
                    let mut data = Vec::with_capacity(32 * 16);
                    data.extend_from_slice(type_hash.as_slice());
                    data.extend_from_slice(uint_word(u128::from(chain_id)).as_slice());
                    data.extend_from_slice(uint_word(u128::from(nonce)).as_slice());
                    $( data.extend_from_slice($field.eip712_word().as_slice()); )*
                    keccak256(data)
                })*
            }
        }

        /// One action of each kind, its fields set from `seed` (for tests of every action).
        #[cfg(test)]
        fn one_of_each(seed: u64) -> Vec<Action> {
            vec![$(Action::$action($action { $($field: tests::Sample::sample(seed)),* })),*]
        }

        /// The EIP-712 message of `action`.
        pub fn message_of(action: &Action) -> ActionMessage {
            let mut types = Types::new();
            #[allow(unused_mut)]
            let (name, mut fields) = match action {
                $(Action::$action($action { $($field),* }) => {
                    (stringify!($action), vec![$(field(stringify!($field), $field, &mut types)),*])
                })*
            };
            fields.shrink_to_fit();
            ActionMessage { name, types, fields }
        }
    };
}

actions! {
    Transfer { asset, to, amount };
    GrantRole { role, account };
    RevokeRole { role, account };
    SetParameter { change };
    SetPause { scope, paused };
    Freeze { account };
    Unfreeze { account };
    SetKyc { account, verified };
    AddStablecoin { token };
    PostPrice { token, price_wad };
    PostTbillRate { rate };
    GatewayCredit { account, token, amount, external_id };
    GatewayWithdraw { token, amount, destination };
    GatewayConfirm { payout_id, external_id };
    GatewayReject { payout_id, reason };
    MintUsdai { token, amount, min_out };
    RedeemUsdai { token, amount, min_out };
    HarvestBaseYield {};
    PostReserveAttestation { par_amount, market_value, as_of, document_hash };
    Stake { assets, min_shares };
    MintShares { shares, max_assets };
    DonateToVault { amount };
    RequestRedeem { shares };
    CancelRedeem { request_id };
    ServiceQueue { max_requests };
    Claim { request_id };
    AddAssetClass { class, terms };
    ApplyGenerationStepDown { class, step_down_bps };
    IssueReceipt { class, owner, description };
    AmendReceipt { receipt_id, description };
    ReleaseReceipt { receipt_id };
    TransferReceipt { receipt_id, to };
    RequestReceiptRedemption { receipt_id };
    RedeemReceipt { receipt_id };
    AttachPolicy { receipt_id, policy_id, coverage, expires_at };
    RenewPolicy { receipt_id, coverage, expires_at };
    PostValuation { receipt_id, value };
    OpenSilo { terms };
    DepositFirstLoss { silo_id, amount };
    WithdrawFirstLoss { silo_id, amount };
    SetSiloSeniorCap { silo_id, cap };
    SetSiloFrozen { silo_id, frozen };
    AssignSuccessorCurator { silo_id, curator };
    ProposeLoan { silo_id, terms };
    CancelLoanProposal { loan_id };
    AcceptLoan { loan_id };
    RepayLoan { loan_id, max_amount };
    PrepayLoan { loan_id, principal, max_amount };
    PledgeReceipts { loan_id, receipt_ids };
    RemarkLoans { first_loan_id, max_loans };
    TriggerDefault { loan_id };
    ForecloseLoan { loan_id, liquidation_agent };
    ReportSale { receipt_id, report };
    DecideHeldSale { receipt_id, approve };
    WriteOffReceipt { receipt_id };
    PayInsuranceClaim { receipt_id, amount };
    PayCasualtyClaim { receipt_id };
    ClaimLoanSurplus { loan_id };
    SetLoanCovenants { silo_id, debt_service_reserve_periods, report_interval_secs };
    FundDebtServiceReserve { loan_id, amount };
    DrawDebtServiceReserve { loan_id };
    PostBorrowerReport { loan_id, document_hash };
    SetBid { request_id, price_wad };
    CommitSealedBid { request_id, commitment, deposit };
    RevealSealedBid { request_id, price_wad, salt };
    TransferRequest { request_id, to };
    ListRequest { request_id, price };
    DelistRequest { request_id };
    BuyRequest { request_id, max_price, min_value };
    QueueDeposit { token, amount };
    CancelQueuedDeposit { deposit_id };
    FillQueuedDeposits { max_deposits };
    PostPresenceAttestation { receipt_id, units_seen, serials_hash, facility, uptime_bps, as_of };
    SetPresenceLimit { class, max_age_secs };
    SetResidualFloor { receipt_id, floor_value };
    PayResidualClaim { receipt_id };
    WriteOffResidualClaim { receipt_id };
    SetIncomeTerms { class, terms };
    PostRentalIndex { class, rent_per_unit_hour };
}

fn entries(fields: &[(&str, String)]) -> Value {
    Value::Array(fields.iter().map(|(name, kind)| json!({"name": name, "type": kind})).collect())
}

/// The typed data of `action` as `eth_signTypedData_v4` takes it: `{types, primaryType,
/// domain, message}`, for a wallet on chain `signature_chain_id` signing for the infrafi chain
/// `chain_id`.
pub fn action_typed_data(
    chain_id: u64,
    signature_chain_id: u64,
    nonce: u64,
    action: &Action,
) -> Value {
    let ActionMessage { name, mut types, fields } = message_of(action);
    let mut primary = vec![("chain", "uint64".to_string()), ("nonce", "uint64".to_string())];
    let mut message = Map::new();
    message.insert("chain".into(), Value::String(chain_id.to_string()));
    message.insert("nonce".into(), Value::String(nonce.to_string()));
    for (field, kind, value) in fields {
        primary.push((field, kind));
        message.insert(field.to_string(), value);
    }
    types.insert(name, primary);
    let mut all = Map::new();
    all.insert(
        "EIP712Domain".into(),
        json!([
            {"name": "name", "type": "string"},
            {"name": "version", "type": "string"},
            {"name": "chainId", "type": "uint256"},
        ]),
    );
    for (type_name, type_fields) in &types {
        all.insert((*type_name).to_string(), entries(type_fields));
    }
    json!({
        "types": all,
        "primaryType": name,
        "domain": {
            "name": crate::DOMAIN_NAME,
            "version": crate::DOMAIN_VERSION,
            "chainId": signature_chain_id.to_string(),
        },
        "message": message,
    })
}

/// The type hash of `action`'s struct: `keccak256(encodeType)`.
fn action_type_hash(action: &Action) -> B256 {
    let ActionMessage { name, types, fields } = message_of(action);
    let mut primary = vec![("chain", "uint64".to_string()), ("nonce", "uint64".to_string())];
    primary.extend(fields.into_iter().map(|(field, kind, _)| (field, kind)));
    keccak256(encode_type(name, &primary, &types))
}

/// The EIP-712 domain separator for a wallet on chain `signature_chain_id`, for the domain of
/// [`crate::domain`] (name, version, chain id): `keccak256(typeHash || keccak256(name) ||
/// keccak256(version) || chainId)`, its first three words computed once. One hash per call
/// whatever chain a transaction names, so no chain can be made slower to verify than another.
fn domain_separator(signature_chain_id: u64) -> B256 {
    static PREFIX: OnceLock<[u8; 96]> = OnceLock::new();
    let prefix = PREFIX.get_or_init(|| {
        let mut prefix = [0u8; 96];
        let type_hash = keccak256("EIP712Domain(string name,string version,uint256 chainId)");
        prefix[..32].copy_from_slice(type_hash.as_slice());
        prefix[32..64].copy_from_slice(keccak256(crate::DOMAIN_NAME).as_slice());
        prefix[64..].copy_from_slice(keccak256(crate::DOMAIN_VERSION).as_slice());
        prefix
    });
    let mut bytes = [0u8; 128];
    bytes[..96].copy_from_slice(prefix);
    bytes[96..].copy_from_slice(uint_word(u128::from(signature_chain_id)).as_slice());
    keccak256(bytes)
}

/// The EIP-712 digest of [`action_typed_data`]: `keccak256(0x1901 || domainSeparator ||
/// hashStruct(message))`, computed from the action's fields without building the JSON (about a
/// tenth of the instructions). [`typed_data_signing_hash`] computes the same digest with
/// `alloy-dyn-abi` from the typed data a wallet signs; a test checks that they agree for every
/// action.
pub fn action_signing_hash(
    chain_id: u64,
    signature_chain_id: u64,
    nonce: u64,
    action: &Action,
) -> B256 {
    let mut bytes = [0u8; 66];
    bytes[..2].copy_from_slice(&[0x19, 0x01]);
    bytes[2..34].copy_from_slice(domain_separator(signature_chain_id).as_slice());
    bytes[34..].copy_from_slice(action_struct_hash(chain_id, nonce, action).as_slice());
    keccak256(bytes)
}

/// The EIP-712 digest of [`action_typed_data`] computed by `alloy-dyn-abi` from that JSON, as
/// a wallet computes it: the reference [`action_signing_hash`] is checked against.
pub fn typed_data_signing_hash(
    chain_id: u64,
    signature_chain_id: u64,
    nonce: u64,
    action: &Action,
) -> B256 {
    let typed = action_typed_data(chain_id, signature_chain_id, nonce, action);
    // The typed data is built above from the core's types: it always parses and encodes.
    let parsed: TypedData = match serde_json::from_value(typed) {
        Ok(parsed) => parsed,
        Err(error) => unreachable!("the node's own typed data parses: {error}"),
    };
    match parsed.eip712_signing_hash() {
        Ok(hash) => hash,
        Err(error) => unreachable!("the node's own typed data encodes: {error}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use alloy_sol_types::SolStruct;
    use infrafi_core::WAD;

    const CHAIN: u64 = 31_337;

    fn encode_type(typed: &Value, name: &str) -> String {
        let fields: Vec<String> = typed["types"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap()))
            .collect();
        format!("{name}({})", fields.join(","))
    }

    /// A value of a field's type, varied by `seed` (every action of [`one_of_each`]).
    pub(super) trait Sample {
        fn sample(seed: u64) -> Self;
    }

    fn pick<T: Clone>(seed: u64, choices: &[T]) -> T {
        choices[seed as usize % choices.len()].clone()
    }

    macro_rules! sample {
        ($($rust:ty => |$seed:ident| $value:expr;)*) => {$(
            impl Sample for $rust {
                fn sample($seed: u64) -> $rust {
                    $value
                }
            }
        )*};
    }

    sample! {
        Amount => |seed| Amount(u128::from(seed) * WAD + 7);
        Rate => |seed| Rate(u128::from(seed) * 1_000_003);
        u128 => |seed| u128::MAX - u128::from(seed);
        u64 => |seed| u64::MAX - seed * 3;
        u32 => |seed| 86_400 + seed as u32;
        Bps => |seed| Bps(pick(seed, &[0, 1, 250, 10_000]));
        bool => |seed| seed % 2 == 1;
        String => |seed| format!("note {seed}: \"quoted\", ünïcode ✓");
        Address => |seed| Address::repeat_byte(seed as u8 ^ 0x5a);
        B256 => |seed| keccak256(seed.to_be_bytes());
        Symbol => |seed| Symbol::new(pick(seed, &["USDC", "USDT", "TBILL"])).unwrap();
        AssetClassId => |seed| AssetClassId::new(pick(seed, &["gpu.h100-sxm", "a100"])).unwrap();
        RequestId => |seed| RequestId(seed + 1);
        LoanId => |seed| LoanId(seed + 2);
        ReceiptId => |seed| ReceiptId(seed + 3);
        SiloId => |seed| SiloId(seed + 4);
        PayoutId => |seed| PayoutId(seed + 5);
        Asset => |seed| pick(seed, &[Asset::Usdai, Asset::Susdai, Asset::Tbill,
            Asset::Stablecoin(Symbol::sample(seed))]);
        Role => |seed| pick(seed, &Role::ALL);
        PauseScope => |seed| pick(seed, &[PauseScope::Minting, PauseScope::Staking,
            PauseScope::Borrowing]);
        ParameterChange => |seed| pick(seed, &[ParameterChange::MintFeeBps(Bps::sample(seed)),
            ParameterChange::UsdaiSupplyCap(Amount::sample(seed)),
            ParameterChange::KycRequired(bool::sample(seed))]);
        InterestModel => |seed| pick(seed, &[InterestModel::Amortized,
            InterestModel::FixedPrincipal]);
    }

    impl<T: Sample> Sample for Option<T> {
        fn sample(seed: u64) -> Option<T> {
            (!seed.is_multiple_of(3)).then(|| T::sample(seed))
        }
    }

    impl<T: Sample> Sample for Vec<T> {
        fn sample(seed: u64) -> Vec<T> {
            (0..seed % 4).map(|i| T::sample(seed + i)).collect()
        }
    }

    #[test]
    fn the_digest_from_the_fields_equals_alloy_dyn_abis_digest_of_the_typed_data_for_every_action()
    {
        for seed in 0..6 {
            let actions = one_of_each(seed);
            assert_eq!(actions.len(), ACTION_STRUCTS.len());
            for (action, chain, wallet_chain) in actions
                .iter()
                .zip([(CHAIN, 1), (1, 42_161), (7, 7)].into_iter().cycle())
                .map(|(action, (chain, wallet_chain))| (action, chain, wallet_chain))
            {
                let nonce = seed * 1_000_003;
                assert_eq!(
                    action_signing_hash(chain, wallet_chain, nonce, action),
                    typed_data_signing_hash(chain, wallet_chain, nonce, action),
                    "{} (seed {seed})",
                    action.name()
                );
            }
        }
    }

    #[test]
    fn the_domain_separator_is_alloys_for_every_wallet_chain() {
        for chain in (0..32).chain([42_161, u64::from(u32::MAX) + 1, u64::MAX]) {
            assert_eq!(domain_separator(chain), crate::domain(chain).separator(), "{chain}");
        }
    }

    #[test]
    fn every_action_has_an_eip712_struct_named_after_its_variant() {
        assert_eq!(ACTION_STRUCTS, Action::VARIANTS);
    }

    #[test]
    fn a_stake_is_signed_as_a_stake_struct_with_amounts_in_base_units() {
        let stake = Action::from(Stake { assets: Amount(1_250 * WAD), min_shares: Amount(0) });
        let typed = action_typed_data(CHAIN, 1, 4, &stake);
        assert_eq!(typed["primaryType"], "Stake");
        assert_eq!(
            encode_type(&typed, "Stake"),
            "Stake(uint64 chain,uint64 nonce,uint256 assets,uint256 min_shares)"
        );
        assert_eq!(typed["message"]["assets"], (1_250 * WAD).to_string());
        assert_eq!(typed["message"]["chain"], CHAIN.to_string());
        assert_eq!(typed["domain"]["chainId"], "1");
        assert_eq!(typed["domain"]["version"], crate::DOMAIN_VERSION);
    }

    /// The structs written out as in Solidity, for an independent digest.
    mod written {
        alloy_sol_types::sol! {
            struct Stake {
                uint64 chain;
                uint64 nonce;
                uint256 assets;
                uint256 min_shares;
            }
            struct TrancheTerms {
                uint256 amount;
                uint256 rate;
            }
            struct LoanTerms {
                address borrower;
                uint64[] receipts;
                TrancheTerms senior;
                TrancheTerms junior;
                string model;
                string periods;
                string interval_secs;
                uint64 grace_period_secs;
                uint256 grace_rate;
                uint32 origination_fee_bps;
                uint32 exit_fee_bps;
                uint64 expires_at;
            }
            struct ProposeLoan {
                uint64 chain;
                uint64 nonce;
                uint64 silo_id;
                LoanTerms terms;
            }
        }
    }

    #[test]
    fn the_digest_equals_that_of_the_struct_written_out_in_solidity() {
        let domain = crate::domain(1);
        let stake = Action::from(infrafi_core::action::Stake {
            assets: Amount(7 * WAD),
            min_shares: Amount(3),
        });
        let written = written::Stake {
            chain: CHAIN,
            nonce: 9,
            assets: alloy_primitives::U256::from(7 * WAD),
            min_shares: alloy_primitives::U256::from(3u8),
        };
        assert_eq!(action_signing_hash(CHAIN, 1, 9, &stake), written.eip712_signing_hash(&domain));

        let terms = infrafi_core::loans::LoanTerms {
            borrower: Address::repeat_byte(7),
            receipts: vec![ReceiptId(3), ReceiptId(5)],
            senior: TrancheTerms { amount: Amount(100 * WAD), rate: Rate(11) },
            junior: TrancheTerms { amount: Amount(20 * WAD), rate: Rate(17) },
            model: InterestModel::Amortized,
            periods: Some(24),
            interval_secs: None,
            grace_period_secs: 86_400,
            grace_rate: Rate(23),
            origination_fee_bps: Bps(100),
            exit_fee_bps: Bps(50),
            expires_at: 1_800_000_000,
        };
        let propose = Action::from(infrafi_core::action::ProposeLoan { silo_id: SiloId(2), terms });
        let typed = action_typed_data(CHAIN, 1, 0, &propose);
        assert_eq!(
            format!(
                "{}{}{}",
                encode_type(&typed, "ProposeLoan"),
                encode_type(&typed, "LoanTerms"),
                encode_type(&typed, "TrancheTerms")
            ),
            written::ProposeLoan::eip712_encode_type()
        );
        let tranche = |amount: u128, rate: u128| written::TrancheTerms {
            amount: alloy_primitives::U256::from(amount),
            rate: alloy_primitives::U256::from(rate),
        };
        let written = written::ProposeLoan {
            chain: CHAIN,
            nonce: 0,
            silo_id: 2,
            terms: written::LoanTerms {
                borrower: Address::repeat_byte(7),
                receipts: vec![3, 5],
                senior: tranche(100 * WAD, 11),
                junior: tranche(20 * WAD, 17),
                model: "amortized".into(),
                periods: "24".into(),
                interval_secs: "null".into(),
                grace_period_secs: 86_400,
                grace_rate: alloy_primitives::U256::from(23u8),
                origination_fee_bps: 100,
                exit_fee_bps: 50,
                expires_at: 1_800_000_000,
            },
        };
        assert_eq!(
            action_signing_hash(CHAIN, 1, 0, &propose),
            written.eip712_signing_hash(&domain)
        );
    }

    #[test]
    fn two_actions_with_the_same_fields_sign_differently() {
        let deposit = Action::from(DepositFirstLoss { silo_id: SiloId(1), amount: Amount(5) });
        let withdraw = Action::from(WithdrawFirstLoss { silo_id: SiloId(1), amount: Amount(5) });
        assert_ne!(
            action_signing_hash(CHAIN, 1, 0, &deposit),
            action_signing_hash(CHAIN, 1, 0, &withdraw)
        );
    }

    #[test]
    fn assets_are_signed_as_their_json_text_so_a_stablecoin_named_tbill_is_not_the_tbill_asset() {
        // Both display as `TBILL`; their JSON texts differ, so their signatures do.
        let tbill = Transfer { asset: Asset::Tbill, to: Address::ZERO, amount: Amount(1) };
        let symbol = Symbol::new("TBILL").unwrap();
        let named =
            Transfer { asset: Asset::Stablecoin(symbol), to: Address::ZERO, amount: Amount(1) };
        assert_eq!(Asset::Tbill.to_string(), Asset::Stablecoin(symbol).to_string());
        let first = action_typed_data(CHAIN, 1, 0, &Action::from(tbill));
        let second = action_typed_data(CHAIN, 1, 0, &Action::from(named));
        assert_eq!(first["message"]["asset"], "tbill");
        assert_eq!(second["message"]["asset"], "{\"stablecoin\":\"TBILL\"}");
        assert_ne!(
            action_signing_hash(CHAIN, 1, 0, &Action::from(tbill)),
            action_signing_hash(CHAIN, 1, 0, &Action::from(named))
        );
    }

    #[test]
    fn an_optional_value_and_its_absence_sign_differently() {
        assert_eq!(Some(0u32).eip712_value(), "0");
        assert_eq!(None::<u32>.eip712_value(), "null");
    }
}
