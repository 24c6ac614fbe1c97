//! The JSON configuration (`hubwire_core::Config`, what a config file holds once the layers are
//! merged): parsing, validation, the derived values the server reads, and the round trip a
//! `--print-config` and reload go through (written back, read again, the same settings).
//!
//! Input: JSON text.
#![no_main]

use hubwire_core::pubsub::Channel;
use hubwire_core::Config;
use hubwire_fuzz::assert_same_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config: Config = match serde_json::from_slice(data) {
        Ok(config) => config,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    if let Err(invalid) = config.validate() {
        let _ = invalid.to_string();
    }
    let _ = config.allow_list();
    let _ = config.unix_socket_mode_bits();
    let anything = Channel::parse("sensors/kitchen/temp").unwrap();
    for bridge in &config.bridges {
        let _ = (bridge.exports(&anything), bridge.imports(&anything));
    }

    let text = serde_json::to_string(&config).expect("a config read from JSON writes as JSON");
    let again: Config = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a config wrote JSON it cannot read ({e}): {text}"));
    if again != config {
        // Only floats may differ, by serde_json's reading of them (see `assert_same_json`).
        let (a, b) = (serde_json::to_value(&config), serde_json::to_value(&again));
        assert_same_json(&a.unwrap(), &b.unwrap());
    }
    assert_eq!(again.validate().is_ok(), config.validate().is_ok());
});
