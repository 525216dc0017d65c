//! The `infrafi` command line.

mod schedule;

use clap::{Parser, Subcommand};

/// infrafi: a GPU-backed credit protocol.
#[derive(Parser, Debug)]
#[command(name = "infrafi", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a loan repayment schedule (the protocol's own calculator).
    Schedule(schedule::ScheduleArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Schedule(args) => schedule::run(args),
    }
}
