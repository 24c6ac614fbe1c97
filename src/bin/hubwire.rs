//! The `hubwire` command.

fn main() {
    std::process::exit(hubwire::cli::run());
}
