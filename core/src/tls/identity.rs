//! A peer's identity from its client certificate: the subject's common name (CN).
//!
//! Only the few DER structures on the way to the subject are read (certificate, to-be-signed
//! part, subject name); the certificate itself has already been verified by rustls.

/// The object identifier of the common name, `2.5.4.3`.
const COMMON_NAME_OID: &[u8] = &[0x55, 0x04, 0x03];

/// The subject common name of a DER certificate, if it has one that is a string.
pub fn subject_common_name(der: &[u8]) -> Option<String> {
    let (_, cert, _) = read_tlv(der)?;
    let (_, mut tbs, _) = read_tlv(cert)?;
    // version [0] (optional), serial, signature algorithm, issuer, validity, subject.
    let (tag, _, rest) = read_tlv(tbs)?;
    if tag == 0xA0 {
        tbs = rest;
    }
    for _ in 0..4 {
        tbs = read_tlv(tbs)?.2;
    }
    let (_, mut subject, _) = read_tlv(tbs)?;
    while !subject.is_empty() {
        let (_, mut rdn, rest) = read_tlv(subject)?;
        subject = rest;
        while !rdn.is_empty() {
            let (_, attribute, rest) = read_tlv(rdn)?;
            rdn = rest;
            let (_, oid, value) = read_tlv(attribute)?;
            if oid == COMMON_NAME_OID {
                let (_, text, _) = read_tlv(value)?;
                return String::from_utf8(text.to_vec()).ok();
            }
        }
    }
    None
}

/// One DER tag-length-value: the tag, the value, and what follows it.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |len, &b| (len << 8) | usize::from(b))
    };
    if rest.len() < len {
        return None;
    }
    let (value, after) = rest.split_at(len);
    Some((tag, value, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_common_name_is_read_not_the_issuers() {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "the issuing CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Acme");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "alice");
        let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
        assert_eq!(subject_common_name(cert.der()).as_deref(), Some("alice"));
    }

    #[test]
    fn no_common_name_and_garbage_give_none() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["x".to_owned()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(subject_common_name(cert.der()), None);
        assert_eq!(subject_common_name(&[0x30, 0x85, 1]), None);
        assert_eq!(subject_common_name(&[]), None);
    }
}
