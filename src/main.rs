//! The `aipolicy` binary: parse arguments, run the command, exit with its code.

fn main() -> aipolicy::cli::Exit {
    aipolicy::cli::main()
}
