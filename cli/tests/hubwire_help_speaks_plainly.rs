//! Guards the `--help` texts: every command's and subcommand's help is written for a person at a
//! shell, with no rustdoc links or Rust API words leaking from the code's doc comments.

use std::process::Command;

fn help(path: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(path)
        .arg("--help")
        .output()
        .expect("hubwire runs");
    assert!(out.status.success(), "{path:?} --help: {out:?}");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The subcommands listed under `Commands:` in a help text (without `help`).
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// What only code would say: intra-doc links, paths, generic types, Rust keywords.
const CODE_WORDS: [&str; 10] = [
    "[`", "`]", "](", "::", "Option<", "Vec<", "Self", "struct ", "fn ", "impl ",
];

#[test]
fn every_help_text_is_free_of_rust_words() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = 0;
    while let Some(path) = pending.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        seen += 1;
        for word in CODE_WORDS {
            assert!(
                !text.contains(word),
                "`hubwire {} --help` says {word:?}:\n{text}",
                args.join(" ")
            );
        }
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
    }
    // The walk really went through the tree (call, hub, pub, queue's operations, bench's modes...).
    assert!(seen > 30, "only {seen} help texts found");
}
