//! Guards docs/deployment.md: the systemd unit's command line and the production configuration
//! it shows are accepted by a real application (checked with `--print-config`, which loads and
//! validates everything and exits), with the unit's directories and socket moved to a scratch
//! directory.

mod support;

use std::process::Command;

use support::process::{example_path, TempDir};

/// The text of the first fenced block of `lang` after `marker` in the page.
fn block_after(page: &str, marker: &str, lang: &str) -> String {
    let from = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in the page"));
    let fence = format!("```{lang}\n");
    let start = page[from..].find(&fence).expect("a fenced block") + from + fence.len();
    let end = page[start..].find("```").expect("its end") + start;
    page[start..end].to_string()
}

#[test]
fn the_units_command_line_and_the_configuration_load() {
    let page = std::fs::read_to_string("docs/deployment.md").expect("docs/deployment.md");
    let scratch = TempDir::new("deployment");
    let root = scratch.0.display().to_string();
    let moved = |text: &str| {
        text.replace("/etc/dice", &format!("{root}/etc"))
            .replace("/run/dice", &format!("{root}/run"))
            .replace("/var/lib/dice", &format!("{root}/lib"))
    };
    for dir in ["etc", "run", "lib"] {
        std::fs::create_dir_all(scratch.0.join(dir)).unwrap();
    }
    let config = moved(&block_after(
        &page,
        "## Configuration in production",
        "json",
    ));
    std::fs::write(scratch.0.join("etc/dice.json"), config).unwrap();

    let unit = block_after(&page, "## A systemd unit", "ini");
    let exec = unit
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let exec = moved(exec);
    let mut words = exec.split_whitespace();
    assert_eq!(words.next(), Some("/usr/local/bin/dice_server"));
    let out = Command::new(example_path("dice_server"))
        .args(words)
        .arg("--print-config")
        .output()
        .expect("dice_server runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    // What the page promises reached the effective configuration, with its source.
    for expected in [
        "tcp://0.0.0.0:7400",
        &format!("unix://{root}/run/dice.sock"),
        "10.0.0.0/8",
        &format!("{root}/lib"),
        "json",
    ] {
        assert!(printed.contains(expected), "{expected} in:\n{printed}");
    }
}
