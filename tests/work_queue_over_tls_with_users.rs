//! Guards the work dispatcher's listener like the app's own: over `tls://` with a certificate
//! the test makes, producers and workers authenticate with a password, a token or a client
//! certificate; one without credentials, with a wrong password, or dialling in plain TCP is
//! refused, and the dispatcher keeps serving the others.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hubwire::auth::{
    hash_password_with, token_sha256, Credentials, ThrottleLimits, UserSpec, Users,
};
use hubwire::prelude::*;
use hubwire::protocol::ErrorCode;
use hubwire::tls::{ClientAuth, ServerTls, TlsClient};
use hubwire::work::{
    start_dispatcher, DispatcherHandle, DispatcherOptions, JobOutcome, LinkOptions, Producer,
    WorkClientError, WorkQueue, Worker, WorkerOptions,
};
use support::certs::Pki;
use support::recv_or_fail;

const TOKEN: &str = "a-long-random-token-for-the-worker";

fn users() -> Users {
    let specs = [
        (
            "producer".to_owned(),
            UserSpec {
                // Cheap argon2 parameters: the test checks the path, not the cost.
                password_hash: Some(hash_password_with("right horse", 64, 1)),
                ..UserSpec::default()
            },
        ),
        (
            "worker".to_owned(),
            UserSpec {
                token_sha256: Some(token_sha256(TOKEN)),
                ..UserSpec::default()
            },
        ),
        (
            "gpu-1".to_owned(),
            UserSpec {
                tls_identity: Some("gpu-1".into()),
                ..UserSpec::default()
            },
        ),
    ];
    Users::from_specs(specs).unwrap()
}

/// A `tls://` dispatcher with users, its certificate for `localhost`; its address by name.
fn secured_dispatcher(pki: &Pki) -> (DispatcherHandle, Address) {
    let config = pki.server_config(&pki.server(&["localhost"]), ClientAuth::Optional);
    let tls = Arc::new(ServerTls::load(&config).unwrap());
    let options = DispatcherOptions::new("tls://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"))
        .tls(tls)
        .users(users(), ThrottleLimits::default());
    let handle = start_dispatcher(options, None).unwrap();
    let port = handle.address.socket_addr().unwrap().port();
    let by_name = format!("tls://localhost:{port}").parse().unwrap();
    (handle, by_name)
}

fn trusting(pki: &Pki) -> TlsClient {
    TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()
}

fn denied(result: Result<impl std::fmt::Debug, WorkClientError>) -> String {
    match result {
        Err(WorkClientError::Refused {
            code: ErrorCode::Denied,
            message,
        }) => message,
        other => panic!("expected a denied refusal, got {other:?}"),
    }
}

#[actix::test]
async fn producers_and_workers_authenticate_over_tls_and_the_work_flows() {
    let pki = Pki::new("work-ca");
    let (_dispatcher, address) = secured_dispatcher(&pki);
    let producer = Producer::connect_with(
        &address,
        &LinkOptions {
            tls: Some(trusting(&pki)),
            credentials: Some(Credentials::password("producer", "right horse")),
        },
    )
    .await
    .expect("a producer with its password connects");
    let worker_options = WorkerOptions::new(["jobs"])
        .tls(trusting(&pki))
        .credentials(Credentials::token(TOKEN));
    let worker = Worker::connect(&address, worker_options)
        .await
        .expect("a worker with its token connects");
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(worker.run(move |job| {
        let _ = done_tx.send(job.body.clone());
        std::future::ready(JobOutcome::Done)
    }));
    producer.enqueue("jobs", &b"sealed"[..]).await.unwrap();
    let body = recv_or_fail("the item at the worker", done_rx.recv()).await;
    assert_eq!(body.as_deref(), Some(&b"sealed"[..]));
}

#[actix::test]
async fn a_client_certificate_naming_a_user_needs_no_password() {
    let pki = Pki::new("work-ca-mtls");
    let (_dispatcher, address) = secured_dispatcher(&pki);
    let me = pki.client("gpu-1");
    let tls = TlsClient::builder()
        .ca_file(pki.ca_file())
        .client_cert(&me.cert_file, &me.key_file)
        .build()
        .unwrap();
    let options = WorkerOptions::new(["jobs"]).tls(tls);
    let worker = Worker::connect(&address, options).await;
    assert!(worker.is_ok(), "{worker:?}");
}

#[actix::test]
async fn missing_or_wrong_credentials_and_plain_tcp_are_refused() {
    let pki = Pki::new("work-ca-refusals");
    let (dispatcher, address) = secured_dispatcher(&pki);
    let tls_only = LinkOptions {
        tls: Some(trusting(&pki)),
        credentials: None,
    };
    // As with the app's listeners, the CONN is answered; what follows it is refused.
    let anonymous = Producer::connect_with(&address, &tls_only).await.unwrap();
    let message = denied(anonymous.enqueue("jobs", &b"x"[..]).await);
    assert!(message.contains("authentication required"), "{message}");
    let options = WorkerOptions::new(["jobs"]).tls(trusting(&pki));
    denied(Worker::connect(&address, options).await);

    let wrong = LinkOptions {
        tls: Some(trusting(&pki)),
        credentials: Some(Credentials::password("producer", "wrong horse")),
    };
    denied(Producer::connect_with(&address, &wrong).await);

    let options = WorkerOptions::new(["jobs"])
        .tls(trusting(&pki))
        .credentials(Credentials::token("not-the-token"));
    denied(Worker::connect(&address, options).await);

    // A plain client on the TLS port fails to connect, and says nothing was served.
    let port = dispatcher.address.socket_addr().unwrap().port();
    let plain: Address = format!("tcp://127.0.0.1:{port}").parse().unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), Producer::connect(&plain)).await;
    assert!(
        matches!(outcome, Ok(Err(_))),
        "a plain producer on a tls:// listener is not served: {outcome:?}"
    );

    // The dispatcher still serves whoever authenticates.
    let good = LinkOptions {
        tls: Some(trusting(&pki)),
        credentials: Some(Credentials::password("producer", "right horse")),
    };
    let producer = Producer::connect_with(&address, &good).await.unwrap();
    assert_eq!(producer.enqueue("jobs", &b"x"[..]).await.unwrap(), 1);
}

#[actix::test]
async fn a_tls_listener_without_tls_settings_does_not_start() {
    let options = DispatcherOptions::new("tls://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"));
    let error = start_dispatcher(options, None).expect_err("no certificate, no listener");
    assert!(error.to_string().contains("TLS settings"), "{error}");
}
