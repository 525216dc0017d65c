//! One validator's configuration file (`config.toml`) and its consensus key file.
//!
//! ```toml
//! index = 0
//! chain_id = 31337
//! key = "consensus.key"            # hex of the ed25519 private key; keep it private
//! data_dir = "data"                # the node's store and the engine's journals
//! genesis = "../genesis.json"
//! genesis_history = "../genesis-history.json"   # optional: actions before block 1
//! validators = "../validators.json"
//! listen = "0.0.0.0:9000"          # consensus network (TCP)
//! api = "127.0.0.1:8545"           # HTTP API
//! block_time_ms = 1000
//! block_txs_max = 20000
//! block_bytes_max = 4194304
//! keeper_keystore = "../keys/keeper.json"   # optional: run the built-in keeper
//! ```
//!
//! Relative paths are relative to the file's folder. The validator set (public keys and
//! addresses of every validator, this one included) is `validators.json`, the file clients use
//! to check certificates, so the two can never disagree.

use crate::{
    Limits, PrivateKey,
    certificate::{CertificateError, ValidatorSet},
};
use commonware_codec::{Copying, Encode as _, ReadExt as _};
use serde::{Deserialize, Serialize};
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

/// A validator's configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorConfig {
    /// This validator's index in the validator set.
    pub index: u32,
    /// The chain id.
    pub chain_id: u64,
    /// The consensus key file.
    pub key: PathBuf,
    /// The node's data directory.
    pub data_dir: PathBuf,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The genesis's history (`infrafi_node::GenesisHistory`): actions applied to the genesis
    /// state before the first block; every validator must hold the identical file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_history: Option<PathBuf>,
    /// The validator set file.
    pub validators: PathBuf,
    /// The consensus network's listening address.
    pub listen: SocketAddr,
    /// The HTTP API's listening address.
    pub api: SocketAddr,
    /// Milliseconds a leader waits after the last block.
    pub block_time_ms: u64,
    /// The most transactions per block.
    pub block_txs_max: usize,
    /// The largest block, encoded.
    pub block_bytes_max: usize,
    /// A keystore to run the built-in keeper with (one validator is enough).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keeper_keystore: Option<PathBuf>,
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file does not parse.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The validator set is invalid, or this validator is not in it as configured.
    #[error(transparent)]
    Set(#[from] CertificateError),
    /// The key does not match the set.
    #[error("the key in {key} is not validator {index}'s key in the validator set")]
    KeyNotInSet {
        /// The key file.
        key: String,
        /// The configured index.
        index: u32,
    },
    /// The configuration disagrees with the validator set.
    #[error("{0}")]
    Mismatch(String),
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })
}

fn parse_error(path: &Path, message: impl ToString) -> ConfigError {
    ConfigError::Parse { path: path.display().to_string(), message: message.to_string() }
}

/// Reads a consensus key file (hex of the 32-byte ed25519 private key).
pub fn read_key(path: &Path) -> Result<PrivateKey, ConfigError> {
    let text = read(path)?;
    let bytes = alloy_primitives::hex::decode(text.trim()).map_err(|e| parse_error(path, e))?;
    if bytes.len() != 32 {
        return Err(parse_error(path, "a key is 32 bytes"));
    }
    PrivateKey::read(&mut Copying(&bytes)).map_err(|e| parse_error(path, e))
}

/// Writes a consensus key file, readable by its owner only.
pub fn write_key(path: &Path, key: &PrivateKey) -> Result<(), ConfigError> {
    let io = |source| ConfigError::Io { path: path.display().to_string(), source };
    std::fs::write(path, alloy_primitives::hex::encode(key.encode())).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(())
}

/// `n` fresh consensus keys from the operating system's entropy, in the validator set's order
/// (sorted by public key, so the i-th key is validator i).
pub fn generate_keys(n: usize) -> Vec<PrivateKey> {
    use commonware_cryptography::Signer as _;
    use commonware_math::algebra::Random as _;
    let mut rng = commonware_utils::sys_rng();
    let mut keys: Vec<PrivateKey> = (0..n).map(|_| PrivateKey::random(&mut rng)).collect();
    keys.sort_by_key(|key| key.public_key());
    keys
}

/// A key's public half, hex, as `validators.json` lists it.
pub fn public_key_hex(key: &PrivateKey) -> String {
    use commonware_cryptography::Signer as _;
    format!("{}", key.public_key())
}

/// Reads a validator set file.
pub fn read_validator_set(path: &Path) -> Result<ValidatorSet, ConfigError> {
    let set: ValidatorSet = serde_json::from_str(&read(path)?).map_err(|e| parse_error(path, e))?;
    set.participants()?;
    Ok(set)
}

impl ValidatorConfig {
    /// Reads a configuration file, resolving its relative paths against its folder.
    pub fn load(path: &Path) -> Result<ValidatorConfig, ConfigError> {
        let mut config: ValidatorConfig =
            toml::from_str(&read(path)?).map_err(|e| parse_error(path, e))?;
        let folder = path.parent().unwrap_or(Path::new("."));
        for file in
            [&mut config.key, &mut config.data_dir, &mut config.genesis, &mut config.validators]
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
        for file in [&mut config.keeper_keystore, &mut config.genesis_history].into_iter().flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
        Ok(config)
    }

    /// The block pace and bounds.
    pub fn limits(&self) -> Limits {
        Limits {
            block_time: Duration::from_millis(self.block_time_ms.max(1)),
            block_txs_max: self.block_txs_max,
            block_bytes_max: self.block_bytes_max,
        }
    }

    /// Reads the key and the validator set and checks they agree with this configuration.
    pub fn identity(&self) -> Result<(PrivateKey, ValidatorSet), ConfigError> {
        use commonware_cryptography::Signer as _;
        let key = read_key(&self.key)?;
        let set = read_validator_set(&self.validators)?;
        if set.chain_id != self.chain_id {
            return Err(ConfigError::Mismatch(format!(
                "the validator set is for chain {}, the configuration for chain {}",
                set.chain_id, self.chain_id
            )));
        }
        let participants = set.participants()?;
        let position = participants.iter().position(|k| *k == key.public_key());
        if position != Some(self.index as usize) {
            return Err(ConfigError::KeyNotInSet {
                key: self.key.display().to_string(),
                index: self.index,
            });
        }
        Ok((key, set))
    }
}
