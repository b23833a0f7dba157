//! The gapwatch command line: glue between the crates.

use std::process::ExitCode;

fn main() -> ExitCode {
    gapwatch::cli::main()
}
