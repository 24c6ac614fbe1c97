//! [`Users`]: the users of a server, checked when the config is loaded, and the one hook that
//! authenticates a peer's [`Credentials`] against them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Argon2, Params, PasswordHasher};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::permissions::{PermissionSpec, Permissions};
use super::Credentials;

/// One user in the config (`users.NAME`). At least one way to authenticate is required.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// The argon2 hash of the password, in PHC form (`$argon2id$v=19$m=...`), as
    /// `hubwire passwd` prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// The SHA-256 of the user's token, 64 hex digits (`hubwire passwd --token` makes a token
    /// and prints both). Tokens are long and random, so a fast hash is enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<String>,
    /// A TLS client certificate whose subject CN is this authenticates as the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_identity: Option<String>,
    /// What the user may do.
    #[serde(default)]
    pub permissions: PermissionSpec,
    /// Refused: a plain-text password. Read only to say so clearly.
    #[serde(default, skip_serializing)]
    pub password: Option<serde_json::Value>,
    /// Refused: a plain-text token. Read only to say so clearly.
    #[serde(default, skip_serializing)]
    pub token: Option<serde_json::Value>,
}

/// A user a peer authenticated as.
#[derive(Debug)]
pub struct User {
    name: String,
    permissions: Permissions,
}

impl User {
    /// A user with these permissions (servers without users run every peer as
    /// `User::anonymous()`, which may do everything).
    pub fn new(name: impl Into<String>, permissions: Permissions) -> Self {
        User {
            name: name.into(),
            permissions,
        }
    }

    /// The user every peer is on a server without users: may do everything.
    pub fn anonymous() -> Self {
        User::new("", Permissions::all())
    }

    /// The user's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the user may do.
    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }
}

/// Why the users in a config are refused (at load, before anything binds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("users.{user}: {problem}")]
pub struct UsersError {
    /// The user.
    pub user: String,
    /// What is wrong, and what to do.
    pub problem: String,
}

/// Why an authentication failed. The peer is told only "authentication failed" (so that it
/// cannot tell a wrong name from a wrong password); logs and `auth.failures{reason}` say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Nothing was presented, on a server that has users.
    #[error("no credentials")]
    Missing,
    /// No user of that name.
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    /// A wrong password (or a user without one).
    #[error("wrong password for user {0:?}")]
    BadPassword(String),
    /// No user has that token (or it belongs to another user than the one named).
    #[error("unknown token")]
    BadToken,
}

impl AuthFailure {
    /// A short label for the `auth.failures{reason}` counter.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::UnknownUser(_) => "unknown-user",
            AuthFailure::BadPassword(_) => "bad-password",
            AuthFailure::BadToken => "bad-token",
        }
    }

    /// What the peer is told (code 200 `denied`).
    pub fn message(&self) -> String {
        match self {
            AuthFailure::Missing => "authentication required: this server has users; give a user name and password or a token (URL user:password@, --user/--password, --token, or HUBWIRE_USER/HUBWIRE_PASSWORD/HUBWIRE_TOKEN)".to_owned(),
            AuthFailure::UnknownUser(_) | AuthFailure::BadPassword(_) => {
                "authentication failed: wrong user name or password".to_owned()
            }
            AuthFailure::BadToken => "authentication failed: the token is not accepted".to_owned(),
        }
    }
}

struct Entry {
    user: Arc<User>,
    password_hash: Option<String>,
}

/// The checked users of a server.
pub struct Users {
    by_name: HashMap<String, Entry>,
    by_token: HashMap<[u8; 32], Arc<User>>,
    by_identity: HashMap<String, Arc<User>>,
    /// Checked against when a name is unknown, so that an unknown name takes as long as a
    /// wrong password; made at the first such check (hashing costs what a check does).
    decoy_hash: OnceLock<String>,
    /// The argon2 parameters of the decoy: the first user's (memory KiB, passes).
    decoy_params: (u32, u32),
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: BTreeMap<&str, ()> = self.by_name.keys().map(|n| (n.as_str(), ())).collect();
        f.debug_struct("Users")
            .field("names", &names.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The hex SHA-256 of a token, as `token_sha256` holds it.
pub fn token_sha256(token: &str) -> String {
    hex_lower(&Sha256::digest(token.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// The argon2id hash (PHC form, default parameters: 19 MiB, 2 passes) of `password`, with a
/// fresh random salt: what `hubwire passwd` prints.
pub fn hash_password(password: &str) -> String {
    hash_password_with(password, Params::DEFAULT_M_COST, Params::DEFAULT_T_COST)
}

/// [`hash_password`] with a memory cost in KiB and a number of passes of one's own (tests use
/// small ones; production keeps the defaults or raises them).
pub fn hash_password_with(password: &str, memory_kib: u32, passes: u32) -> String {
    let params = Params::new(memory_kib, passes, 1, None).expect("valid argon2 parameters");
    let argon = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

fn verify(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

impl Users {
    /// Checks the users of a config: every `password_hash` an argon2 PHC string, every
    /// `token_sha256` 64 hex digits, no plain-text `password` or `token`, identities and
    /// tokens unique, permissions that parse.
    pub fn from_specs(
        specs: impl IntoIterator<Item = (String, UserSpec)>,
    ) -> Result<Users, UsersError> {
        let mut users = Users {
            by_name: HashMap::new(),
            by_token: HashMap::new(),
            by_identity: HashMap::new(),
            decoy_hash: OnceLock::new(),
            decoy_params: (Params::DEFAULT_M_COST, Params::DEFAULT_T_COST),
        };
        let mut decoy_params = None;
        for (name, spec) in specs {
            let fail = |problem: String| UsersError {
                user: name.clone(),
                problem,
            };
            if name.is_empty() || name.chars().any(char::is_control) {
                return Err(fail(
                    "a user name must be non-empty text without control characters".into(),
                ));
            }
            if spec.password.is_some() {
                return Err(fail("plain-text passwords are refused: put the argon2 hash of the password in password_hash (make one with `hubwire passwd`)".into()));
            }
            if spec.token.is_some() {
                return Err(fail("plain-text tokens are refused: put the token's SHA-256 in token_sha256 (`hubwire passwd --token` makes a token and prints both)".into()));
            }
            if spec.password_hash.is_none()
                && spec.token_sha256.is_none()
                && spec.tls_identity.is_none()
            {
                return Err(fail("the user has no way to authenticate: give password_hash, token_sha256 or tls_identity".into()));
            }
            if let Some(hash) = &spec.password_hash {
                let parsed = PasswordHash::new(hash).map_err(|e| {
                    fail(format!("password_hash is not a PHC hash string ({e}): make one with `hubwire passwd`"))
                })?;
                if !parsed.algorithm.as_str().starts_with("argon2") {
                    return Err(fail(format!(
                        "password_hash uses {}, not argon2: make one with `hubwire passwd`",
                        parsed.algorithm
                    )));
                }
                Params::try_from(&parsed).map_err(|e| {
                    fail(format!("password_hash has unusable argon2 parameters: {e}"))
                })?;
                decoy_params.get_or_insert_with(|| Params::try_from(&parsed).expect("checked"));
            }
            let permissions = Permissions::from_spec(&spec.permissions)
                .map_err(|e| fail(format!("permissions: {e}")))?;
            let user = Arc::new(User::new(name.clone(), permissions));
            if let Some(token) = &spec.token_sha256 {
                let digest = parse_hex32(&token.to_ascii_lowercase())
                    .ok_or_else(|| fail("token_sha256 must be 64 hex digits".into()))?;
                if users.by_token.insert(digest, user.clone()).is_some() {
                    return Err(fail("token_sha256 is another user's too".into()));
                }
            }
            if let Some(identity) = &spec.tls_identity {
                if users
                    .by_identity
                    .insert(identity.clone(), user.clone())
                    .is_some()
                {
                    return Err(fail(format!(
                        "tls_identity {identity:?} is another user's too"
                    )));
                }
            }
            let entry = Entry {
                user,
                password_hash: spec.password_hash.clone(),
            };
            if users.by_name.insert(name.clone(), entry).is_some() {
                return Err(fail("the user is named twice".into()));
            }
        }
        if let Some(params) = decoy_params {
            users.decoy_params = (params.m_cost(), params.t_cost());
        }
        Ok(users)
    }

    /// A check that costs what a real one costs (the first user's parameters) and fails.
    fn decoy(&self, password: &str) {
        let (memory, passes) = self.decoy_params;
        let hash = self
            .decoy_hash
            .get_or_init(|| hash_password_with("decoy", memory, passes));
        verify(password, hash);
    }

    /// Whether there are no users (then every peer may do everything).
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// The user with this name.
    pub fn get(&self, name: &str) -> Option<Arc<User>> {
        self.by_name.get(name).map(|e| e.user.clone())
    }

    /// The user a verified TLS client certificate's identity (subject CN) maps to.
    pub fn by_tls_identity(&self, identity: &str) -> Option<Arc<User>> {
        self.by_identity.get(identity).cloned()
    }

    /// The hook every front-end calls: the user `credentials` authenticate as, or why not.
    /// A password check runs argon2 (tens of milliseconds with the default parameters): call
    /// it off the I/O threads, with the number of checks at once bounded.
    pub fn authenticate(&self, credentials: &Credentials) -> Result<Arc<User>, AuthFailure> {
        if let Some(token) = &credentials.token {
            let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
            return match self.by_token.get(&digest) {
                Some(user) if credentials.user.as_deref().is_none_or(|n| n == user.name()) => {
                    Ok(user.clone())
                }
                _ => Err(AuthFailure::BadToken),
            };
        }
        let Some(name) = &credentials.user else {
            return Err(AuthFailure::Missing);
        };
        let password = credentials.password.as_deref().unwrap_or("");
        match self.by_name.get(name) {
            Some(Entry {
                user,
                password_hash: Some(hash),
            }) => {
                if verify(password, hash) {
                    Ok(user.clone())
                } else {
                    Err(AuthFailure::BadPassword(name.clone()))
                }
            }
            Some(_) => {
                self.decoy(password);
                Err(AuthFailure::BadPassword(name.clone()))
            }
            None => {
                self.decoy(password);
                Err(AuthFailure::UnknownUser(name.clone()))
            }
        }
    }
}

/// A fresh random token: 32 random bytes as 64 hex digits (what `hubwire passwd --token`
/// hands out; the config keeps only its [`token_sha256`]).
pub fn new_token() -> String {
    use argon2::password_hash::rand_core::RngCore;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex_lower(&bytes)
}
