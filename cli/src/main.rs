//! The `hubwire` command.

fn main() -> std::process::ExitCode {
    hubwire_cli::run()
}
