//! The validator set as clients hold it (`validators.json`), and checking a finalization
//! certificate against it offline.
//!
//! What a certificate proves: 2f+1 of the n validators (n = 3f+1) signed, under the chain's
//! consensus namespace, that the block with this header hash is final at a view of epoch 0.
//! The header hash commits to the header's `state_root`, so with a Merkle proof against that
//! root a client knows a balance as the quorum agreed it, trusting no single node. It does not
//! prove that the validators executed the block correctly: if 2f+1 of them collude, they can
//! sign any root (the BFT assumption: at most f are faulty).

use crate::{Finalization, PublicKey, Scheme, application::EPOCH, block};
use alloy_primitives::B256;
use commonware_codec::{Copying, Decode as _, ReadExt as _};
use commonware_consensus::{Epochable as _, Viewable as _};
use commonware_cryptography::certificate::Verifier as _;
use commonware_parallel::Sequential;
use commonware_utils::ordered::Set;
use serde::{Deserialize, Serialize};

/// One validator as clients see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorEntry {
    /// Its index in the set (the order of the set is the sorted order of the public keys).
    pub index: u32,
    /// Its consensus public key, hex.
    pub public_key: String,
    /// Its consensus network address (`host:port`).
    pub address: String,
    /// Its HTTP API (`http://host:port`).
    pub api: String,
}

/// The validator set of a chain (`validators.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorSet {
    /// The chain id.
    pub chain_id: u64,
    /// The validators, by index.
    pub validators: Vec<ValidatorEntry>,
}

/// Why a validator set or a certificate is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// A public key does not decode.
    #[error("public key {0} is not a 32-byte hex ed25519 key")]
    PublicKeyInvalid(String),
    /// The set lists a key twice or is not in index order.
    #[error("the validator set must list distinct keys in index order (sorted by key)")]
    SetInvalid,
    /// The certificate does not decode.
    #[error("the certificate does not decode: {0}")]
    Malformed(String),
    /// The certificate is for another block.
    #[error("the certificate finalizes block {certified}, not block {expected}")]
    WrongBlock {
        /// The block it finalizes.
        certified: B256,
        /// The block it was expected to finalize.
        expected: B256,
    },
    /// The certificate is of another epoch.
    #[error("the certificate is of epoch {0}; this validator set is epoch 0")]
    WrongEpoch(u64),
    /// Its signatures are not those of a quorum of this set.
    #[error("the certificate's signatures are not a quorum of this validator set")]
    SignaturesInvalid,
}

/// What a checked certificate says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckedCertificate {
    /// The consensus view the block was finalized in.
    pub view: u64,
    /// The indices of the validators that signed.
    pub signers: Vec<u32>,
    /// How many validators there are.
    pub validators: u32,
}

/// Decodes a hex public key (with or without `0x`).
pub fn parse_public_key(text: &str) -> Result<PublicKey, CertificateError> {
    let invalid = || CertificateError::PublicKeyInvalid(text.to_string());
    let bytes = alloy_primitives::hex::decode(text).map_err(|_| invalid())?;
    if bytes.len() != 32 {
        return Err(invalid());
    }
    PublicKey::read(&mut Copying(&bytes)).map_err(|_| invalid())
}

impl ValidatorSet {
    /// The public keys as an ordered set; checks they are distinct and listed in index order.
    pub fn participants(&self) -> Result<Set<PublicKey>, CertificateError> {
        let keys = self
            .validators
            .iter()
            .map(|entry| parse_public_key(&entry.public_key))
            .collect::<Result<Vec<_>, _>>()?;
        let set = Set::from_iter_dedup(keys.clone());
        let in_order = set.iter().zip(&keys).all(|(a, b)| a == b)
            && self.validators.iter().enumerate().all(|(i, e)| e.index as usize == i);
        if set.len() != keys.len() || !in_order {
            return Err(CertificateError::SetInvalid);
        }
        Ok(set)
    }

    /// A scheme that verifies this set's signatures.
    pub fn verifier(&self) -> Result<Scheme, CertificateError> {
        Ok(Scheme::verifier(&crate::namespace(self.chain_id), self.participants()?))
    }

    /// Decodes a finalization certificate (bounded by this set's size).
    pub fn decode(&self, encoded: &[u8]) -> Result<Finalization, CertificateError> {
        let scheme = self.verifier()?;
        Finalization::decode_cfg(encoded.to_vec(), &scheme.certificate_codec_config())
            .map_err(|e| CertificateError::Malformed(e.to_string()))
    }

    /// Checks offline that `encoded` is a finalization of the block `block_hash`, signed by a
    /// quorum of this set.
    pub fn check(
        &self,
        block_hash: B256,
        encoded: &[u8],
    ) -> Result<CheckedCertificate, CertificateError> {
        let scheme = self.verifier()?;
        let finalization = self.decode(encoded)?;
        let certified = block::hash_of(&finalization.proposal.payload);
        if certified != block_hash {
            return Err(CertificateError::WrongBlock { certified, expected: block_hash });
        }
        if finalization.epoch() != EPOCH {
            return Err(CertificateError::WrongEpoch(finalization.epoch().get()));
        }
        let mut rng = commonware_utils::sys_rng();
        if !finalization.verify(&mut rng, &scheme, &Sequential) {
            return Err(CertificateError::SignaturesInvalid);
        }
        Ok(CheckedCertificate {
            view: finalization.view().get(),
            signers: finalization.certificate.signers.iter().map(|p| p.get()).collect(),
            validators: self.validators.len() as u32,
        })
    }
}
