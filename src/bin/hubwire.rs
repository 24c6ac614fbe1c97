//! The `hubwire` command.

fn main() -> std::process::ExitCode {
    hubwire::cli::run()
}
