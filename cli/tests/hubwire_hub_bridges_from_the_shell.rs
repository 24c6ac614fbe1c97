//! Guards `hubwire hub --bridge URL` with the secret from `--secret` or the environment: three
//! hub processes in a chain carry a publish and a call end to end; the middle one killed with
//! SIGKILL and started again, both recover with no client action; `hubwire stats` lists the
//! bridge.

#[path = "../../tests/support/mod.rs"]
mod support;

use hubwire::pubsub::Pattern;
use support::bridge::{call_until_answered, ports, probe, secret};
use support::hub::ready_spoke;
use support::process::{AppProcess, TempDir};

fn hub_process(lock: &TempDir, instance: &str, port: u16, args: &[&str]) -> AppProcess {
    let listen = format!("tcp://127.0.0.1:{port}");
    let lock = lock.0.display().to_string();
    let mut all = vec![
        "hub",
        "--listen",
        &listen,
        "--lock-dir",
        &lock,
        "--instance",
        instance,
    ];
    all.extend_from_slice(args);
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_hubwire"));
    let secret = secret();
    AppProcess::start_program(path, &all, &[("HUBWIRE_BRIDGE_SECRET", &secret)], 1)
}

#[actix::test]
async fn a_chain_of_hub_processes_survives_its_middle_being_killed() {
    let lock = TempDir::new("bridges-cli");
    let p = ports(3);
    let middle = format!("tcp://127.0.0.1:{}", p[1]);
    let mut b = hub_process(&lock, "b", p[1], &[]);
    let a = hub_process(&lock, "a", p[0], &["--bridge", &middle]);
    // The secret by flag as well: the flags' layer wins over the environment.
    let secret = secret();
    let c = hub_process(
        &lock,
        "c",
        p[2],
        &["--bridge", &middle, "--secret", &secret],
    );
    let near = ready_spoke(a.address("tcp"), "near").await;
    let far = ready_spoke(c.address("tcp"), "far").await;
    let (_, mut news) = far
        .subscribe(Pattern::parse("news/**").unwrap())
        .await
        .unwrap();
    far.provide(Pattern::parse("svc/echo").unwrap(), |request| async move {
        Ok(request.body)
    })
    .await
    .unwrap();
    probe(&near, "news/before", &mut news).await;
    assert_eq!(&call_until_answered(&near, "svc/echo").await[..], b"hi");

    b.signal(libc::SIGKILL);
    b.wait();
    b = hub_process(&lock, "b", p[1], &[]);
    probe(&near, "news/after", &mut news).await;
    assert_eq!(&call_until_answered(&near, "svc/echo").await[..], b"hi");

    let stats = std::process::Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(["stats", "--json", &a.address("tcp").to_string()])
        .output()
        .expect("hubwire stats runs");
    let text = String::from_utf8_lossy(&stats.stdout);
    assert!(stats.status.success(), "{stats:?}");
    for figure in [
        "bridge.up",
        "bridge.rtt_us",
        "bridge.messages_out",
        "bridge.reconnects",
    ] {
        assert!(text.contains(figure), "{figure} in {text}");
    }
    assert!(
        text.contains(&middle),
        "the bridge is named by its URL: {text}"
    );
    drop(b);
}
