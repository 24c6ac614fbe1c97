//! Guards docs/configuration.md as the contract of the configuration: every key the server
//! takes has its row in the table of keys, with its default as the server has it, and every
//! row names a key the server takes.

use std::collections::BTreeSet;

use hubwire::prelude::Config;

/// The rows of the keys table: (key, default column).
fn documented() -> Vec<(String, String)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    doc.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split(" | ").collect();
            let key = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            Some((key.to_owned(), cells.get(2)?.to_string()))
        })
        .collect()
}

fn keys() -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(Config::default()).expect("the defaults serialize") {
        serde_json::Value::Object(map) => map,
        other => panic!("the configuration is not an object: {other}"),
    }
}

#[test]
fn every_key_has_a_row_and_every_row_a_key() {
    let documented: BTreeSet<String> = documented().into_iter().map(|(key, _)| key).collect();
    let keys: BTreeSet<String> = keys().keys().cloned().collect();
    let missing: Vec<_> = keys.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&keys).collect();
    assert!(missing.is_empty(), "keys without a row: {missing:?}");
    assert!(stale.is_empty(), "rows without a key: {stale:?}");
}

#[test]
fn plain_defaults_are_documented_as_the_server_has_them() {
    let keys = keys();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (key, default) in documented() {
        let value = &keys[&key];
        // Numbers, booleans and strings are written as their JSON; objects and lists, and
        // what depends on the machine (`<temp dir>`), in words.
        let plain = value.is_number() || value.is_boolean() || value.is_string();
        if plain && !default.contains('<') {
            // The first `...` of the cell; a string may be written bare.
            let written = default.split('`').nth(1).unwrap_or_default();
            let (json, bare) = (value.to_string(), value.as_str() == Some(written));
            if written != json && !bare {
                wrong.push(format!(
                    "{key}: documented {default}, the server has {value}"
                ));
            }
            checked += 1;
        }
    }
    assert!(wrong.is_empty(), "defaults that differ: {wrong:#?}");
    assert!(checked > 20, "only {checked} defaults checked");
}
