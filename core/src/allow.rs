//! The allow-list: which peers may connect. Deny by default; the default allows loopback
//! addresses and the user's own uid.
//!
//! Entries are written as strings: an IP address (`192.0.2.7`), a CIDR range (`10.0.0.0/8`,
//! `fd00::/8`), `loopback` (127.0.0.0/8 and ::1), `uid:1000`, or `uid:self` (the uid the
//! process runs as).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// One allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AllowEntry {
    /// Any loopback address.
    Loopback,
    /// An address range (a single address is a /32 or /128).
    Net(IpNet),
    /// A Unix user id (checked by peer credentials on Unix sockets).
    Uid(u32),
    /// The uid this process runs as.
    OwnUid,
}

/// Why a string is not an allow-list entry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an allow-list entry: write an IP address, a CIDR range (10.0.0.0/8), `loopback`, `uid:N` or `uid:self`")]
pub struct BadAllowEntry(pub String);

impl FromStr for AllowEntry {
    type Err = BadAllowEntry;

    fn from_str(raw: &str) -> Result<Self, BadAllowEntry> {
        let bad = || BadAllowEntry(raw.to_owned());
        let text = raw.trim();
        if text.eq_ignore_ascii_case("loopback") {
            return Ok(AllowEntry::Loopback);
        }
        if let Some(uid) = text.strip_prefix("uid:") {
            if uid == "self" {
                return Ok(AllowEntry::OwnUid);
            }
            return uid.parse().map(AllowEntry::Uid).map_err(|_| bad());
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(AllowEntry::Net(net));
        }
        text.parse::<IpAddr>()
            .map(|ip| AllowEntry::Net(IpNet::from(ip)))
            .map_err(|_| bad())
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Loopback => f.write_str("loopback"),
            AllowEntry::Net(net) if net.prefix_len() == net.max_prefix_len() => {
                write!(f, "{}", net.addr())
            }
            AllowEntry::Net(net) => write!(f, "{net}"),
            AllowEntry::Uid(uid) => write!(f, "uid:{uid}"),
            AllowEntry::OwnUid => f.write_str("uid:self"),
        }
    }
}

/// The uid this process runs as.
pub fn own_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

/// A set of allowed peers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Vec<String>", try_from = "Vec<String>")]
pub struct AllowList(Vec<AllowEntry>);

impl Default for AllowList {
    /// Loopback addresses and the process's own uid.
    fn default() -> Self {
        AllowList(vec![AllowEntry::Loopback, AllowEntry::OwnUid])
    }
}

impl AllowList {
    /// A list of these entries (an empty list allows nobody).
    pub fn new(entries: Vec<AllowEntry>) -> Self {
        AllowList(entries)
    }

    /// The entries.
    pub fn entries(&self) -> &[AllowEntry] {
        &self.0
    }

    /// Whether a peer at `ip` may connect. IPv4-mapped IPv6 addresses are checked as IPv4.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.0.iter().any(|entry| match entry {
            AllowEntry::Loopback => ip.is_loopback(),
            AllowEntry::Net(net) => net.contains(&ip),
            AllowEntry::Uid(_) | AllowEntry::OwnUid => false,
        })
    }

    /// Whether a Unix-socket peer running as `uid` may connect.
    pub fn allows_uid(&self, uid: u32) -> bool {
        self.0.iter().any(|entry| match entry {
            AllowEntry::Uid(allowed) => *allowed == uid,
            AllowEntry::OwnUid => own_uid() == uid,
            _ => false,
        })
    }
}

impl From<AllowList> for Vec<String> {
    fn from(list: AllowList) -> Vec<String> {
        list.0.iter().map(ToString::to_string).collect()
    }
}

impl TryFrom<Vec<String>> for AllowList {
    type Error = BadAllowEntry;

    fn try_from(raw: Vec<String>) -> Result<Self, BadAllowEntry> {
        raw.iter()
            .map(|s| s.parse())
            .collect::<Result<_, _>>()
            .map(AllowList)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::try_from(entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn the_default_allows_loopback_and_own_uid_only() {
        let default = AllowList::default();
        assert!(default.allows_ip("127.0.0.2".parse().unwrap()));
        assert!(default.allows_ip("::1".parse().unwrap()));
        assert!(default.allows_ip("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!default.allows_ip("192.0.2.1".parse().unwrap()));
        assert!(default.allows_uid(own_uid()));
        assert!(!default.allows_uid(own_uid().wrapping_add(1)));
    }

    #[test]
    fn addresses_ranges_and_uids_match_what_they_name() {
        let l = list(&["127.0.0.1", "10.0.0.0/8", "uid:4242"]);
        assert!(l.allows_ip("127.0.0.1".parse().unwrap()));
        assert!(!l.allows_ip("127.0.0.2".parse().unwrap()));
        assert!(l.allows_ip("10.200.3.4".parse().unwrap()));
        assert!(l.allows_uid(4242));
        assert!(!l.allows_uid(own_uid().wrapping_add(1).max(4243)));
        assert!(!AllowList::new(vec![]).allows_ip("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn entries_print_back_as_written() {
        for raw in [
            "loopback",
            "uid:self",
            "uid:7",
            "192.0.2.7",
            "10.0.0.0/8",
            "::1",
        ] {
            assert_eq!(raw.parse::<AllowEntry>().unwrap().to_string(), raw);
        }
        let err = "10.0.0.0/40".parse::<AllowEntry>().unwrap_err().to_string();
        assert!(err.contains("10.0.0.0/40") && err.contains("CIDR"), "{err}");
    }
}
