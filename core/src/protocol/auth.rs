//! AUTH and AUTH_OK: credentials right after CONN, and the server's acceptance
//! (protocol.md section 5, "Authentication").

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::{self, read_whole, Form};
use super::{kind, Envelope, ProtocolError};
use crate::auth::Credentials;

/// AUTH: `[user: str | nil, password: str | nil, token: str | nil]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    /// What the client presents.
    pub credentials: Credentials,
}

impl Envelope for Auth {
    const KIND: u16 = kind::AUTH;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        let c = &self.credentials;
        out.put_u8(0x93);
        wire::put_opt_str(out, c.user.as_deref())?;
        wire::put_opt_str(out, c.password.as_deref())?;
        wire::put_opt_str(out, c.token.as_deref())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            let mut text = || rd.opt_text(Form::Str).map(|t| t.map(str::to_owned));
            let user = text()?;
            let password = text()?;
            let token = text()?;
            Ok(Auth {
                credentials: Credentials {
                    user,
                    password,
                    token,
                },
            })
        })
    }
}

/// AUTH_OK: `[user: str]`, the user the connection now acts as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthOk {
    /// The user's name (empty on a server without users).
    pub user: String,
}

impl Envelope for AuthOk {
    const KIND: u16 = kind::AUTH_OK;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_str(out, &self.user)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            let user = rd.text(Form::Str)?.to_owned();
            Ok(AuthOk { user })
        })
    }
}
