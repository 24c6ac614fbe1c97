//! The NATS client protocol a hub will read: operations, subjects and header blocks.
//!
//! Input: the bytes a client sends, fed in two pieces (the first byte says where to cut). A
//! plain PUB read in place must be what the full reading gives.
#![no_main]

use bytes::BytesMut;
use hubwire_core::nats::{
    channel_to_subject, pattern_to_subject, read_headers, subject_to_channel, subject_to_pattern,
    write_headers, ClientOp, ClientParser,
};
use libfuzzer_sys::fuzz_target;

const PARSER: ClientParser = ClientParser {
    max_control_line: 256,
    max_payload: 1024,
};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut).min(stream.len());
    let mut buf = BytesMut::new();
    for piece in [&stream[..cut], &stream[cut..]] {
        buf.extend_from_slice(piece);
        loop {
            // The in-place reading of a plain PUB takes what the full reading takes, or nothing.
            let mut in_place = buf.clone();
            let (mut subject, mut reply) = (String::new(), None);
            let read = PARSER.next_plain_pub(&mut in_place, &mut subject, &mut reply);
            match PARSER.next(&mut buf) {
                Ok(Some(op)) => {
                    if let Some(read) = read {
                        let payload = read.payload;
                        let headers = None;
                        assert_eq!(
                            op,
                            ClientOp::Pub {
                                subject,
                                reply,
                                headers,
                                payload
                            }
                        );
                        assert_eq!(in_place, buf);
                    }
                    check(op)
                }
                Ok(None) => {
                    assert!(read.is_none());
                    break;
                }
                Err(e) => {
                    assert!(read.is_none());
                    assert!(!e.nats_text().is_empty());
                    return;
                }
            }
        }
        // What waits is at most a control line and a payload.
        assert!(buf.len() <= PARSER.max_control_line + 2 + PARSER.max_payload + 2 + 64);
    }
});

fn check(op: ClientOp) {
    match op {
        ClientOp::Pub {
            subject,
            headers,
            payload,
            ..
        } => {
            let header_len = headers.as_ref().map_or(0, |h| h.len());
            assert!(header_len + payload.len() <= PARSER.max_payload);
            if let Ok(channel) = subject_to_channel(&subject) {
                assert_eq!(
                    channel_to_subject(&channel).as_deref(),
                    Some(subject.as_str())
                );
            }
            if let Some(Ok(block)) = headers.map(|h| read_headers(&h)) {
                let mut out = BytesMut::new();
                let status = block.status.map(|s| (s, ""));
                write_headers(&mut out, status, &block.headers);
                let again = read_headers(&out).expect("written headers read back");
                assert_eq!(again.headers, block.headers);
            }
        }
        ClientOp::Sub { subject, .. } => {
            if let Ok(pattern) = subject_to_pattern(&subject) {
                let written = pattern_to_subject(&pattern).expect("a NATS pattern has a form");
                assert_eq!(subject_to_pattern(&written).unwrap(), pattern);
            }
        }
        _ => {}
    }
}
