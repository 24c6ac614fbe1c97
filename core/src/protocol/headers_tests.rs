//! The header maps peers send, read by each of the three readers (the call codec, the pub/sub
//! reader and serde): any key order, repeated keys, and maps as large as a frame allows.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{Envelope, Headers, Publish, Request, DEADLINE_MS};

/// `map` (MessagePack) read as the headers of a REQUEST, of a PUBLISH and by serde.
fn read_by_each(map: &[u8]) -> [Headers; 3] {
    let request = [&[0x94, 0x01, 0xa1, b'r'][..], map, &[0xc4, 0x00]].concat();
    let publish = [&[0x95, 0xa1, b'a', 0x00, 0xc0][..], map, &[0xc4, 0x00]].concat();
    [
        Request::read_payload(&Bytes::from(request))
            .unwrap()
            .headers,
        Publish::read_payload(&Bytes::from(publish))
            .unwrap()
            .headers,
        rmp_serde::from_slice(map).unwrap(),
    ]
}

fn str_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![0xdf];
    out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
    for (key, value) in pairs {
        for text in [key, value] {
            out.push(0xd9);
            out.push(text.len() as u8);
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

#[test]
fn keys_in_any_order_come_out_sorted_with_a_repeated_key_last_value_kept() {
    let map = str_map(&[
        ("x-b", "1"),
        (DEADLINE_MS, "10"),
        ("x-a", "2"),
        ("x-b", "3"),
        (DEADLINE_MS, "20"),
        ("x-a", "4"),
        ("x-c", "5"),
        ("x-b", "6"),
    ]);
    for headers in read_by_each(&map) {
        let pairs: Vec<_> = headers.iter().collect();
        assert_eq!(
            pairs,
            [
                (DEADLINE_MS, "20"),
                ("x-a", "4"),
                ("x-b", "6"),
                ("x-c", "5")
            ]
        );
        assert_eq!(headers.deadline(), Some(Duration::from_millis(20)));
    }
}

/// Each key used to be inserted in its sorted place, O(n) per key: a 1 MiB map of 200,000 keys
/// in reverse order kept a reader busy for 30 s in a release build (found while writing the
/// `headers` fuzz target, whose inputs are too small to show it). Sorted once, it takes well
/// under a second.
#[test]
fn a_frame_full_of_keys_in_reverse_order_is_read_in_n_log_n() {
    let printable = || (0x21u8..0x7f).map(char::from);
    let mut keys: Vec<String> = printable()
        .flat_map(|a| printable().flat_map(move |b| printable().map(move |c| [a, b, c])))
        .map(String::from_iter)
        .take(200_000)
        .collect();
    keys.reverse();
    let mut map = vec![0xdf];
    map.extend_from_slice(&(keys.len() as u32).to_be_bytes());
    for key in &keys {
        map.push(0xa3);
        map.extend_from_slice(key.as_bytes());
        map.push(0xa0);
    }
    assert!(map.len() <= crate::config::DEFAULT_MAX_FRAME);
    let started = Instant::now();
    for headers in read_by_each(&map) {
        assert_eq!(headers.len(), keys.len());
    }
    // A generous bound for a loaded machine and a debug build; quadratic reading took minutes.
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "three readers took {took:?}"
    );
}
