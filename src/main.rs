//! The `sepfc` command line: parses arguments into a verb of [`sepfc::commands::cli`] and runs
//! it; an error is one line on standard error and exit status 1.

use std::process::ExitCode;

use clap::Parser;
use sepfc::commands::cli::Cli;

fn main() -> ExitCode {
    let command = Cli::parse().command.unwrap_or_default();
    match command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
