//! What a bench puts on the wire, and what that costs: the `--compression` and `--payload`
//! flags, `--tls DIR` certificates made on the spot, and the TCP bytes that cross the server's
//! connections (both directions, as `ss` reports them).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use hubwire_core::compression::Algorithm;
use hubwire_core::config::{ClientAuth, TlsConfig};

use super::stats::Window;
use super::Failure;

/// Compression a bench asks for (`none`: the default, plain connections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CompressionChoice {
    /// Plain connections.
    #[default]
    None,
    /// zstd, on the server and every client.
    Zstd,
    /// gzip, on the server and every client.
    Gzip,
}

impl CompressionChoice {
    /// The algorithms the server allows and the clients offer.
    pub fn algorithms(self) -> Vec<Algorithm> {
        match self {
            CompressionChoice::None => Vec::new(),
            CompressionChoice::Zstd => vec![Algorithm::Zstd],
            CompressionChoice::Gzip => vec![Algorithm::Gzip],
        }
    }
}

/// Different bodies a bench sends in turn for `text` and `random`: 4096 bodies of 1 KiB are
/// 4 MiB, more than zstd's 1 MiB window, so no body finds its last copy in the history.
pub const DISTINCT_BODIES: usize = 4096;

/// What the bodies hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Payload {
    /// The alphabet over and over (the benches' usual body): compresses to almost nothing.
    #[default]
    Letters,
    /// JSON-like records that differ in a counter and a reading: compressible like real data.
    Text,
    /// Random letters and digits: 6 bits of entropy a byte, so at best 75% of its size.
    Random,
}

/// `--compression` and `--payload`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WireArgs {
    /// Compression of every connection the bench makes (the in-process server allows it too).
    #[arg(long, value_enum, default_value_t = CompressionChoice::None)]
    pub compression: CompressionChoice,
    /// What request and message bodies hold.
    #[arg(long, value_enum, default_value_t = Payload::Letters)]
    pub payload: Payload,
}

/// `size` ASCII characters of `payload`; `seed` varies the text from one body to the next.
pub fn text(payload: Payload, size: usize, seed: u64) -> String {
    let mut out = String::with_capacity(size + 64);
    match payload {
        Payload::Letters => out.extend((0..size).map(|i| char::from(b'a' + (i % 26) as u8))),
        Payload::Text => {
            let mut n = seed;
            while out.len() < size {
                out.push_str(&format!(
                    "{{\"sensor\":\"kitchen/temperature\",\"seq\":{n},\"value\":{}.{},\"unit\":\"celsius\"}},",
                    18 + n % 7,
                    n % 10
                ));
                n += 1;
            }
            out.truncate(size);
        }
        Payload::Random => {
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            out.extend((0..size).map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(ALPHABET[(x % 64) as usize])
            }));
        }
    }
    out
}

/// Bodies of `size` bytes of `payload`: one (the usual cycle of 251 byte values) for
/// `letters`, [`DISTINCT_BODIES`] different ones otherwise.
pub fn bodies(payload: Payload, size: usize) -> Vec<Bytes> {
    match payload {
        Payload::Letters => vec![super::side_by_side::body(size)],
        _ => (0..DISTINCT_BODIES as u64)
            .map(|seed| Bytes::from(text(payload, size, seed)))
            .collect(),
    }
}

/// TCP payload bytes, both directions, of the established connections to local port `port`
/// (the server's side of each: `bytes_acked` sent plus `bytes_received`), from `ss -tin`;
/// `None` where `ss` cannot tell.
pub fn tcp_bytes(port: u16) -> Option<u64> {
    let filter = format!("( sport = :{port} )");
    let out = std::process::Command::new("ss")
        .args(["-tinH", "state", "established", &filter])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut total = 0;
    for token in text.split_whitespace() {
        for key in ["bytes_acked:", "bytes_received:"] {
            if let Some(n) = token.strip_prefix(key) {
                total += n.parse::<u64>().ok()?;
            }
        }
    }
    Some(total)
}

/// How long before a window closes its last sample is taken: the benches close their
/// connections as the window ends, and their counters go with them.
const LAST_SAMPLE_AHEAD: std::time::Duration = std::time::Duration::from_millis(200);

/// TCP bytes to and from a server port over a window, sampled by a task at its opening and
/// [`LAST_SAMPLE_AHEAD`] before its end.
#[derive(Debug)]
pub struct WireMeter(tokio::task::JoinHandle<Option<Wire>>);

/// What a [`WireMeter`] saw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wire {
    /// Bytes, both directions, between the two samples.
    pub bytes: u64,
    /// The part of the window between the two samples (the load is steady: the units counted
    /// in the whole window times this are the units of the sampled span).
    pub part: f64,
}

impl WireMeter {
    /// Starts sampling the connections to `port` (`None`: not a TCP server; nothing measured).
    pub fn start(window: Window, port: Option<u16>) -> WireMeter {
        WireMeter(tokio::spawn(async move {
            let port = port?;
            let sample = move || tokio::task::spawn_blocking(move || tcp_bytes(port));
            tokio::time::sleep_until(window.from.into()).await;
            let (first, at) = (sample().await.ok()??, std::time::Instant::now());
            let last_at = window.until.checked_sub(LAST_SAMPLE_AHEAD)?;
            tokio::time::sleep_until(last_at.into()).await;
            let last = sample().await.ok()??;
            let span = std::time::Instant::now().saturating_duration_since(at);
            let part = span.as_secs_f64() / (window.until - window.from).as_secs_f64();
            // Fewer bytes at the end: connections closed before the last sample.
            Some(Wire {
                bytes: last.checked_sub(first)?,
                part: part.min(1.0),
            })
        }))
    }

    /// What was seen (waits for the last sample).
    pub async fn bytes(self) -> Option<Wire> {
        self.0.await.ok().flatten()
    }
}

/// The line that says how many bytes each counted unit cost on the wire.
pub fn wire_line(wire: Option<Wire>, units: u64, unit: &str) -> String {
    match wire {
        Some(Wire { bytes, part }) if units > 0 && part > 0.0 => format!(
            "  wire         {bytes} TCP bytes in {:.0}% of the window = {:.1} bytes per {unit} (both directions)",
            part * 100.0,
            bytes as f64 / (units as f64 * part)
        ),
        _ => "  wire         not measured".to_owned(),
    }
}

/// A CA and a server certificate for `localhost` and 127.0.0.1 in `dir` (`ca.pem`,
/// `cert.pem`, `key.pem`), made unless all three are there already.
pub fn certificates(dir: &Path) -> Result<TlsFiles, Failure> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let failed = |e: &dyn std::fmt::Display| {
        Failure::new(1, format!("certificates in {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
    let ca_key = KeyPair::generate().map_err(|e| failed(&e))?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| failed(&e))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "hubwire bench CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = params.self_signed(&ca_key).map_err(|e| failed(&e))?;
    let key = KeyPair::generate().map_err(|e| failed(&e))?;
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| failed(&e))?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .map_err(|e| failed(&e))?;
    for (path, pem) in [
        (&files.ca, ca.pem()),
        (&files.cert, cert.pem()),
        (&files.key, key.serialize_pem()),
    ] {
        std::fs::write(path, pem).map_err(|e| failed(&e))?;
    }
    Ok(files)
}

/// The PEM files of `--tls DIR`.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed `cert`: what clients trust.
    pub ca: PathBuf,
    /// The server certificate (localhost, 127.0.0.1).
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The server side: present `cert`.
    pub fn server(&self) -> TlsConfig {
        TlsConfig {
            cert_file: self.cert.clone(),
            key_file: self.key.clone(),
            ca_file: None,
            client_auth: ClientAuth::None,
            bridge_cert_file: None,
            bridge_key_file: None,
        }
    }

    /// The client side: trust `ca`.
    pub fn client(&self) -> Result<hubwire_core::tls::TlsClient, Failure> {
        hubwire_core::tls::TlsClient::builder()
            .ca_file(&self.ca)
            .build()
            .map_err(|e| Failure::new(1, format!("{}: {e}", self.ca.display())))
    }
}
