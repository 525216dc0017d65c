//! The CLI wallet: keystores, signing and submitting any action, and reads.
//!
//! Amounts are typed as decimals of the token ("1250.5"), never as raw integers; a keystore is
//! a JSON file `{address, private_key}` written with mode 0600 (a development wallet: the key
//! is not encrypted).

use anyhow::{Context, Result, bail};
use infrafi_api::client::Client;
use infrafi_core::{
    Action, Address, Amount, Asset, RequestId, Role, Symbol,
    ids::{B256, PayoutId},
    math::Rate,
    params::PauseScope,
};
use infrafi_tx::SigningKey;
use serde::{Deserialize, Serialize};
use std::{path::Path, time::Duration};

/// The node the CLI talks to unless told otherwise.
pub(crate) const NODE_URL_DEFAULT: &str = "http://127.0.0.1:8545";

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

fn amount(text: &str) -> Result<Amount, String> {
    Amount::parse_decimal(text).map_err(|e| format!("`{text}`: {e} (amounts are decimals: 1250.5)"))
}

fn price(text: &str) -> Result<u128, String> {
    amount(text).map(|a| a.0)
}

fn symbol(text: &str) -> Result<Symbol, String> {
    Symbol::new(text).ok_or_else(|| format!("`{text}` is not a symbol (USDC, USDT, ...)"))
}

fn asset(text: &str) -> Result<Asset, String> {
    match text {
        "USDai" | "usdai" => Ok(Asset::Usdai),
        "sUSDai" | "susdai" => Ok(Asset::Susdai),
        other => symbol(other).map(Asset::Stablecoin),
    }
}

fn role(text: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not a role (admin, oracle, gateway_attestor, ...)"))
}

fn scope(text: &str) -> Result<PauseScope, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("`{text}` is not a pause scope (minting, staking, borrowing)"))
}

/// One action, typed for people. `raw` takes any action's JSON, including those added later.
#[derive(clap::Subcommand, Debug)]
#[allow(missing_docs)]
pub(crate) enum ActionCommand {
    /// Send an asset to another user.
    Transfer {
        #[arg(long, value_parser = asset)]
        asset: Asset,
        #[arg(long)]
        to: Address,
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Mint USDai from a stablecoin.
    MintUsdai {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_out: Amount,
    },
    /// Redeem USDai for a stablecoin.
    RedeemUsdai {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_out: Amount,
    },
    /// Stake USDai for sUSDai.
    Stake {
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long, value_parser = amount, default_value = "0")]
        min_shares: Amount,
    },
    /// Mint exact sUSDai shares.
    MintShares {
        #[arg(long, value_parser = amount)]
        shares: Amount,
        #[arg(long, value_parser = amount)]
        max_assets: Amount,
    },
    /// Give USDai to all shareholders.
    Donate {
        #[arg(long, value_parser = amount)]
        amount: Amount,
    },
    /// Lock sUSDai in a redemption request.
    RequestRedeem {
        #[arg(long, value_parser = amount)]
        shares: Amount,
    },
    /// Cancel a redemption request.
    CancelRedeem {
        #[arg(long)]
        id: u64,
    },
    /// Claim served USDai.
    Claim {
        #[arg(long)]
        id: u64,
    },
    /// Keeper: run a servicing round.
    ServiceQueue {
        #[arg(long, default_value_t = 1_000)]
        max_requests: u32,
    },
    /// Keeper: harvest base yield.
    HarvestBaseYield,
    /// Attestor: credit an external deposit.
    GatewayCredit {
        #[arg(long)]
        account: Address,
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long)]
        external_id: B256,
    },
    /// Withdraw a stablecoin to another chain.
    GatewayWithdraw {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = amount)]
        amount: Amount,
        #[arg(long)]
        destination: String,
    },
    /// Attestor: confirm a payout.
    GatewayConfirm {
        #[arg(long)]
        payout_id: u64,
        #[arg(long)]
        external_id: B256,
    },
    /// Attestor: reject a payout.
    GatewayReject {
        #[arg(long)]
        payout_id: u64,
        #[arg(long)]
        reason: String,
    },
    /// Admin: grant a role.
    GrantRole {
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long)]
        account: Address,
    },
    /// Admin: revoke a role.
    RevokeRole {
        #[arg(long, value_parser = role)]
        role: Role,
        #[arg(long)]
        account: Address,
    },
    /// Admin: change a parameter, as JSON (`{"parameter":"mint_fee_bps","value":10}`).
    SetParameter {
        #[arg(long)]
        json: String,
    },
    /// Admin: support a new stablecoin.
    AddStablecoin {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
    },
    /// Guardian: pause or unpause.
    SetPause {
        #[arg(long, value_parser = scope)]
        scope: PauseScope,
        #[arg(long, action = clap::ArgAction::Set)]
        paused: bool,
    },
    /// Compliance: freeze an address.
    Freeze {
        #[arg(long)]
        account: Address,
    },
    /// Compliance: unfreeze an address.
    Unfreeze {
        #[arg(long)]
        account: Address,
    },
    /// KYC registrar: set verification.
    SetKyc {
        #[arg(long)]
        account: Address,
        #[arg(long, action = clap::ArgAction::Set)]
        verified: bool,
    },
    /// Oracle: post a stablecoin price in USD ("0.9998").
    PostPrice {
        #[arg(long, value_parser = symbol)]
        token: Symbol,
        #[arg(long, value_parser = price)]
        price: u128,
    },
    /// Oracle: post the T-bill yield as an APR in basis points.
    PostTbillRate {
        #[arg(long)]
        apr_bps: u32,
    },
    /// Any action as JSON (`{"type":"stake",...}`): every action the node knows.
    Raw {
        #[arg(long)]
        json: String,
    },
}

impl ActionCommand {
    /// The action.
    pub(crate) fn action(self) -> Result<Action> {
        use ActionCommand as C;
        Ok(match self {
            C::Transfer { asset, to, amount } => Action::Transfer { asset, to, amount },
            C::MintUsdai { token, amount, min_out } => Action::MintUsdai { token, amount, min_out },
            C::RedeemUsdai { token, amount, min_out } => {
                Action::RedeemUsdai { token, amount, min_out }
            }
            C::Stake { amount, min_shares } => Action::Stake { assets: amount, min_shares },
            C::MintShares { shares, max_assets } => Action::MintShares { shares, max_assets },
            C::Donate { amount } => Action::DonateToVault { amount },
            C::RequestRedeem { shares } => Action::RequestRedeem { shares },
            C::CancelRedeem { id } => Action::CancelRedeem { request_id: RequestId(id) },
            C::Claim { id } => Action::Claim { request_id: RequestId(id) },
            C::ServiceQueue { max_requests } => Action::ServiceQueue { max_requests },
            C::HarvestBaseYield => Action::HarvestBaseYield {},
            C::GatewayCredit { account, token, amount, external_id } => {
                Action::GatewayCredit { account, token, amount, external_id }
            }
            C::GatewayWithdraw { token, amount, destination } => {
                Action::GatewayWithdraw { token, amount, destination }
            }
            C::GatewayConfirm { payout_id, external_id } => {
                Action::GatewayConfirm { payout_id: PayoutId(payout_id), external_id }
            }
            C::GatewayReject { payout_id, reason } => {
                Action::GatewayReject { payout_id: PayoutId(payout_id), reason }
            }
            C::GrantRole { role, account } => Action::GrantRole { role, account },
            C::RevokeRole { role, account } => Action::RevokeRole { role, account },
            C::SetParameter { json } => {
                Action::SetParameter { change: serde_json::from_str(&json).context("parameter")? }
            }
            C::AddStablecoin { token } => Action::AddStablecoin { token },
            C::SetPause { scope, paused } => Action::SetPause { scope, paused },
            C::Freeze { account } => Action::Freeze { account },
            C::Unfreeze { account } => Action::Unfreeze { account },
            C::SetKyc { account, verified } => Action::SetKyc { account, verified },
            C::PostPrice { token, price } => Action::PostPrice { token, price },
            C::PostTbillRate { apr_bps } => {
                Action::PostTbillRate { rate: Rate::from_apr_bps(apr_bps) }
            }
            C::Raw { json } => serde_json::from_str(&json).context("the action JSON")?,
        })
    }
}

/// `infrafi tx`: sign and submit one action.
#[derive(clap::Args, Debug)]
pub(crate) struct TxArgs {
    /// The signer's keystore.
    #[arg(long)]
    pub(crate) keystore: std::path::PathBuf,
    /// The node.
    #[arg(long, default_value = NODE_URL_DEFAULT)]
    pub(crate) node: String,
    /// Use this nonce instead of asking the node.
    #[arg(long)]
    pub(crate) nonce: Option<u64>,
    /// Return once accepted, without waiting for the receipt.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// The action.
    #[command(subcommand)]
    pub(crate) action: ActionCommand,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// `infrafi tx`: prints the receipt; fails if the node refuses or rejects the transaction.
pub(crate) fn tx(args: TxArgs) -> Result<()> {
    let key = load_key(&args.keystore)?;
    let action = args.action.action()?;
    runtime()?.block_on(async {
        let client = Client::new(&args.node);
        let status = client.get("/v1/status").await?;
        let chain_id = status.body["chain_id"].as_u64().context("the node has no chain id")?;
        let nonce = match args.nonce {
            Some(nonce) => nonce,
            None => {
                let account = client.get(&format!("/v1/accounts/{}", key.address())).await?;
                account.body["next_nonce"].as_u64().context("the node gave no nonce")?
            }
        };
        let signed = key.sign(chain_id, nonce, &action);
        let answer = client.submit(&signed).await?;
        if answer.status != 202 {
            bail!("refused ({}): {}", answer.status, answer.body);
        }
        let hash = answer.body["tx_hash"].as_str().unwrap_or_default().to_string();
        if args.no_wait {
            println!("{}", answer.body);
            return Ok(());
        }
        let receipt = wait_for_receipt(&client, &hash).await?;
        println!("{}", serde_json::to_string_pretty(&receipt)?);
        if receipt["status"] != "applied" {
            bail!("rejected: {}", receipt["error"]);
        }
        Ok(())
    })
}

async fn wait_for_receipt(client: &Client, hash: &str) -> Result<serde_json::Value> {
    for _ in 0..600 {
        let answer = client.get(&format!("/v1/tx/{hash}")).await?;
        if answer.status == 200 && answer.body["status"] != "pending" {
            return Ok(answer.body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("transaction {hash} was not committed within 30 s")
}

/// `infrafi query`: reads.
#[derive(clap::Args, Debug)]
pub(crate) struct QueryArgs {
    /// The node.
    #[arg(long, default_value = NODE_URL_DEFAULT)]
    pub(crate) node: String,
    /// What to read.
    #[command(subcommand)]
    pub(crate) what: QueryCommand,
}

/// What `infrafi query` reads.
#[derive(clap::Subcommand, Debug)]
#[allow(missing_docs)]
pub(crate) enum QueryCommand {
    /// Height, state root, time.
    Status,
    /// An account.
    Account { address: Address },
    /// The USDai reserve.
    Reserve,
    /// The sUSDai vault.
    Vault,
    /// The redemption queue.
    Queue,
    /// One redemption request with its estimate.
    Request { id: u64 },
    /// Parameters.
    Params,
    /// The points leaderboard.
    Leaderboard {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// A transaction.
    Tx { hash: B256 },
    /// A block (`latest` allowed).
    Block { height: String },
    /// A proof of a balance (pipe it to `infrafi verify-proof`).
    ProveBalance { address: Address, asset: String },
    /// A proof of a redemption request.
    ProveRequest { id: u64 },
}

/// `infrafi query`.
pub(crate) fn query(args: QueryArgs) -> Result<()> {
    use QueryCommand as Q;
    let path = match &args.what {
        Q::Status => "/v1/status".to_string(),
        Q::Account { address } => format!("/v1/accounts/{address}"),
        Q::Reserve => "/v1/reserve".into(),
        Q::Vault => "/v1/vault".into(),
        Q::Queue => "/v1/queue".into(),
        Q::Request { id } => format!("/v1/queue/{id}"),
        Q::Params => "/v1/params".into(),
        Q::Leaderboard { limit } => format!("/v1/points/leaderboard?limit={limit}"),
        Q::Tx { hash } => format!("/v1/tx/{hash}"),
        Q::Block { height } => format!("/v1/blocks/{height}"),
        Q::ProveBalance { address, asset } => format!("/v1/proofs/balances/{address}/{asset}"),
        Q::ProveRequest { id } => format!("/v1/proofs/queue/{id}"),
    };
    let answer = runtime()?.block_on(Client::new(&args.node).get(&path))?;
    println!("{}", serde_json::to_string_pretty(&answer.body)?);
    if !answer.status.is_success() {
        bail!("the node answered {}", answer.status);
    }
    Ok(())
}
