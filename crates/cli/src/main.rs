//! The `infrafi` command line: a thin shell over the core, the node and the simulator.

mod alloc_counter;
mod bench;
mod bench_node;
mod campaign;
mod demo;
mod devnet;
mod node_cmd;
mod schedule;
mod simulate;
mod validator_cmd;
mod wallet;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: alloc_counter::CountingAllocator = alloc_counter::CountingAllocator;

/// infrafi: a GPU-backed credit protocol.
#[derive(Parser)]
#[command(name = "infrafi", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Walk a depositor through the protocol in memory and print each step.
    Demo,
    /// Measure the state machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Print a loan repayment schedule (the protocol's own calculator).
    Schedule(schedule::ScheduleArgs),
    /// Run a node.
    Node(node_cmd::NodeArgs),
    /// Run a devnet: a node with a demo market, keys and a keeper.
    Devnet(devnet::DevnetArgs),
    /// Run one validator of a validator network (docs/validators.md).
    Validator(validator_cmd::ValidatorArgs),
    /// Make and run a local validator network.
    #[command(subcommand)]
    Testnet(validator_cmd::TestnetCommand),
    /// Manage keystores.
    #[command(subcommand)]
    Wallet(wallet::WalletCommand),
    /// Sign and submit one transaction.
    Tx(wallet::TxArgs),
    /// Read from a node.
    Query(wallet::QueryArgs),
    /// Compute a sealed bid's commitment (for `tx commit-sealed-bid`).
    SealedBidCommitment(wallet::SealedBidCommitmentArgs),
    /// Check a state proof offline.
    VerifyProof(node_cmd::VerifyProofArgs),
    /// Re-execute a stopped node's blocks from genesis and compare state roots.
    Replay(node_cmd::ReplayArgs),
    /// Load-test a node over HTTP from a separate load generator.
    BenchNode(bench_node::BenchNodeArgs),
    /// Monte Carlo stress test of a scenario's book over the real state machine.
    Simulate(simulate::SimulateArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if !matches!(
        cli.command,
        Command::Demo | Command::Bench(_) | Command::Schedule(_) | Command::SealedBidCommitment(_)
    ) {
        tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    }
    if matches!(cli.command, Command::Node(_) | Command::Devnet(_) | Command::Validator(_)) {
        node_cmd::disable_transparent_huge_pages();
    }
    match cli.command {
        Command::Demo => demo::run(),
        Command::Bench(command) => bench::run(command),
        Command::Schedule(args) => schedule::run(args),
        Command::Node(args) => node_cmd::run(args),
        Command::Devnet(args) => devnet::run(args),
        Command::Validator(args) => validator_cmd::run_validator(args),
        Command::Testnet(command) => validator_cmd::testnet(command),
        Command::Wallet(command) => wallet::wallet(command),
        Command::Tx(args) => wallet::tx(args),
        Command::Query(args) => wallet::query(args),
        Command::SealedBidCommitment(args) => wallet::sealed_bid_commitment(args),
        Command::VerifyProof(args) => node_cmd::verify_proof(args),
        Command::Replay(args) => node_cmd::replay(args),
        Command::BenchNode(args) => bench_node::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}
