//! Checks that go beyond types: ranges and formats a value of the right type can still miss.

use super::{Config, MAX_IO_SPIN};
use crate::address::Address;

/// A value of the right type that is still not acceptable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key} = {value}: {reason}")]
pub struct InvalidValue {
    /// The config key.
    pub key: &'static str,
    /// The value, as written in JSON.
    pub value: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

fn check(
    ok: bool,
    key: &'static str,
    value: impl ToString,
    reason: &str,
) -> Result<(), InvalidValue> {
    if ok {
        Ok(())
    } else {
        Err(InvalidValue {
            key,
            value: value.to_string(),
            reason: reason.to_owned(),
        })
    }
}

impl Config {
    /// Checks ranges and formats; the first problem found is returned.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        self.auth_throttle_limits().map_err(|reason| InvalidValue {
            key: "auth_failure_max_delay_ms",
            value: self.auth_failure_max_delay.as_millis().to_string(),
            reason,
        })?;
        if let Some(tls) = &self.tls {
            check(
                tls.bridge_cert_file.is_some() == tls.bridge_key_file.is_some(),
                "tls",
                "{...}",
                "bridge_cert_file and bridge_key_file go together: give both or neither",
            )?;
        }
        self.checked_users().map_err(|e| InvalidValue {
            key: "users",
            value: format!("{:?}", e.user),
            reason: e.problem,
        })?;
        check(
            !self.listen.is_empty(),
            "listen",
            "[]",
            "at least one address is needed",
        )?;
        check(
            !self.nats_tls
                || self
                    .listen
                    .iter()
                    .any(|address| matches!(address, Address::Nats(_))),
            "nats_tls",
            true,
            "it is for nats:// listen addresses and listen has none: add one, or leave nats_tls off",
        )?;
        check(
            (64..=u32::MAX as usize).contains(&self.max_frame),
            "max_frame",
            self.max_frame,
            "must be from 64 to 4294967295 bytes",
        )?;
        for (key, value) in [
            (
                "max_in_flight_per_connection",
                self.max_in_flight_per_connection,
            ),
            ("max_in_flight_per_route", self.max_in_flight_per_route),
            (
                "max_in_flight_per_udp_endpoint",
                self.max_in_flight_per_udp_endpoint,
            ),
            (
                "max_connections_per_listener",
                self.max_connections_per_listener,
            ),
            ("max_connections_per_peer", self.max_connections_per_peer),
            ("auth_failure_addresses", self.auth_failure_addresses),
            ("hub_max_outbound_bytes", self.hub_max_outbound_bytes),
            ("hub_max_outbound_messages", self.hub_max_outbound_messages),
            ("max_outbound_bytes", self.max_outbound_bytes),
            ("bridge_max_outbound_bytes", self.bridge_max_outbound_bytes),
            (
                "hub_max_subscriptions_per_connection",
                self.hub_max_subscriptions_per_connection,
            ),
        ] {
            check(value >= 1, key, value, "must be at least 1")?;
        }
        check(
            self.io_threads <= 1024,
            "io_threads",
            self.io_threads,
            "must be at most 1024 (0 means one per core)",
        )?;
        check(
            self.io_spin <= MAX_IO_SPIN,
            "io_spin_us",
            self.io_spin.as_micros(),
            "must be at most 1000000 (1 s)",
        )?;
        check(
            !self.handshake_timeout.is_zero(),
            "handshake_timeout_ms",
            0,
            "must be at least 1 ms",
        )?;
        check(
            self.nats_max_payload > 0 && self.nats_max_payload <= 64 * 1024 * 1024,
            "nats_max_payload",
            self.nats_max_payload,
            "must be from 1 byte to 64 MiB",
        )?;
        check(
            self.nats_max_control_line >= 256,
            "nats_max_control_line",
            self.nats_max_control_line,
            "must be at least 256 bytes",
        )?;
        check(
            !self.hub_ping_interval.is_zero(),
            "hub_ping_interval_ms",
            0,
            "must be at least 1 ms",
        )?;
        check(
            !self.outbound_stall_timeout.is_zero(),
            "outbound_stall_timeout_ms",
            0,
            "must be at least 1 ms",
        )?;
        check(
            !self.idle_timeout.is_zero(),
            "idle_timeout_ms",
            0,
            "must be at least 1 ms",
        )?;
        check(
            u32::from_str_radix(&self.unix_socket_mode, 8).is_ok_and(|m| m <= 0o777),
            "unix_socket_mode",
            format!("{:?}", self.unix_socket_mode),
            "must be octal permissions such as \"600\" or \"660\"",
        )?;
        check(
            !self.log_level.trim().is_empty(),
            "log_level",
            "\"\"",
            "must name a level (error, warn, info, debug, trace) or tracing directives",
        )?;
        if let Err(bad) = crate::websocket::OriginPolicy::new(&self.ws_allowed_origins) {
            return Err(InvalidValue {
                key: "ws_allowed_origins",
                value: format!("{:?}", bad.0),
                reason: bad.to_string(),
            });
        }
        check(
            self.bridges.is_empty() || self.bridge_secret.is_some(),
            "bridges",
            format!("{} bridges", self.bridges.len()),
            "need bridge_secret (or HUBWIRE_BRIDGE_SECRET, or --secret): bridges are admitted by a shared secret",
        )?;
        check(
            self.bridge_secret
                .as_ref()
                .is_none_or(|s| s.expose().len() >= 8),
            "bridge_secret",
            "(hidden)",
            "must be at least 8 bytes",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        let cases: Vec<(Config, &str)> = vec![
            (
                Config {
                    max_frame: 10,
                    ..Config::default()
                },
                "max_frame",
            ),
            (
                Config {
                    max_connections_per_peer: 0,
                    ..Config::default()
                },
                "max_connections_per_peer",
            ),
            (
                Config {
                    unix_socket_mode: "rw".into(),
                    ..Config::default()
                },
                "unix_socket_mode",
            ),
            (
                Config {
                    listen: vec![],
                    ..Config::default()
                },
                "listen",
            ),
            (
                Config {
                    nats_tls: true,
                    ..Config::default()
                },
                "nats_tls",
            ),
            (
                Config {
                    ws_allowed_origins: vec!["app.example.com".into()],
                    ..Config::default()
                },
                "ws_allowed_origins",
            ),
            (
                Config {
                    io_spin: MAX_IO_SPIN + std::time::Duration::from_micros(1),
                    ..Config::default()
                },
                "io_spin_us",
            ),
        ];
        for (config, key) in cases {
            assert_eq!(config.validate().unwrap_err().key, key);
        }
    }

    #[test]
    fn a_config_round_trips_through_json_with_unknown_keys_refused() {
        let json = serde_json::to_value(Config::default()).unwrap();
        assert_eq!(json["handshake_timeout_ms"], 5000);
        assert_eq!(json["io_spin_us"], 200);
        assert_eq!(json["listen"][0], "tcp://127.0.0.1:7400");
        let back: Config = serde_json::from_value(json).unwrap();
        assert_eq!(back, Config::default());
        let err = serde_json::from_str::<Config>(r#"{"max_frames": 1}"#).unwrap_err();
        assert!(err.to_string().contains("max_frames"), "{err}");
    }
}
