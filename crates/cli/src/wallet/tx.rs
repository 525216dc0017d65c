//! `infrafi tx`: sign one action with a keystore's key, submit it, and wait for its receipt;
//! or, with `--dry-run`, have the node preview it without signing anything.

use super::{NODE_URL_DEFAULT, action::ActionCommand, keystore::load_key, runtime};
use anyhow::{Context, Result, bail};
use infrafi_api::client::Client;
use std::time::Duration;

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
    /// Preview only: the node applies the action to its committed state and rolls it back
    /// (`POST /v1/dry-run`); nothing is signed or sent. Fails if the preview is a rejection.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// The action.
    #[command(subcommand)]
    pub(crate) action: ActionCommand,
}

/// `infrafi tx`: prints the receipt; fails if the node refuses or rejects the transaction.
pub(crate) fn tx(args: TxArgs) -> Result<()> {
    let key = load_key(&args.keystore)?;
    let action = args.action.action()?;
    runtime()?.block_on(async {
        let client = Client::new(&args.node);
        if args.dry_run {
            let body = serde_json::json!({"sender": key.address(), "action": action});
            let answer = client.post("/v1/dry-run", &body).await?;
            println!("{}", serde_json::to_string_pretty(&answer.body)?);
            if answer.status != 200 {
                bail!("refused ({}): {}", answer.status, error_text(&answer.body));
            }
            if answer.body["status"] != "applied" {
                bail!("the node would reject it: {}", error_text(&answer.body["error"]));
            }
            return Ok(());
        }
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
            bail!("refused ({}): {}", answer.status, error_text(&answer.body));
        }
        let hash = answer.body["tx_hash"].as_str().unwrap_or_default().to_string();
        if args.no_wait {
            println!("{}", answer.body);
            return Ok(());
        }
        let receipt = wait_for_receipt(&client, &hash).await?;
        println!("{}", serde_json::to_string_pretty(&receipt)?);
        if receipt["status"] != "applied" {
            bail!("rejected: {}", error_text(&receipt["error"]));
        }
        Ok(())
    })
}

/// An error body in words: `code` (the snake_case name), its `number` when it is a result
/// code, and the sentence; anything else as its JSON.
pub(crate) fn error_text(error: &serde_json::Value) -> String {
    let (Some(code), Some(message)) = (error["code"].as_str(), error["message"].as_str()) else {
        return error.to_string();
    };
    match error["number"].as_u64() {
        Some(number) => format!("{code} (number {number}): {message}"),
        None => format!("{code}: {message}"),
    }
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

#[cfg(test)]
mod tests {
    use super::error_text;
    use serde_json::json;

    #[test]
    fn an_error_reads_as_its_code_then_its_number_then_its_sentence() {
        let receipt =
            json!({"code": "balance_insufficient", "number": 102, "message": "Too little."});
        assert_eq!(error_text(&receipt), "balance_insufficient (number 102): Too little.");
        let api = json!({"code": "mempool_full", "message": "Full."});
        assert_eq!(error_text(&api), "mempool_full: Full.");
        assert_eq!(error_text(&json!("odd")), "\"odd\"");
    }
}
