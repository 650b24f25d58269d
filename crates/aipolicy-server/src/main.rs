//! `aipolicy-serve`: the decision service on its own, until it is `aipolicy serve`.

use clap::Parser;

/// aipolicy's decision service: the native and the AuthZEN 1.0 API over HTTP.
#[derive(Debug, Parser)]
#[command(name = "aipolicy-serve", version)]
struct Cli {
    #[command(flatten)]
    serve: aipolicy_server::ServeArgs,
}

fn main() -> std::process::ExitCode {
    aipolicy_server::run(Cli::parse().serve)
}
