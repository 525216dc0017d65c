//! Keystores: a JSON file `{address, private_key}` written with mode 0600 and never
//! overwritten, and `infrafi wallet` (new, import, address).

use anyhow::{Context, Result, bail};
use infrafi_core::Address;
use infrafi_tx::SigningKey;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A keystore file.
#[derive(Serialize, Deserialize)]
pub(crate) struct Keystore {
    /// The key's address.
    pub(crate) address: Address,
    /// The private key, `0x` hex.
    pub(crate) private_key: String,
}

/// Writes `key` to `path` (mode 0600); refuses to overwrite.
pub(crate) fn save_key(path: &Path, key: &SigningKey) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let keystore = Keystore {
        address: key.address(),
        private_key: format!("0x{}", alloy_primitives::hex::encode(key.to_bytes())),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut file, serde_json::to_string_pretty(&keystore)?.as_bytes())?;
    Ok(())
}

/// Reads the key in the keystore at `path`.
pub(crate) fn load_key(path: &Path) -> Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let keystore: Keystore = serde_json::from_str(&text).context("parsing the keystore")?;
    let bytes: [u8; 32] = alloy_primitives::hex::decode_to_array(&keystore.private_key)
        .context("the private key is not 32 bytes of hex")?;
    let key = SigningKey::from_bytes(bytes)?;
    if key.address() != keystore.address {
        bail!("the keystore's address does not match its key");
    }
    Ok(key)
}

/// `infrafi wallet`.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum WalletCommand {
    /// Create a keystore with a fresh key.
    New {
        /// Where to write it.
        #[arg(long)]
        keystore: std::path::PathBuf,
    },
    /// Create a keystore from a private key.
    Import {
        /// Where to write it.
        #[arg(long)]
        keystore: std::path::PathBuf,
        /// The private key, `0x` hex.
        #[arg(long)]
        private_key: String,
    },
    /// Print a keystore's address.
    Address {
        /// The keystore.
        #[arg(long)]
        keystore: std::path::PathBuf,
    },
}

/// `infrafi wallet`.
pub(crate) fn wallet(command: WalletCommand) -> Result<()> {
    match command {
        WalletCommand::New { keystore } => {
            let key = SigningKey::generate()?;
            save_key(&keystore, &key)?;
            println!("{}", key.address());
        }
        WalletCommand::Import { keystore, private_key } => {
            let bytes: [u8; 32] = alloy_primitives::hex::decode_to_array(&private_key)
                .context("the private key is not 32 bytes of hex")?;
            let key = SigningKey::from_bytes(bytes)?;
            save_key(&keystore, &key)?;
            println!("{}", key.address());
        }
        WalletCommand::Address { keystore } => println!("{}", load_key(&keystore)?.address()),
    }
    Ok(())
}
