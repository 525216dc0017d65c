//! Keystores and `infrafi wallet` (new, import, address).
//!
//! A user's key is written encrypted in the Web3 Secret Storage v3 format (scrypt, AES-128-CTR,
//! a keccak MAC: the JSON file geth, foundry's `cast wallet` and MetaMask import), through the
//! `eth-keystore` crate (the one alloy's local signer, and so foundry, use) rather than crypto of
//! our own. The password comes from `INFRAFI_KEYSTORE_PASSWORD` or, when that is unset, from a
//! prompt on the terminal. Files are written with mode 0600 and never overwritten.
//!
//! The devnet's actor keys come from public seeds, so encrypting them would protect nothing:
//! they are written in plain JSON marked `"devnet": true`. A plain key without that mark is
//! refused, so a plain file can never pass for a user's wallet by accident; `wallet import
//! --from-plain` turns one into an encrypted keystore.

use anyhow::{Context, Result, bail};
use infrafi_core::Address;
use infrafi_tx::SigningKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
};

/// The environment variable holding the keystore password (otherwise it is asked for).
pub(crate) const PASSWORD_ENV: &str = "INFRAFI_KEYSTORE_PASSWORD";

/// What a devnet key file says about itself.
const DEVNET_WARNING: &str =
    "devnet key derived from a public seed: anyone can sign with it; never hold value with it";

/// A plain devnet key file.
#[derive(Serialize, Deserialize)]
struct DevnetKeyFile {
    /// The key's address.
    address: Address,
    /// The private key, `0x` hex.
    private_key: String,
    /// Marks the file as a devnet key: plain keys are read only with this set.
    #[serde(default)]
    devnet: bool,
    /// Why the key is in plain text.
    #[serde(default)]
    warning: String,
}

/// Creates `path` for writing, mode 0600, refusing to overwrite.
fn create_private(path: &Path) -> Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// Writes a devnet actor's key to `path` in plain JSON marked as a devnet key.
pub(crate) fn save_devnet_key(path: &Path, key: &SigningKey) -> Result<()> {
    let file = DevnetKeyFile {
        address: key.address(),
        private_key: format!("0x{}", alloy_primitives::hex::encode(key.to_bytes())),
        devnet: true,
        warning: DEVNET_WARNING.into(),
    };
    create_private(path)?.write_all(serde_json::to_string_pretty(&file)?.as_bytes())?;
    Ok(())
}

/// Writes `key` to `path` as an encrypted v3 keystore under `password`.
pub(crate) fn save_encrypted_key(path: &Path, key: &SigningKey, password: &str) -> Result<()> {
    // eth-keystore writes into a directory: encrypt into a private scratch directory beside the
    // target, add the `address` field geth and MetaMask show, then write the file ourselves
    // with mode 0600 and no overwrite.
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let scratch = tempfile::Builder::new().prefix(".infrafi-keystore-").tempdir_in(parent)?;
    eth_keystore::encrypt_key(
        scratch.path(),
        &mut rand_core::OsRng,
        key.to_bytes(),
        password,
        Some("keystore.json"),
    )
    .context("encrypting the key")?;
    let mut json: Value =
        serde_json::from_slice(&std::fs::read(scratch.path().join("keystore.json"))?)?;
    json["address"] = Value::String(alloy_primitives::hex::encode(key.address()));
    create_private(path)?.write_all(serde_json::to_string(&json)?.as_bytes())?;
    Ok(())
}

/// Reads the key in the keystore at `path`: an encrypted v3 keystore (asking for its password
/// unless `INFRAFI_KEYSTORE_PASSWORD` is set) or a plain devnet key file.
pub(crate) fn load_key(path: &Path) -> Result<SigningKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let json: Value = serde_json::from_str(&text).context("parsing the keystore")?;
    if json.get("crypto").or_else(|| json.get("Crypto")).is_some() {
        let password = password(path, false)?;
        return decrypt(path, &json, &password);
    }
    let file: DevnetKeyFile = serde_json::from_value(json).context(
        "the keystore is neither an encrypted v3 keystore nor a devnet key file {address, private_key}",
    )?;
    if !file.devnet {
        bail!(
            "{} holds a private key in plain text and is not marked as a devnet key; encrypt it: \
             `infrafi wallet import --keystore NEW.json --from-plain {}`",
            path.display(),
            path.display()
        );
    }
    plain_key(&file)
}

fn plain_key(file: &DevnetKeyFile) -> Result<SigningKey> {
    let bytes: [u8; 32] = alloy_primitives::hex::decode_to_array(&file.private_key)
        .context("the private key is not 32 bytes of hex")?;
    let key = SigningKey::from_bytes(bytes)?;
    if key.address() != file.address {
        bail!("the keystore's address does not match its key");
    }
    Ok(key)
}

/// Decrypts the v3 keystore at `path` (already parsed as `json`) with `password`.
fn decrypt(path: &Path, json: &Value, password: &str) -> Result<SigningKey> {
    // geth wrote the section as `Crypto` for years and ethers still does; the definition and
    // eth-keystore say `crypto`. Read either: a `Crypto` file is decrypted from a normalised
    // copy in a private scratch directory.
    let scratch;
    let readable = match (json.get("crypto"), json.get("Crypto")) {
        (None, Some(crypto)) => {
            let mut normalised = json.clone();
            if let Some(object) = normalised.as_object_mut() {
                object.remove("Crypto");
                object.insert("crypto".into(), crypto.clone());
            }
            scratch = tempfile::Builder::new().prefix(".infrafi-keystore-").tempdir()?;
            let copy = scratch.path().join("keystore.json");
            create_private(&copy)?.write_all(serde_json::to_string(&normalised)?.as_bytes())?;
            copy
        }
        _ => path.to_path_buf(),
    };
    let secret = eth_keystore::decrypt_key(&readable, password).map_err(|error| match error {
        eth_keystore::KeystoreError::MacMismatch => {
            anyhow::anyhow!(
                "wrong password for {} (the keystore's MAC does not match)",
                path.display()
            )
        }
        other => anyhow::anyhow!("decrypting {}: {other}", path.display()),
    })?;
    let bytes: [u8; 32] =
        secret.try_into().map_err(|_| anyhow::anyhow!("the decrypted key is not 32 bytes"))?;
    let key = SigningKey::from_bytes(bytes)?;
    if let Some(address) = json.get("address").and_then(Value::as_str) {
        let stated: Address = format!("0x{}", address.trim_start_matches("0x"))
            .parse()
            .context("the keystore's address is not an address")?;
        if stated != key.address() {
            bail!("the keystore says {stated} but its key is {}'s", key.address());
        }
    }
    Ok(key)
}

/// The keystore password: `INFRAFI_KEYSTORE_PASSWORD`, or asked on the terminal (twice when
/// `confirm`, for a new keystore).
fn password(path: &Path, confirm: bool) -> Result<String> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        if password.is_empty() {
            bail!("{PASSWORD_ENV} is set but empty");
        }
        return Ok(password);
    }
    let prompt = format!("Password for {}: ", path.display());
    let password = rpassword::prompt_password(prompt).with_context(|| {
        format!("no terminal to ask the keystore password on; set {PASSWORD_ENV}")
    })?;
    if password.is_empty() {
        bail!("a keystore password must not be empty");
    }
    if confirm && rpassword::prompt_password("Again: ")? != password {
        bail!("the passwords differ");
    }
    Ok(password)
}

/// `infrafi wallet`.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum WalletCommand {
    /// Create an encrypted keystore (Web3 Secret Storage v3) with a fresh key.
    New {
        /// Where to write it.
        #[arg(long)]
        keystore: PathBuf,
    },
    /// Create an encrypted keystore from a private key or from a plain key file.
    Import {
        /// Where to write it.
        #[arg(long)]
        keystore: PathBuf,
        /// The private key, `0x` hex.
        #[arg(long, conflicts_with = "from_plain", required_unless_present = "from_plain")]
        private_key: Option<String>,
        /// A plain `{address, private_key}` key file to encrypt.
        #[arg(long)]
        from_plain: Option<PathBuf>,
    },
    /// Print a keystore's address (decrypting it).
    Address {
        /// The keystore.
        #[arg(long)]
        keystore: PathBuf,
    },
}

/// `infrafi wallet`.
pub(crate) fn wallet(command: WalletCommand) -> Result<()> {
    match command {
        WalletCommand::New { keystore } => {
            let key = SigningKey::generate()?;
            save_encrypted_key(&keystore, &key, &password(&keystore, true)?)?;
            println!("{}", key.address());
        }
        WalletCommand::Import { keystore, private_key, from_plain } => {
            let key = match (private_key, from_plain) {
                (Some(private_key), _) => {
                    let bytes: [u8; 32] = alloy_primitives::hex::decode_to_array(&private_key)
                        .context("the private key is not 32 bytes of hex")?;
                    SigningKey::from_bytes(bytes)?
                }
                (None, Some(plain)) => {
                    let text = std::fs::read_to_string(&plain)
                        .with_context(|| format!("reading {}", plain.display()))?;
                    plain_key(&serde_json::from_str(&text).context("parsing the key file")?)?
                }
                (None, None) => bail!("give --private-key or --from-plain"),
            };
            save_encrypted_key(&keystore, &key, &password(&keystore, true)?)?;
            println!("{}", key.address());
        }
        WalletCommand::Address { keystore } => println!("{}", load_key(&keystore)?.address()),
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_keystore_is_v3_scrypt_and_opens_only_with_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("me.json");
        let key = SigningKey::from_seed("keystore/test");
        save_encrypted_key(&path, &key, "correct horse").unwrap();
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["version"], 3);
        assert_eq!(json["crypto"]["kdf"], "scrypt");
        assert_eq!(json["crypto"]["cipher"], "aes-128-ctr");
        assert_eq!(json["address"], alloy_primitives::hex::encode(key.address()));
        let secret = alloy_primitives::hex::encode(key.to_bytes());
        assert!(!std::fs::read_to_string(&path).unwrap().contains(&secret), "encrypted");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(decrypt(&path, &json, "correct horse").unwrap().address(), key.address());
        let wrong = decrypt(&path, &json, "battery staple").unwrap_err().to_string();
        assert!(wrong.contains("wrong password"), "{wrong}");
        assert!(save_encrypted_key(&path, &key, "again").is_err(), "never overwritten");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no scratch directory is left behind");
    }

    #[test]
    fn the_web3_secret_storage_pbkdf2_test_vector_decrypts_to_its_key() {
        // The PBKDF2 test vector of the Web3 Secret Storage Definition (password
        // "testpassword"). Its scrypt vector uses r = 1 with n = 2^18, which RFC 7914 forbids
        // (n < 2^(16 r)) and the scrypt crate refuses; keystores from geth, foundry and
        // MetaMask use r = 8.
        let vector = r#"{"crypto":{"cipher":"aes-128-ctr","cipherparams":{"iv":"6087dab2f9fdbbfaddc31a909735c1e6"},"ciphertext":"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46","kdf":"pbkdf2","kdfparams":{"c":262144,"dklen":32,"prf":"hmac-sha256","salt":"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"},"mac":"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"},"id":"3198bc9c-6672-5ab3-d995-4942343ae5b6","version":3}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vector.json");
        std::fs::write(&path, vector).unwrap();
        let key = decrypt(&path, &serde_json::from_str(vector).unwrap(), "testpassword").unwrap();
        assert_eq!(
            alloy_primitives::hex::encode(key.to_bytes()),
            "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
        );
    }

    #[test]
    fn a_plain_key_is_read_only_when_marked_as_a_devnet_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::from_seed("keystore/devnet");
        let devnet = dir.path().join("devnet.json");
        save_devnet_key(&devnet, &key).unwrap();
        assert_eq!(load_key(&devnet).unwrap().address(), key.address());
        let unmarked = dir.path().join("plain.json");
        let plain = serde_json::json!({
            "address": key.address(),
            "private_key": format!("0x{}", alloy_primitives::hex::encode(key.to_bytes())),
        });
        std::fs::write(&unmarked, plain.to_string()).unwrap();
        let refused = load_key(&unmarked).unwrap_err().to_string();
        assert!(refused.contains("not marked as a devnet key"), "{refused}");
    }
}
