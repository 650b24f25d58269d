//! The `aipolicy` binary: parse arguments, run the command, exit with its code.

fn main() -> aipolicy_cli::Exit {
    aipolicy_cli::main()
}
