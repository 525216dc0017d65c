//! infrafi-tx: signed transactions as EIP-712 typed data, checked statelessly.
//!
//! Each action is signed as its own EIP-712 struct ([`typed`]):
//! `Stake(uint64 chain,uint64 nonce,uint256 assets,uint256 min_shares)` under the domain
//! `{name: "infrafi", version: "3", chainId: signature_chain_id}`, so a wallet shows "Stake:
//! assets ..., min shares ...". `chain` is the infrafi chain it is for (checked against the
//! node's: no replay across infrafi chains); the domain's `chainId` is whatever chain the
//! signing wallet is on (wallets refuse typed data whose domain chain differs from their active
//! chain), carried beside the signature as `signature_chain_id`, as Hyperliquid does. A
//! transaction carries the action as `payload` (its JSON, `{"type":"stake","assets":...}`) and
//! `action` repeats its `type`; the digest is of the decoded action, so the JSON's spelling
//! does not matter. See `docs/node.md` for why this shape and how signatures of domain versions
//! 1 and 2 are treated.
//!
//! [`SignedTransaction::verify`] is the stateless check (chain id, sizes, payload, signature);
//! it yields a [`VerifiedTransaction`] sealed with its hash. Nonces are checked by the node
//! against the state.

use alloy_primitives::{Address, B256, Sealed, U256, keccak256};
use alloy_sol_types::Eip712Domain;
use infrafi_core::Action;
use rayon::prelude::*;
use secp256k1::{
    Message, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub mod samples;
pub mod typed;

/// The EIP-712 domain name.
pub const DOMAIN_NAME: &str = "infrafi";
/// The EIP-712 domain version. Version 1 signed `Transaction(uint64 nonce,string action,string
/// payload)` with the infrafi chain id as the domain's `chainId` (its requests are refused as
/// `signing_scheme_retired`); version 2 signed `Transaction(uint64 chain,uint64 nonce,string
/// action,string payload)`; version 3 signs one struct per action ([`typed`]). Signatures of
/// older versions recover another address (`sender_mismatch`).
pub const DOMAIN_VERSION: &str = "3";
/// The largest action payload, in bytes of JSON.
pub const PAYLOAD_BYTES_MAX: usize = 4_096;
/// The largest action name, in bytes.
pub const ACTION_NAME_BYTES_MAX: usize = 64;
/// A signature: `r` (32 bytes), `s` (32 bytes), `v` (1 byte: 0, 1, 27 or 28).
pub const SIGNATURE_BYTES: usize = 65;

/// The EIP-712 domain for a wallet on chain `signature_chain_id`.
pub fn domain(signature_chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some(Cow::Borrowed(DOMAIN_NAME)),
        Some(Cow::Borrowed(DOMAIN_VERSION)),
        Some(U256::from(signature_chain_id)),
        None,
        None,
    )
}

/// The digest a wallet on chain `signature_chain_id` signs for `action` with `nonce` on the
/// infrafi chain `chain_id`.
pub fn signing_hash(chain_id: u64, signature_chain_id: u64, nonce: u64, action: &Action) -> B256 {
    typed::action_signing_hash(chain_id, signature_chain_id, nonce, action)
}

/// The typed data of a transaction as `eth_signTypedData_v4` takes it (and viem's
/// `signTypedData`): `{types, primaryType, domain, message}`, integers as decimal strings. A
/// node serves it (`POST /v1/typed-data`) so that a browser wallet signs exactly what the node
/// verifies, with no copy of these types in JavaScript.
pub fn typed_data(
    chain_id: u64,
    signature_chain_id: u64,
    nonce: u64,
    action: &Action,
) -> serde_json::Value {
    typed::action_typed_data(chain_id, signature_chain_id, nonce, action)
}

/// A transaction as a client sends it and as a block stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTransaction {
    /// The infrafi chain it is for (the message's `chain`).
    pub chain_id: u64,
    /// The chain the signing wallet was on (the EIP-712 domain's `chainId`).
    pub signature_chain_id: u64,
    /// The address that signed it.
    pub sender: Address,
    /// The sender's nonce.
    pub nonce: u64,
    /// The action's name, equal to the payload's `type`.
    pub action: String,
    /// The action's JSON, exactly as signed.
    pub payload: String,
    /// `r || s || v`, 65 bytes.
    pub signature: alloy_primitives::Bytes,
}

/// A transaction whose signature, chain and payload are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTransaction {
    /// The transaction as signed.
    pub signed: SignedTransaction,
    /// The recovered sender (equal to `signed.sender`).
    pub sender: Address,
    /// The decoded action.
    pub action: Action,
}

/// A verified transaction with its hash.
pub type SealedTransaction = Sealed<VerifiedTransaction>;

/// Why a transaction fails its stateless check. Names are stable API codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// Signed for another chain.
    #[error("the transaction is for chain {got}, this node runs chain {expected}")]
    ChainIdMismatch {
        /// This node's chain.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The payload is too long.
    #[error("the payload is {length} bytes, the maximum is {max}")]
    PayloadTooLarge {
        /// Its length.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// The payload is not the JSON of an action.
    #[error("the payload is not a valid action: {reason}")]
    PayloadInvalid {
        /// What the decoder said.
        reason: String,
    },
    /// `action` differs from the payload's `type`.
    #[error("the action name `{named}` does not match the payload's type `{actual}`")]
    ActionNameMismatch {
        /// The `action` field.
        named: String,
        /// The payload's type.
        actual: String,
    },
    /// The signature is not 65 bytes with a valid `v`, or has a high `s`.
    #[error("the signature is malformed: {reason}")]
    SignatureMalformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// No key can be recovered from the signature.
    #[error("the signature is invalid")]
    SignatureInvalid,
    /// The signature recovers to another address than `sender`.
    #[error("the signature was made by {recovered}, not by the sender {sender}")]
    SenderMismatch {
        /// The claimed sender.
        sender: Address,
        /// Who signed.
        recovered: Address,
    },
}

impl CheckError {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            CheckError::ChainIdMismatch { .. } => "chain_id_mismatch",
            CheckError::PayloadTooLarge { .. } => "payload_too_large",
            CheckError::PayloadInvalid { .. } => "payload_invalid",
            CheckError::ActionNameMismatch { .. } => "action_name_mismatch",
            CheckError::SignatureMalformed { .. } => "signature_malformed",
            CheckError::SignatureInvalid => "signature_invalid",
            CheckError::SenderMismatch { .. } => "sender_mismatch",
        }
    }
}

impl SignedTransaction {
    /// The EIP-712 digest that was signed: that of the decoded payload. A payload that does not
    /// decode has no typed data; its digest here is `keccak256(payload)`, which names it in logs
    /// and can never verify ([`SignedTransaction::verify`] refuses it as `payload_invalid`
    /// before any signature check).
    pub fn signing_hash(&self) -> B256 {
        match serde_json::from_str::<Action>(&self.payload) {
            Ok(action) => signing_hash(self.chain_id, self.signature_chain_id, self.nonce, &action),
            Err(_) => keccak256(self.payload.as_bytes()),
        }
    }

    /// The transaction hash: `keccak256(sender || signing_hash)`. It names the content and the
    /// signer, not the signature bytes, so a re-signed copy has the same hash.
    pub fn hash(&self) -> B256 {
        self.hash_of(self.signing_hash())
    }

    fn hash_of(&self, signing_hash: B256) -> B256 {
        let mut bytes = [0u8; 52];
        bytes[..20].copy_from_slice(self.sender.as_slice());
        bytes[20..].copy_from_slice(signing_hash.as_slice());
        keccak256(bytes)
    }

    /// The stateless check, cheapest first: chain id, sizes, payload, action name, then
    /// signature recovery (about 40 µs, the expensive part).
    pub fn verify(self, chain_id: u64) -> Result<SealedTransaction, CheckError> {
        if self.chain_id != chain_id {
            return Err(CheckError::ChainIdMismatch { expected: chain_id, got: self.chain_id });
        }
        if self.payload.len() > PAYLOAD_BYTES_MAX {
            return Err(CheckError::PayloadTooLarge {
                length: self.payload.len(),
                max: PAYLOAD_BYTES_MAX,
            });
        }
        let action: Action = serde_json::from_str(&self.payload)
            .map_err(|e| CheckError::PayloadInvalid { reason: e.to_string() })?;
        if action.name() != self.action {
            let named: String = self.action.chars().take(ACTION_NAME_BYTES_MAX).collect();
            return Err(CheckError::ActionNameMismatch {
                named,
                actual: action.name().to_string(),
            });
        }
        let digest = signing_hash(self.chain_id, self.signature_chain_id, self.nonce, &action);
        let recovered = recover(&self.signature, digest)?;
        if recovered != self.sender {
            return Err(CheckError::SenderMismatch { sender: self.sender, recovered });
        }
        let hash = self.hash_of(digest);
        let sender = self.sender;
        Ok(Sealed::new_unchecked(VerifiedTransaction { signed: self, sender, action }, hash))
    }
}

/// Checks a batch across all cores; results are in input order.
pub fn verify_batch(
    transactions: Vec<SignedTransaction>,
    chain_id: u64,
) -> Vec<Result<SealedTransaction, CheckError>> {
    transactions.into_par_iter().map(|tx| tx.verify(chain_id)).collect()
}

/// The address that signed `digest` with `signature` (`r || s || v`).
pub fn recover(signature: &[u8], digest: B256) -> Result<Address, CheckError> {
    if signature.len() != SIGNATURE_BYTES {
        return Err(CheckError::SignatureMalformed { reason: "a signature is 65 bytes" });
    }
    let v = match signature[64] {
        0 | 27 => 0,
        1 | 28 => 1,
        _ => return Err(CheckError::SignatureMalformed { reason: "v must be 0, 1, 27 or 28" }),
    };
    let recovery_id = RecoveryId::try_from(v)
        .map_err(|_| CheckError::SignatureMalformed { reason: "bad recovery id" })?;
    let recoverable = RecoverableSignature::from_compact(&signature[..64], recovery_id)
        .map_err(|_| CheckError::SignatureMalformed { reason: "r or s out of range" })?;
    // EIP-2: only the low-s form is accepted, so a signature cannot be mangled into another.
    let standard = recoverable.to_standard();
    let mut normalized = standard;
    normalized.normalize_s();
    if normalized != standard {
        return Err(CheckError::SignatureMalformed { reason: "s must be in the lower half" });
    }
    let public_key = recoverable
        .recover_ecdsa(Message::from_digest(digest.0))
        .map_err(|_| CheckError::SignatureInvalid)?;
    Ok(address_of(&public_key))
}

fn address_of(public_key: &secp256k1::PublicKey) -> Address {
    let uncompressed = public_key.serialize_uncompressed();
    Address::from_slice(&keccak256(&uncompressed[1..])[12..])
}

/// A secp256k1 private key that signs transactions.
#[derive(Clone)]
pub struct SigningKey {
    secret: SecretKey,
    address: Address,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.address)
    }
}

/// Why bytes are not a private key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Zero or not below the curve order.
    #[error("the bytes are not a valid secp256k1 private key")]
    Invalid,
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Randomness(String),
}

impl SigningKey {
    /// The key with these 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<SigningKey, KeyError> {
        let secret = SecretKey::from_secret_bytes(bytes).map_err(|_| KeyError::Invalid)?;
        let address = address_of(&secret.public_key());
        Ok(SigningKey { secret, address })
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<SigningKey, KeyError> {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| KeyError::Randomness(e.to_string()))?;
            if let Ok(key) = SigningKey::from_bytes(bytes) {
                return Ok(key);
            }
        }
    }

    /// A deterministic key from a seed phrase (for devnets and tests only).
    pub fn from_seed(seed: &str) -> SigningKey {
        let mut digest = keccak256(seed.as_bytes());
        loop {
            if let Ok(key) = SigningKey::from_bytes(digest.0) {
                return key;
            }
            digest = keccak256(digest);
        }
    }

    /// The 32 secret bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.secret.to_secret_bytes()
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs a digest: `r || s || v` with `v` in {27, 28} as Ethereum wallets do.
    pub fn sign_digest(&self, digest: B256) -> [u8; SIGNATURE_BYTES] {
        let signature = RecoverableSignature::sign_ecdsa_recoverable(
            Message::from_digest(digest.0),
            &self.secret,
        );
        let (recovery_id, compact) = signature.serialize_compact();
        let mut out = [0u8; SIGNATURE_BYTES];
        out[..64].copy_from_slice(&compact);
        out[64] = 27 + recovery_id.to_u8();
        out
    }

    /// Signs `action` with `nonce` for the infrafi chain `chain_id` (as a wallet on that same
    /// chain id: the CLI's and the keeper's way).
    pub fn sign(&self, chain_id: u64, nonce: u64, action: &Action) -> SignedTransaction {
        let payload = serde_json::to_string(action).expect("an action always encodes to JSON");
        self.sign_payload(chain_id, chain_id, nonce, action.name(), payload)
    }

    /// Signs an action given as its name and JSON payload (which is not checked here), as a
    /// wallet on chain `signature_chain_id`.
    pub fn sign_payload(
        &self,
        chain_id: u64,
        signature_chain_id: u64,
        nonce: u64,
        action: &str,
        payload: String,
    ) -> SignedTransaction {
        let digest = match serde_json::from_str::<Action>(&payload) {
            Ok(decoded) => signing_hash(chain_id, signature_chain_id, nonce, &decoded),
            Err(_) => keccak256(payload.as_bytes()),
        };
        SignedTransaction {
            chain_id,
            signature_chain_id,
            sender: self.address,
            nonce,
            action: action.to_string(),
            payload,
            signature: self.sign_digest(digest).to_vec().into(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use infrafi_core::action::Transfer;
    use infrafi_core::{Amount, Asset};

    const CHAIN: u64 = 31_337;

    fn transfer() -> Action {
        Action::Transfer(Transfer {
            asset: Asset::Usdai,
            to: Address::repeat_byte(9),
            amount: Amount(5),
        })
    }

    #[test]
    fn a_signed_transaction_verifies_and_recovers_its_sender() {
        let key = SigningKey::from_seed("alice");
        let sealed = key.sign(CHAIN, 7, &transfer()).verify(CHAIN).unwrap();
        assert_eq!(sealed.sender, key.address());
        assert_eq!(sealed.action, transfer());
        assert_eq!(sealed.hash(), sealed.signed.hash());
    }

    #[test]
    fn a_known_private_key_has_its_known_address() {
        // The first Hardhat/Anvil development account.
        let bytes: [u8; 32] = alloy_primitives::hex::decode_to_array(
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        )
        .unwrap();
        let key = SigningKey::from_bytes(bytes).unwrap();
        assert_eq!(
            key.address(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266".parse::<Address>().unwrap()
        );
    }

    #[test]
    fn a_wallet_on_any_chain_signs_for_this_chain_and_the_signature_binds_both() {
        let key = SigningKey::from_seed("alice");
        let payload = serde_json::to_string(&transfer()).unwrap();
        // A wallet on Ethereum mainnet (1) signs for infrafi chain CHAIN.
        let signed = key.sign_payload(CHAIN, 1, 0, "transfer", payload.clone());
        assert_eq!(signed.clone().verify(CHAIN).unwrap().sender, key.address());
        // Relabelling the wallet's chain, or the infrafi chain, breaks the signature.
        let mut relabelled = signed.clone();
        relabelled.signature_chain_id = 137;
        assert_eq!(relabelled.verify(CHAIN).unwrap_err().code(), "sender_mismatch");
        let mut other_chain = signed.clone();
        other_chain.chain_id = CHAIN + 1;
        assert_eq!(other_chain.verify(CHAIN + 1).unwrap_err().code(), "sender_mismatch");
        assert_eq!(signed.verify(CHAIN + 1).unwrap_err().code(), "chain_id_mismatch");
    }

    #[test]
    fn the_served_typed_data_names_the_signed_struct_and_values() {
        let typed = typed_data(CHAIN, 1, 7, &transfer());
        assert_eq!(typed["primaryType"], "Transfer");
        assert_eq!(typed["domain"]["version"], DOMAIN_VERSION);
        assert_eq!(typed["domain"]["chainId"], "1");
        assert_eq!(typed["message"]["chain"], CHAIN.to_string());
        assert_eq!(typed["message"]["nonce"], "7");
        assert_eq!(typed["message"]["amount"], "5");
        let fields: Vec<String> = typed["types"]["Transfer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{} {}", f["type"].as_str().unwrap(), f["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            format!("Transfer({})", fields.join(",")),
            "Transfer(uint64 chain,uint64 nonce,string asset,address to,uint256 amount)"
        );
        // What is served is what is verified: a signature over it recovers the signer.
        let key = SigningKey::from_seed("alice");
        let signed =
            key.sign_payload(CHAIN, 1, 7, "transfer", serde_json::to_string(&transfer()).unwrap());
        assert_eq!(signed.signing_hash(), signing_hash(CHAIN, 1, 7, &transfer()));
    }

    #[test]
    fn another_chain_id_is_rejected() {
        let key = SigningKey::from_seed("alice");
        let error = key.sign(CHAIN + 1, 0, &transfer()).verify(CHAIN).unwrap_err();
        assert_eq!(error.code(), "chain_id_mismatch");
    }

    #[test]
    fn a_signature_for_another_chain_relabelled_recovers_another_sender() {
        let key = SigningKey::from_seed("alice");
        let mut tx = key.sign(CHAIN + 1, 0, &transfer());
        tx.chain_id = CHAIN;
        assert_eq!(tx.verify(CHAIN).unwrap_err().code(), "sender_mismatch");
    }

    #[test]
    fn tampered_payloads_and_bad_signatures_are_rejected() {
        let key = SigningKey::from_seed("alice");
        let tx = key.sign(CHAIN, 0, &transfer());
        let mut tampered = tx.clone();
        tampered.payload = tampered.payload.replace("\"amount\":\"5\"", "\"amount\":\"6\"");
        assert_eq!(tampered.verify(CHAIN).unwrap_err().code(), "sender_mismatch");
        let mut short = tx.clone();
        short.signature = vec![1u8; 64].into();
        assert_eq!(short.verify(CHAIN).unwrap_err().code(), "signature_malformed");
        let mut bad_v = tx.clone();
        let mut bytes = bad_v.signature.to_vec();
        bytes[64] = 5;
        bad_v.signature = bytes.into();
        assert_eq!(bad_v.verify(CHAIN).unwrap_err().code(), "signature_malformed");
        let mut renamed = tx.clone();
        renamed.action = "stake".into();
        assert_eq!(renamed.verify(CHAIN).unwrap_err().code(), "action_name_mismatch");
        let mut garbage = tx;
        garbage.payload = "{\"type\":\"transfer\",\"bogus\":1}".into();
        assert_eq!(garbage.verify(CHAIN).unwrap_err().code(), "payload_invalid");
    }

    #[test]
    fn a_high_s_twin_of_a_valid_signature_is_rejected() {
        let key = SigningKey::from_seed("alice");
        let tx = key.sign(CHAIN, 0, &transfer());
        let mut bytes = tx.signature.to_vec();
        // s' = n - s, with v flipped, is the same signature in its high-s form.
        let n = U256::from_str_radix(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
            16,
        )
        .unwrap();
        let s = U256::from_be_slice(&bytes[32..64]);
        bytes[32..64].copy_from_slice(&(n - s).to_be_bytes::<32>());
        bytes[64] = if bytes[64] == 27 { 28 } else { 27 };
        let mut twin = tx;
        twin.signature = bytes.into();
        assert_eq!(twin.verify(CHAIN).unwrap_err().code(), "signature_malformed");
    }

    #[test]
    fn a_batch_verifies_in_input_order() {
        let keys: Vec<SigningKey> =
            (0..32).map(|i| SigningKey::from_seed(&format!("k{i}"))).collect();
        let mut batch: Vec<SignedTransaction> =
            keys.iter().map(|k| k.sign(CHAIN, 0, &transfer())).collect();
        batch[3].chain_id = 1;
        let results = verify_batch(batch, CHAIN);
        for (index, result) in results.iter().enumerate() {
            match result {
                Ok(tx) => assert_eq!(tx.sender, keys[index].address()),
                Err(e) => {
                    assert_eq!(index, 3);
                    assert_eq!(e.code(), "chain_id_mismatch");
                }
            }
        }
    }
}
