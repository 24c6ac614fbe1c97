//! The writer against rmp-serde (which wrote every envelope before, and whose bytes the vectors
//! check), its sizes against what it writes, and the reader's rules one by one: each test here
//! fails if its rule is dropped.

use bytes::BytesMut;
use proptest::prelude::*;

use super::super::Headers;
use super::*;

/// `n` in every MessagePack integer form that holds it, smallest first.
fn int_forms(n: u64) -> Vec<Vec<u8>> {
    let mut forms = Vec::new();
    if n <= 0x7f {
        forms.push(vec![n as u8]);
    }
    let be = n.to_be_bytes();
    for (unsigned, signed, width) in [
        (0xcc, 0xd0, 1),
        (0xcd, 0xd1, 2),
        (0xce, 0xd2, 4),
        (0xcf, 0xd3, 8),
    ] {
        let fits = |bits: u32| bits >= 64 || n >> bits == 0;
        if fits(8 * width as u32) {
            forms.push([&[unsigned][..], &be[8 - width..]].concat());
        }
        if fits(8 * width as u32 - 1) {
            forms.push([&[signed][..], &be[8 - width..]].concat());
        }
    }
    forms
}

fn written(write: impl FnOnce(&mut BytesMut) -> Result<(), ProtocolError>) -> Vec<u8> {
    let mut out = BytesMut::new();
    write(&mut out).unwrap();
    out.to_vec()
}

proptest! {
    #[test]
    fn integers_are_written_as_rmp_serde_writes_them_and_read_in_any_form(
        n in prop_oneof![0u64..300, 60_000u64..70_000, any::<u64>(), Just(u64::MAX)]) {
        let bytes = written(|out| {
            put_uint(out, n);
            Ok(())
        });
        prop_assert_eq!(&bytes, &rmp_serde::to_vec(&n).unwrap());
        prop_assert_eq!(bytes.len(), uint_len(n));
        prop_assert_eq!(&bytes, &int_forms(n)[0]);
        for form in int_forms(n) {
            let mut rd = Reader::new(&form);
            prop_assert_eq!(rd.uint(), Ok(n), "{:x?}", form);
            prop_assert_eq!(rd.remaining(), 0);
        }
    }

    #[test]
    fn text_and_bytes_are_written_as_rmp_serde_writes_them(
        len in prop_oneof![0usize..40, 250usize..260, 65_530usize..65_540, Just(70_000usize)]) {
        let text = "x".repeat(len);
        let bytes = written(|out| put_str(out, &text));
        prop_assert_eq!(&bytes, &rmp_serde::to_vec(&text).unwrap());
        prop_assert_eq!(bytes.len(), str_len(len));
        prop_assert_eq!(Reader::new(&bytes).text(Form::Str), Ok(text.as_str()));

        let body = vec![7u8; len];
        let bytes = written(|out| put_bin(out, &body));
        prop_assert_eq!(&bytes, &rmp_serde::to_vec(serde_bytes::Bytes::new(&body)).unwrap());
        prop_assert_eq!(bytes.len(), bin_header_len(len) + len);
        prop_assert_eq!(Reader::new(&bytes).bytes(Form::Bin), Ok(&body[..]));

        let list = vec![0u8; len];
        let bytes = written(|out| {
            put_array_len(out, len)?;
            out.extend_from_slice(&list);
            Ok(())
        });
        prop_assert_eq!(&bytes, &rmp_serde::to_vec(&list).unwrap());
        prop_assert_eq!(Reader::new(&bytes).array_len(), Ok(len));
    }

    /// Whatever the bytes, the reader answers with a value or a typed error.
    #[test]
    fn any_bytes_read_as_values_or_errors(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut rd = Reader::new(&bytes);
        let _ = rd.headers(Form::StrOrBin);
        let mut rd = Reader::new(&bytes);
        let _ = rd.array_len().map(|n| assert!(n <= bytes.len()));
        let mut rd = Reader::new(&bytes);
        let _ = rd.text(Form::Str).map(|t| assert!(t.len() <= bytes.len()));
    }
}

#[test]
fn an_array_must_have_exactly_the_fields() {
    assert_eq!(Reader::new(&[0x92]).array_of(2), Ok(()));
    assert_eq!(
        Reader::new(&[0x93]).array_of(2),
        Err(WireError::ArrayLength {
            expected: 2,
            got: 3
        })
    );
    assert_eq!(
        Reader::new(&[0xdc, 0, 1]).array_of(2),
        Err(WireError::ArrayLength {
            expected: 2,
            got: 1
        })
    );
    // A map where the array should be (the old serde codec took envelopes as maps).
    assert_eq!(
        Reader::new(&[0x82]).array_of(2),
        Err(WireError::WrongType {
            expected: "an array",
            marker: 0x82
        })
    );
}

#[test]
fn negative_and_out_of_range_integers_are_refused() {
    for negative in [
        &[0xff][..],
        &[0xd0, 0xff],
        &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
    ] {
        assert_eq!(Reader::new(negative).uint(), Err(WireError::Negative));
    }
    assert_eq!(Reader::new(&[0xcc, 0xff]).u8(), Ok(255));
    assert_eq!(
        Reader::new(&[0xcd, 1, 0]).u8(),
        Err(WireError::OutOfRange {
            value: 256,
            max: 255
        })
    );
    assert_eq!(
        Reader::new(&[0xce, 0, 1, 0, 0]).u16(),
        Err(WireError::OutOfRange {
            value: 65_536,
            max: 65_535
        })
    );
    assert!(matches!(
        Reader::new(&[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]).u32(),
        Err(WireError::OutOfRange { .. })
    ));
    assert!(matches!(
        Reader::new(&[0xc0]).uint(),
        Err(WireError::WrongType { marker: 0xc0, .. })
    ));
}

#[test]
fn text_must_be_utf8() {
    for form in [Form::Str, Form::StrOrBin] {
        assert!(matches!(
            Reader::new(&[0xa2, 0xc3, 0x28]).text(form),
            Err(WireError::Utf8(_))
        ));
    }
    assert!(matches!(
        Reader::new(&[0xc4, 1, 0xff]).text(Form::StrOrBin),
        Err(WireError::Utf8(_))
    ));
    // In a header key and a header value.
    for map in [&[0x81, 0xa1, 0xff, 0xa0][..], &[0x81, 0xa0, 0xa1, 0xff]] {
        for form in [Form::Str, Form::StrOrBin] {
            assert!(matches!(
                Reader::new(map).headers(form),
                Err(WireError::Utf8(_))
            ));
        }
    }
    assert_eq!(Reader::new(&[0xa2, 0xc3, 0xa9]).text(Form::Str), Ok("é"));
}

#[test]
fn each_form_takes_only_its_types() {
    let str_x = [0xa1, b'x'];
    let bin_x = [0xc4, 1, b'x'];
    assert_eq!(Reader::new(&str_x).bytes(Form::Str), Ok(&b"x"[..]));
    assert_eq!(Reader::new(&bin_x).bytes(Form::Bin), Ok(&b"x"[..]));
    assert_eq!(Reader::new(&str_x).bytes(Form::StrOrBin), Ok(&b"x"[..]));
    assert_eq!(Reader::new(&bin_x).bytes(Form::StrOrBin), Ok(&b"x"[..]));
    assert!(matches!(
        Reader::new(&bin_x).bytes(Form::Str),
        Err(WireError::WrongType { marker: 0xc4, .. })
    ));
    assert!(matches!(
        Reader::new(&str_x).bytes(Form::Bin),
        Err(WireError::WrongType { marker: 0xa1, .. })
    ));
    // An array of small integers is not a bin (rmp-serde took one for a nonce).
    assert!(matches!(
        Reader::new(&[0x91, 0x01]).bytes(Form::Bin),
        Err(WireError::WrongType { marker: 0x91, .. })
    ));
}

#[test]
fn declared_lengths_are_checked_against_the_payload_first() {
    // A str and a bin of 4 GiB in a few bytes.
    for bytes in [
        &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'][..],
        &[0xc6, 0xff, 0xff, 0xff, 0xff, 0],
    ] {
        assert_eq!(
            Reader::new(bytes).bytes(Form::StrOrBin),
            Err(WireError::LengthOverPayload {
                declared: 0xffff_ffff,
                remaining: 1
            })
        );
    }
    // Counts an element (a byte) or an entry (two) at a time could never fill.
    assert_eq!(
        Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2]).array_len(),
        Err(WireError::LengthOverPayload {
            declared: 0xffff_ffff,
            remaining: 2
        })
    );
    assert_eq!(Reader::new(&[0x92, 1, 2]).array_len(), Ok(2));
    assert_eq!(
        Reader::new(&[0x82, 0xa0, 0xa0, 0xa0]).headers(Form::Str),
        Err(WireError::LengthOverPayload {
            declared: 2,
            remaining: 3
        })
    );
}

#[test]
fn a_value_cut_short_is_truncated() {
    for cut in [&[][..], &[0xcd, 1], &[0xdc, 0], &[0xd9]] {
        let mut rd = Reader::new(cut);
        let err = match cut.first() {
            Some(0xdc) => rd.array_len().unwrap_err(),
            Some(0xd9) => rd.text(Form::Str).unwrap_err(),
            _ => rd.uint().unwrap_err(),
        };
        assert_eq!(err, WireError::Truncated, "{cut:x?}");
    }
}

#[test]
fn bytes_after_the_value_are_refused() {
    let mut rd = Reader::new(&[0x01, 0x02]);
    assert_eq!(rd.uint(), Ok(1));
    assert!(matches!(
        rd.finish(4),
        Err(ProtocolError::TrailingBytes { kind: 4, count: 1 })
    ));
}

#[test]
fn the_size_of_headers_is_what_is_written() {
    let mut headers = Headers::new();
    for i in 0..20 {
        headers.insert(format!("k{i}"), "v".repeat(i * 20));
    }
    let bytes = written(|out| put_headers(out, &headers));
    assert_eq!(bytes.len(), headers_len(&headers));
    assert_eq!(bytes, rmp_serde::to_vec(&headers).unwrap());
    assert_eq!(Reader::new(&bytes).headers(Form::Str), Ok(headers));
}
