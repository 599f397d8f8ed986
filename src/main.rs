//! `pipeline`: the command-line front of cadenza (`cadenza::cli`).

fn main() {
    cadenza::cli::main()
}
