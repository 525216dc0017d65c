//! `infrafi query`: one read from the node's API, printed as JSON.

use super::{NODE_URL_DEFAULT, runtime};
use anyhow::{Result, bail};
use infrafi_api::client::Client;
use infrafi_core::{Address, ids::B256};

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
    /// The USDai reserve: ledger and attested backing, the newest attestation and its age.
    Reserve,
    /// The reserve custodian's attestations, newest first.
    ReserveAttestations {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Deposits waiting for room to mint, head first, and what the head can do now.
    DepositQueue {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
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
    /// Servicing rounds with clearing prices.
    Rounds {
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Requests listed for sale.
    Listings,
    /// Curator silos.
    Silos,
    /// One silo.
    Silo { id: u64 },
    /// Loans, filtered.
    Loans {
        #[arg(long)]
        silo: Option<u64>,
        #[arg(long)]
        borrower: Option<Address>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Start after this loan id (the answer's `next_after`, to read the next page).
        #[arg(long)]
        after: Option<u64>,
    },
    /// One loan with its schedule.
    Loan { id: u64 },
    /// Asset classes with their depreciation model, income terms, rental index and income value.
    AssetClasses {
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Start after this class (the answer's `next_after`).
        #[arg(long)]
        after: Option<String>,
    },
    /// Receipts, filtered.
    Receipts {
        #[arg(long)]
        owner: Option<Address>,
        /// An asset class id (gpu.h100).
        #[arg(long)]
        class: Option<String>,
        #[arg(long)]
        status: Option<String>,
        /// The receipts pledged to this loan.
        #[arg(long)]
        loan: Option<u64>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Start after this receipt id (the answer's `next_after`, to read the next page).
        #[arg(long)]
        after: Option<u64>,
    },
    /// One receipt with insurance and valuation.
    Receipt { id: u64 },
    /// A proof of a loan.
    ProveLoan { id: u64 },
    /// A proof of a receipt.
    ProveReceipt { id: u64 },
    /// A proof of a silo.
    ProveSilo { id: u64 },
    /// The history series the node records (no name), or one series over a range.
    History {
        /// A series (`deposit_price`, `realised_apy_30d`, ...); none lists them.
        series: Option<String>,
        /// Start, unix seconds (default: 30 days before `--to`).
        #[arg(long)]
        from: Option<u64>,
        /// End, unix seconds (default: the head's time).
        #[arg(long)]
        to: Option<u64>,
        /// Seconds per point (default: the node's choice, at most 1,000 points).
        #[arg(long)]
        step: Option<u64>,
    },
}

/// `path` (which has a query already) with each given filter appended as `&name=value`, the
/// value percent-encoded (a typed `&` or space stays part of the value the node judges).
fn with_filters(mut path: String, filters: &[(&str, Option<String>)]) -> String {
    for (name, value) in filters {
        if let Some(value) = value {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            path.push_str(&format!("&{name}={encoded}"));
        }
    }
    path
}

/// `infrafi query`.
pub(crate) fn query(args: QueryArgs) -> Result<()> {
    use QueryCommand as Q;
    let path = match &args.what {
        Q::Status => "/v1/status".to_string(),
        Q::Account { address } => format!("/v1/accounts/{address}"),
        Q::Reserve => "/v1/reserve".into(),
        Q::ReserveAttestations { limit } => format!("/v1/reserve/attestations?limit={limit}"),
        Q::DepositQueue { limit } => format!("/v1/reserve/deposit-queue?limit={limit}"),
        Q::Vault => "/v1/vault".into(),
        Q::Queue => "/v1/queue".into(),
        Q::Request { id } => format!("/v1/queue/{id}"),
        Q::Params => "/v1/params".into(),
        Q::Leaderboard { limit } => format!("/v1/points/leaderboard?limit={limit}"),
        Q::Tx { hash } => format!("/v1/tx/{hash}"),
        Q::Block { height } => format!("/v1/blocks/{height}"),
        Q::ProveBalance { address, asset } => format!("/v1/proofs/balances/{address}/{asset}"),
        Q::ProveRequest { id } => format!("/v1/proofs/queue/{id}"),
        Q::Rounds { limit } => format!("/v1/queue/rounds?limit={limit}"),
        Q::Listings => "/v1/queue/listings".into(),
        Q::Silos => "/v1/silos".into(),
        Q::Silo { id } => format!("/v1/silos/{id}"),
        Q::Loans { silo, borrower, status, limit, after } => with_filters(
            format!("/v1/loans?limit={limit}"),
            &[
                ("silo", silo.map(|s| s.to_string())),
                ("borrower", borrower.map(|b| b.to_string())),
                ("status", status.clone()),
                ("after", after.map(|a| a.to_string())),
            ],
        ),
        Q::Loan { id } => format!("/v1/loans/{id}"),
        Q::Receipts { owner, class, status, loan, limit, after } => with_filters(
            format!("/v1/receipts?limit={limit}"),
            &[
                ("owner", owner.map(|o| o.to_string())),
                ("class", class.clone()),
                ("status", status.clone()),
                ("loan", loan.map(|l| l.to_string())),
                ("after", after.map(|a| a.to_string())),
            ],
        ),
        Q::Receipt { id } => format!("/v1/receipts/{id}"),
        Q::AssetClasses { limit, after } => {
            with_filters(format!("/v1/asset-classes?limit={limit}"), &[("after", after.clone())])
        }
        Q::ProveLoan { id } => format!("/v1/proofs/loans/{id}"),
        Q::ProveReceipt { id } => format!("/v1/proofs/receipts/{id}"),
        Q::ProveSilo { id } => format!("/v1/proofs/silos/{id}"),
        Q::History { series: None, .. } => "/v1/history".into(),
        Q::History { series: Some(series), from, to, step } => {
            let range = [("from", from), ("to", to), ("step", step)]
                .iter()
                .filter_map(|(name, value)| value.map(|v| format!("{name}={v}")))
                .collect::<Vec<_>>()
                .join("&");
            format!("/v1/history/{series}?{range}")
        }
    };
    let answer = runtime()?.block_on(Client::new(&args.node).get(&path))?;
    println!("{}", serde_json::to_string_pretty(&answer.body)?);
    if !answer.status.is_success() {
        bail!("the node answered {}", answer.status);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::with_filters;

    #[test]
    fn filters_are_appended_in_order_skipping_the_absent_and_encoding_the_rest() {
        let path = with_filters(
            "/v1/receipts?limit=5".into(),
            &[
                ("owner", None),
                ("class", Some("gpu.h100 &x=1".into())),
                ("after", Some("7".into())),
            ],
        );
        assert_eq!(path, "/v1/receipts?limit=5&class=gpu.h100+%26x%3D1&after=7");
    }
}
