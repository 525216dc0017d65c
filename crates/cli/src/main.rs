//! The `infrafi` command line.
fn main() {}
