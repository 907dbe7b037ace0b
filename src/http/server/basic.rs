//! HTTP Basic authentication of senders (RFC 7617) against an htpasswd
//! file of bcrypt entries, for the deployed senders that cannot present a
//! client certificate.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::Engine as _;
use http::HeaderValue;

use super::super::tls::ConfigError;

/// How long a verified user name and password pair is taken without
/// running bcrypt again.
pub const VERIFIED_FOR: Duration = Duration::from_secs(60);

/// The most verified pairs remembered at once; past it the memory is
/// emptied (the next requests run bcrypt again).
const REMEMBERED_MAX: usize = 4096;

/// The users a receiver lets in by HTTP Basic authentication, from an
/// htpasswd file whose entries are bcrypt hashes, as `htpasswd -B` writes
/// them (`name:$2y$05$…`; `$2a$` and `$2b$` are read too).
///
/// This departs from the HTTPS transport draft, which requires mutual TLS:
/// the senders deployed today (the IDMEFv2 connectors, the log generator,
/// ElastAlert2, the Graylog plugin) can send a user name and password and
/// cannot present a client certificate. Over TLS the password is
/// protected in transit and the server is still authenticated; over plain
/// HTTP anyone on the path can read it.
///
/// bcrypt is slow on purpose (about a hundred milliseconds at cost 10, a
/// few at cost 5), so it runs on tokio's blocking threads, never on the
/// threads serving requests, and a pair that passed is taken without
/// bcrypt for [`VERIFIED_FOR`] afterwards: a sender posting a thousand
/// alerts a second costs one bcrypt run a minute, not a thousand a second.
/// What is remembered is a keyed SHA-256 (HMAC, with a key drawn at
/// start) of the pair, never the password.
#[derive(Clone)]
pub struct BasicAuth {
    inner: Arc<Inner>,
}

struct Inner {
    realm: String,
    users: HashMap<String, String>,
    key: ring::hmac::Key,
    verified: Mutex<HashMap<[u8; 32], Instant>>,
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("realm", &self.inner.realm)
            .field("users", &self.inner.users.len())
            .finish()
    }
}

impl BasicAuth {
    /// The users of an htpasswd file's text: one `name:hash` per line;
    /// empty lines and lines starting with `#` are skipped. A line that is
    /// not a bcrypt entry is an error naming its line number (never its
    /// content). `realm` goes in the `WWW-Authenticate` challenge.
    pub fn from_htpasswd(text: &str, realm: impl Into<String>) -> Result<BasicAuth, ConfigError> {
        let mut users = HashMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let entry = line.split_once(':').filter(|(name, hash)| {
                !name.is_empty()
                    && ["$2y$", "$2b$", "$2a$"].iter().any(|p| hash.starts_with(p))
                    && hash.len() == 60
            });
            let Some((name, hash)) = entry else {
                return Err(ConfigError::new(format!(
                    "line {}: not a bcrypt entry (name:$2y$...; make one with htpasswd -B)",
                    number + 1
                )));
            };
            users.insert(name.to_string(), hash.to_string());
        }
        if users.is_empty() {
            return Err(ConfigError::new("no user in the htpasswd file"));
        }
        let key =
            ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
                .map_err(|_| ConfigError::new("no randomness for the credentials cache key"))?;
        Ok(BasicAuth {
            inner: Arc::new(Inner {
                realm: realm.into(),
                users,
                key,
                verified: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// How many users the file holds.
    pub fn users(&self) -> usize {
        self.inner.users.len()
    }

    /// The `WWW-Authenticate` challenge of a 401.
    pub(crate) fn challenge(&self) -> HeaderValue {
        let realm = self.inner.realm.replace(['"', '\\'], "");
        HeaderValue::from_str(&format!("Basic realm=\"{realm}\", charset=\"UTF-8\""))
            .unwrap_or_else(|_| HeaderValue::from_static("Basic realm=\"idmefv2\""))
    }

    /// The user name of an `Authorization` header whose credentials are
    /// right; `None` for a missing, malformed or wrong one.
    pub(crate) async fn user(&self, authorization: Option<&HeaderValue>) -> Option<String> {
        let (name, password) = credentials(authorization?)?;
        let hash = self.inner.users.get(&name)?.clone();
        let mut pair = Vec::with_capacity(name.len() + password.len() + 1);
        pair.extend_from_slice(name.as_bytes());
        pair.push(0);
        pair.extend_from_slice(password.as_bytes());
        let tag = ring::hmac::sign(&self.inner.key, &pair);
        let mut tag_bytes = [0; 32];
        tag_bytes.copy_from_slice(tag.as_ref());
        let now = Instant::now();
        {
            let verified = self
                .inner
                .verified
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if verified.get(&tag_bytes).is_some_and(|until| *until > now) {
                return Some(name);
            }
        }
        let right = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
            .await
            .ok()?
            .ok()?;
        if !right {
            return None;
        }
        let mut verified = self
            .inner
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if verified.len() >= REMEMBERED_MAX {
            verified.retain(|_, until| *until > now);
            if verified.len() >= REMEMBERED_MAX {
                verified.clear();
            }
        }
        verified.insert(tag_bytes, now + VERIFIED_FOR);
        Some(name)
    }
}

/// The user name and password of a `Basic` `Authorization` header.
fn credentials(header: &HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?.trim();
    let (scheme, encoded) = text.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn entries_are_bcrypt_and_credentials_are_checked_then_remembered() {
        let hash = bcrypt::hash("s3cret:with colon", 4).unwrap();
        let text = format!("# senders\n\nsuricata:{hash}\n");
        let auth = BasicAuth::from_htpasswd(&text, "alerts").unwrap();
        assert_eq!(auth.users(), 1);
        let basic = |user: &str, password: &str| {
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            header(&format!("Basic {encoded}"))
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let user = |h: Option<HeaderValue>| runtime.block_on(auth.user(h.as_ref()));
        assert_eq!(
            user(Some(basic("suricata", "s3cret:with colon"))).as_deref(),
            Some("suricata")
        );
        // Remembered, and only for that pair.
        assert_eq!(auth.inner.verified.lock().unwrap().len(), 1);
        assert_eq!(
            user(Some(basic("suricata", "s3cret:with colon"))).as_deref(),
            Some("suricata")
        );
        assert_eq!(user(Some(basic("suricata", "wrong"))), None);
        assert_eq!(user(Some(basic("nobody", "s3cret:with colon"))), None);
        assert_eq!(user(Some(header("Bearer abc"))), None);
        assert_eq!(user(Some(header("Basic !!!"))), None);
        assert_eq!(user(None), None);
        assert_eq!(auth.inner.verified.lock().unwrap().len(), 1);

        let error = BasicAuth::from_htpasswd("ok:{SHA}abc\n", "x").unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        assert!(!error.to_string().contains("abc"), "{error}");
        assert!(BasicAuth::from_htpasswd("# none\n", "x").is_err());
        assert_eq!(
            auth.challenge(),
            "Basic realm=\"alerts\", charset=\"UTF-8\""
        );
    }
}
