//! Pub/sub with typed bodies: a sensor publishes readings, a subscriber prints them, a
//! provider answers calls, and a caller calls it. All four are spokes of one hub.
//!
//! Run: `cargo run --example sensors` (it starts a hub of its own on loopback), or against a
//! running hub: `cargo run --bin hubwire -- hub` in one shell, then
//! `cargo run --example sensors -- tcp://127.0.0.1:7500`; watch it with
//! `cargo run --bin hubwire -- sub 'sensors/**'`.

use std::time::Duration;

use hubwire::hub::HubLimits;
use hubwire::prelude::*;

#[derive(Debug, Serialize, Deserialize)]
struct Reading {
    room: String,
    celsius: f64,
}

#[actix::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A hub: the one given, or one of our own on a free loopback port.
    let mut _own_hub = None;
    let hub: Address = match std::env::args().nth(1) {
        Some(address) => address.parse()?,
        None => {
            let config = Config {
                listen: vec!["tcp://127.0.0.1:0".parse()?],
                ..Config::default()
            };
            let server = Server::builder(config)
                .hub(HubLimits::default())
                .start()
                .await?;
            let address = server.addresses()[0].clone();
            _own_hub = Some(server);
            address
        }
    };
    let registry = StatsRegistry::new();
    let spoke = |name: &str| SpokeSpec::new(hub.clone()).name(name).start(&registry).0;
    let (sensor, watcher, converter) = (spoke("sensor"), spoke("watcher"), spoke("converter"));
    for s in [&sensor, &watcher, &converter] {
        s.ready(Duration::from_secs(5)).await?;
    }

    // A subscriber: every reading of every room, decoded.
    let mut readings = watcher
        .subscribe_typed::<Reading>(Pattern::parse("sensors/*/temp")?)
        .await?;

    // An RPC provider: converts Celsius to Fahrenheit.
    converter
        .provide_typed(
            Pattern::parse("convert/fahrenheit")?,
            |celsius: f64| async move { Ok(celsius * 9.0 / 5.0 + 32.0) },
        )
        .await?;

    // A publisher.
    for (room, celsius) in [("kitchen", 21.5), ("attic", 27.0)] {
        let reading = Reading {
            room: room.into(),
            celsius,
        };
        let channel = Channel::parse(&format!("sensors/{room}/temp"))?;
        sensor.publish_typed(channel, &reading).await?;
    }

    // The subscriber's side, and a call for each reading.
    for _ in 0..2 {
        match readings.recv().await {
            Some(Ok(reading)) => {
                let Reading { room, celsius } = reading.value;
                let channel = Channel::parse("convert/fahrenheit")?;
                let fahrenheit: f64 = sensor
                    .call_typed(channel, &celsius, Duration::from_secs(2))
                    .await?;
                println!("{room}: {celsius} °C = {fahrenheit} °F");
            }
            Some(Err(bad)) => eprintln!("skipped: {bad}"),
            None => break,
        }
    }
    Ok(())
}
