use super::*;

fn parsed(bytes: &[u8]) -> Parsed {
    parse(bytes).unwrap().expect("whole")
}

#[test]
fn reads_every_operation_a_server_sends() {
    assert_eq!(parsed(b"PING\r\n").op, Op::Ping);
    assert_eq!(parsed(b"PONG\r\n").op, Op::Pong);
    assert_eq!(parsed(b"+OK\r\n").op, Op::Ok);
    assert_eq!(parsed(b"INFO {\"x\":1}\r\n").op, Op::Info);
    let err = parsed(b"-ERR 'Slow Consumer'\r\n");
    assert_eq!(err.op, Op::Err("'Slow Consumer'".into()));
    assert_eq!(err.len, 22);
}

#[test]
fn reads_msg_and_hmsg_with_and_without_reply() {
    let bytes = b"MSG a.b 7 5\r\nhello\r\nPING\r\n";
    let msg = parsed(bytes);
    assert_eq!(
        msg.op,
        Op::Msg {
            sid: 7,
            reply: None,
            payload: 13..18
        }
    );
    assert_eq!(&bytes[13..18], b"hello");
    assert_eq!(msg.len, 20);
    let bytes = b"MSG a.b 12 _INBOX.x 2\r\nhi\r\n";
    let Op::Msg {
        sid,
        reply,
        payload,
    } = parsed(bytes).op
    else {
        panic!("a MSG");
    };
    assert_eq!(
        (sid, &bytes[reply.unwrap()], &bytes[payload]),
        (12, &b"_INBOX.x"[..], &b"hi"[..])
    );
    let bytes = b"HMSG a 1 r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
    let Op::Msg {
        sid,
        reply,
        payload,
    } = parsed(bytes).op
    else {
        panic!("an HMSG");
    };
    assert_eq!((sid, &bytes[reply.unwrap()]), (1, &b"r"[..]));
    assert_eq!(&bytes[payload], b"NATS/1.0\r\n\r\nhi");
}

#[test]
fn waits_for_the_rest_of_an_operation() {
    for cut in 0..b"MSG a.b 7 5\r\nhello\r\n".len() {
        assert_eq!(
            parse(&b"MSG a.b 7 5\r\nhello\r\n"[..cut]).unwrap(),
            None,
            "cut at {cut}"
        );
    }
}

#[test]
fn refuses_what_no_server_sends() {
    for bytes in [
        &b"HELLO\r\n"[..],
        b"MSG a.b 5\r\n",
        b"MSG a.b x 5\r\nhello\r\n",
        b"MSG a.b 1 5\r\nhelloXX",
        b"MSG a b c d e f g 5\r\n",
        b"HMSG a 1 9 5\r\nhello\r\n",
        &[b'A'; MAX_LINE][..],
    ] {
        assert!(
            parse(bytes).is_err(),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

proptest::proptest! {
    /// A stream of operations read from any split into chunks gives the same operations as
    /// read whole.
    #[test]
    fn chunking_never_changes_what_is_read(
        ops in proptest::collection::vec((0u8..4, "[a-z]{1,8}", proptest::option::of("[a-z]{1,8}"), proptest::collection::vec(proptest::num::u8::ANY, 0..40), 1u64..1000), 1..20),
        cuts in proptest::collection::vec(1usize..64, 1..40),
    ) {
        let mut stream = Vec::new();
        for (kind, subject, reply, payload, sid) in &ops {
            match kind {
                0 => stream.extend_from_slice(b"PING\r\n"),
                1 => stream.extend_from_slice(b"PONG\r\n"),
                _ => {
                    let reply = reply.as_ref().map_or(String::new(), |r| format!("{r} "));
                    stream.extend_from_slice(format!("MSG {subject} {sid} {reply}{}\r\n", payload.len()).as_bytes());
                    stream.extend_from_slice(payload);
                    stream.extend_from_slice(b"\r\n");
                }
            }
        }
        let whole = read_all(&stream, &[stream.len()]);
        proptest::prop_assert_eq!(whole.len(), ops.len());
        proptest::prop_assert_eq!(read_all(&stream, &cuts), whole);
    }
}

/// The operations of `stream` fed in chunks of `cuts` (repeated), each with its bytes.
fn read_all(stream: &[u8], cuts: &[usize]) -> Vec<(Op, Vec<u8>)> {
    let (mut buf, mut fed, mut out) = (Vec::new(), 0, Vec::new());
    for &cut in cuts.iter().cycle() {
        let end = (fed + cut).min(stream.len());
        buf.extend_from_slice(&stream[fed..end]);
        fed = end;
        while let Some(parsed) = parse(&buf).unwrap() {
            let op = match parsed.op {
                Op::Msg {
                    sid,
                    reply,
                    payload,
                } => {
                    let payload = buf[payload].to_vec();
                    let reply = reply.map(|r| buf[r].to_vec());
                    (
                        Op::Msg {
                            sid,
                            reply: None,
                            payload: 0..0,
                        },
                        [reply.unwrap_or_default(), payload].concat(),
                    )
                }
                op => (op, Vec::new()),
            };
            out.push(op);
            buf.drain(..parsed.len);
        }
        if fed == stream.len() {
            return out;
        }
    }
    out
}

/// A nats-server on a free loopback port, killed when dropped.
struct NatsServer {
    child: std::process::Child,
    url: String,
}

impl NatsServer {
    /// Starts Debian's `nats-server` (`.ci/setup` installs it) and waits until it accepts.
    async fn start() -> NatsServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (installed by .ci/setup)");
        let server = NatsServer {
            child,
            url: format!("nats://127.0.0.1:{port}"),
        };
        for _ in 0..100 {
            if LeanNats::connect(&server.url).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nats-server did not start at {}", server.url);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn brief() -> crate::bench::side_by_side::Timing {
    crate::bench::side_by_side::Timing {
        warmup: Duration::from_millis(50),
        duration: Duration::from_millis(300),
    }
}

/// Every shape against `url`: each subscriber gets every publish, none counted twice, none
/// lost; every call is answered.
async fn every_row_counts_right(url: &str) {
    use crate::bench::lean_nats_load::{pubsub, rpc};
    use crate::bench::pubsub::SHAPES;
    for shape in SHAPES {
        let run = pubsub(
            tokio::runtime::Handle::current(),
            url.to_owned(),
            shape,
            16,
            brief(),
        )
        .await
        .unwrap();
        assert!(run.published > 0, "{shape:?}: {run:?}");
        assert_eq!(
            run.received,
            run.published * shape.subscribers as u64,
            "{shape:?}: {run:?}"
        );
        assert!(run.received_in_window > 0, "{shape:?}: {run:?}");
        assert_eq!(run.slow_consumers, 0, "{shape:?}: {run:?}");
    }
    for callers in [1, 4] {
        let report = rpc(url.to_owned(), callers, 128, brief()).await.unwrap();
        assert!(report.completed > 0, "{callers}: {report:?}");
        assert_eq!(report.error_total(), 0, "{callers}: {report:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lean_client_counts_exactly_on_the_hubs_nats_listener() {
    let (server, url) = crate::bench::pubsub::start_nats_hub().unwrap();
    every_row_counts_right(&url).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lean_client_counts_exactly_on_a_nats_server() {
    let server = NatsServer::start().await;
    every_row_counts_right(&server.url).await;
}

#[tokio::test]
async fn the_lean_client_dials_nats_urls_only_and_says_so() {
    let Err(e) = LeanNats::connect("tls://127.0.0.1:4222").await else {
        panic!("dialled a tls:// URL");
    };
    assert!(e.to_string().contains("nats://HOST:PORT only"), "{e}");
}
