//! `hubwire passwd`: the argon2 hash of a password for a user's `password_hash`, or a fresh
//! token and its SHA-256 for `token_sha256` (`docs/security.md`).

use std::io::BufRead;

use hubwire_core::auth::{hash_password_with, new_token, token_sha256};

use crate::{EXIT_OK, EXIT_USAGE};

/// Arguments of `hubwire passwd`.
#[derive(Debug, clap::Args)]
pub struct PasswdArgs {
    /// Make a random token instead: prints the token (give it to the client) and its
    /// token_sha256 (put it in the config).
    #[arg(long)]
    pub token: bool,
    /// argon2 memory cost in KiB (the default is argon2's recommended 19456).
    #[arg(long, default_value_t = 19456, value_name = "KIB")]
    pub memory_kib: u32,
    /// argon2 passes.
    #[arg(long, default_value_t = 2)]
    pub passes: u32,
}

/// Reads a password from the first line of standard input and prints its argon2id hash (or,
/// with `--token`, makes a token); returns the exit code.
pub fn passwd(args: PasswdArgs) -> i32 {
    if args.token {
        let token = new_token();
        println!("token:        {token}");
        println!("token_sha256: {}", token_sha256(&token));
        return EXIT_OK;
    }
    if !(8..=4 * 1024 * 1024).contains(&args.memory_kib) || args.passes == 0 {
        eprintln!("hubwire passwd: --memory-kib must be from 8 to 4194304 and --passes at least 1");
        return EXIT_USAGE;
    }
    eprintln!("password (one line on standard input; it is echoed on a terminal):");
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        eprintln!("hubwire passwd: cannot read the password: {e}");
        return EXIT_USAGE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!("hubwire passwd: the password is empty");
        return EXIT_USAGE;
    }
    println!(
        "{}",
        hash_password_with(password, args.memory_kib, args.passes)
    );
    EXIT_OK
}
