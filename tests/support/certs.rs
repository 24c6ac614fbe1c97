//! Certificates made by the tests (rcgen): a CA, servers and clients it signs, written as PEM
//! files in a directory removed when the `Pki` is dropped.

use std::path::PathBuf;

use hubwire::tls::{ClientAuth, TlsConfig};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// A certificate and its key, as files.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// A CA and the files it signed.
pub struct Pki {
    pub dir: PathBuf,
    ca: Certificate,
    ca_key: KeyPair,
    next: std::cell::Cell<u32>,
}

impl Pki {
    /// A new CA named `name`, in a new directory.
    pub fn new(name: &str) -> Pki {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("hubwire-pki-{}-{n}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki {
            dir,
            ca,
            ca_key,
            next: std::cell::Cell::new(0),
        }
    }

    /// The CA certificate's file.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A server certificate for `names` (host names or IP addresses), valid now.
    pub fn server(&self, names: &[&str]) -> Issued {
        self.issue(names, "server", |_| {})
    }

    /// A server certificate for `names` that expired years ago.
    pub fn expired_server(&self, names: &[&str]) -> Issued {
        self.issue(names, "server", |params| {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        })
    }

    /// A client certificate whose subject common name is `name`.
    pub fn client(&self, name: &str) -> Issued {
        self.issue(&[], name, |_| {})
    }

    fn issue(
        &self,
        names: &[&str],
        cn: &str,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Issued {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        adjust(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let n = self.next.get();
        self.next.set(n + 1);
        let issued = Issued {
            cert_file: self.dir.join(format!("{cn}-{n}.pem")),
            key_file: self.dir.join(format!("{cn}-{n}.key")),
        };
        std::fs::write(&issued.cert_file, cert.pem()).unwrap();
        std::fs::write(&issued.key_file, key.serialize_pem()).unwrap();
        issued
    }

    /// The `tls` config block of a server presenting `server`, checking client certificates
    /// against this CA as `client_auth` says.
    pub fn server_config(&self, server: &Issued, client_auth: ClientAuth) -> TlsConfig {
        TlsConfig {
            cert_file: server.cert_file.clone(),
            key_file: server.key_file.clone(),
            ca_file: Some(self.ca_file()),
            client_auth,
            bridge_cert_file: None,
            bridge_key_file: None,
        }
    }

    /// A loopback config listening on `tls://127.0.0.1:0` only, presenting a certificate for
    /// `name`, asking for no client certificate.
    pub fn tls_only_config(&self, name: &str) -> hubwire::Config {
        let mut config = super::loopback_config();
        config.listen = vec!["tls://127.0.0.1:0".parse().unwrap()];
        config.tls = Some(self.server_config(&self.server(&[name]), ClientAuth::None));
        config
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
