//! Guards the work dispatcher's allow-list, the app's deny-by-default rule: without an explicit
//! list it refuses to listen beyond loopback, and a peer its list leaves out is refused with
//! `denied` before it can enqueue or take work, while the peers on the list are served.

mod support;

use hubwire::protocol::ErrorCode;
use hubwire::work::{
    start_dispatcher, DispatcherOptions, Producer, WorkClientError, WorkQueue, WorkSetupError,
};
use hubwire::AllowList;
use support::process::TempDir;

fn list(entries: &[&str]) -> AllowList {
    AllowList::try_from(entries.iter().map(|e| e.to_string()).collect::<Vec<_>>()).unwrap()
}

#[actix::test]
async fn a_dispatcher_without_an_allow_list_listens_on_loopback_only() {
    let open = DispatcherOptions::new("tcp://0.0.0.0:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"));
    match start_dispatcher(open, None) {
        Err(e @ WorkSetupError::OpenWithoutAllowList(_)) => {
            assert!(e.to_string().contains("allow"), "{e}");
        }
        other => panic!("expected a refusal to listen on 0.0.0.0, got {other:?}"),
    }
    // Loopback needs no list; an explicit list opens other addresses.
    let local = DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"));
    start_dispatcher(local, None).unwrap();
    let listed = DispatcherOptions::new("tcp://0.0.0.0:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"))
        .allow(list(&["127.0.0.1"]));
    let handle = start_dispatcher(listed, None).unwrap();
    let port = handle.address.socket_addr().unwrap().port();
    let producer = Producer::connect(&format!("tcp://127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    producer.enqueue("jobs", &b"listed"[..]).await.unwrap();
}

#[actix::test]
async fn a_peer_the_list_leaves_out_is_denied_and_the_listed_are_served() {
    // Loopback is not on this list, so the test's own connections are the outsiders.
    let options = DispatcherOptions::new("tcp://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"))
        .allow(list(&["10.0.0.0/8"]));
    let handle = start_dispatcher(options, None).unwrap();
    let refused = match Producer::connect(&handle.address).await {
        Ok(producer) => producer.enqueue("jobs", &b"x"[..]).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match refused {
        Err(WorkClientError::Refused {
            code: ErrorCode::Denied,
            message,
        }) => assert!(message.contains("allow-list"), "{message}"),
        other => panic!("expected a denied refusal, got {other:?}"),
    }

    // On a Unix socket the peer's uid is checked: this process's own is on the default list.
    let dir = TempDir::new("work-allow");
    let path = dir.path("work.sock");
    let unix = DispatcherOptions::new(format!("unix://{}", path.display()).parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"));
    let handle = start_dispatcher(unix, None).unwrap();
    let producer = Producer::connect(&handle.address).await.unwrap();
    producer.enqueue("jobs", &b"own uid"[..]).await.unwrap();
}
