use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    xuegong::cli::run(xuegong::cli::Cli::parse()).await
}
