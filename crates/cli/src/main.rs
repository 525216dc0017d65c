//! The `infrafi` command line: a thin shell over the core, the node and the simulator.

mod alloc_counter;
mod bench;
mod demo;
mod schedule;
mod simulate;

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
    /// Monte Carlo stress test of a scenario's book over the real state machine.
    Simulate(simulate::SimulateArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => demo::run(),
        Command::Bench(command) => bench::run(command),
        Command::Schedule(args) => schedule::run(args),
        Command::Simulate(args) => simulate::run(args),
    }
}
