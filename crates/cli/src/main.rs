//! The `infrafi` command line.

mod bench_node;
mod devnet;
mod node_cmd;
mod wallet;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "infrafi", version, about = "The infrafi protocol: node, devnet, wallet.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node.
    Node(node_cmd::NodeArgs),
    /// Run a devnet: a node with a demo market, keys and a keeper.
    Devnet(devnet::DevnetArgs),
    /// Manage keystores.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Sign and submit one transaction.
    Tx(wallet::TxArgs),
    /// Read from a node.
    Query(wallet::QueryArgs),
    /// Check a state proof offline.
    VerifyProof(node_cmd::VerifyProofArgs),
    /// Re-execute a stopped node's blocks from genesis and compare state roots.
    Replay(node_cmd::ReplayArgs),
    /// Load-test a node over HTTP from a separate load generator.
    BenchNode(bench_node::BenchNodeArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    match Cli::parse().command {
        Command::Node(args) => node_cmd::run(args),
        Command::Devnet(args) => devnet::run(args),
        Command::Wallet(command) => wallet::wallet(command),
        Command::Tx(args) => wallet::tx(args),
        Command::Query(args) => wallet::query(args),
        Command::VerifyProof(args) => node_cmd::verify_proof(args),
        Command::Replay(args) => node_cmd::replay(args),
        Command::BenchNode(args) => bench_node::run(args),
    }
}
