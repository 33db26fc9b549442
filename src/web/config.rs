//! [`WebConfig`]: the operator's credentials, the rate and size limits; from TOML or code.

use super::WebError;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The settings of the web adapter. The operator side is closed unless a credential is set.
///
/// The TOML form (every key optional):
///
/// ```toml
/// [operator]
/// token = "a long random string"      # Authorization: Bearer …
/// user = "staff"                      # HTTP Basic, with …
/// password_hash = "$argon2id$v=19$…"  # … an argon2 PHC string of the password
///
/// [limits]
/// lookups_per_minute = 120   # per client address (IPv6: per /64)
/// posts_per_minute = 10      # forms, API requests, operator requests
/// clients = 10000            # client addresses remembered at most
/// body_bytes = 16384         # larger request bodies are refused (413)
///
/// [cookies]
/// secure = false             # true when the site is served over HTTPS
/// ```
///
/// # Examples
///
/// ```
/// use rblkit::web::WebConfig;
/// let c = WebConfig::from_toml("[operator]\ntoken = \"0123456789abcdef0123\"\n[limits]\nposts_per_minute = 3\n", "web.toml")?;
/// assert!(c.operator_open());
/// assert_eq!(c.posts_per_minute(), 3);
/// assert!(!WebConfig::default().operator_open());
/// # Ok::<(), rblkit::web::WebError>(())
/// ```
#[derive(Clone)]
pub struct WebConfig {
    token: Option<[u8; 32]>,
    basic: Option<(Box<str>, Box<str>)>,
    pub(crate) lookups_per_minute: u32,
    pub(crate) posts_per_minute: u32,
    pub(crate) clients: usize,
    pub(crate) body_bytes: usize,
    pub(crate) secure_cookies: bool,
}

impl std::fmt::Debug for WebConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the credentials
        f.debug_struct("WebConfig")
            .field("token", &self.token.map(|_| "…"))
            .field("user", &self.basic.as_ref().map(|(u, _)| u))
            .field("lookups_per_minute", &self.lookups_per_minute)
            .field("posts_per_minute", &self.posts_per_minute)
            .field("clients", &self.clients)
            .field("body_bytes", &self.body_bytes)
            .field("secure_cookies", &self.secure_cookies)
            .finish()
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            token: None,
            basic: None,
            lookups_per_minute: 120,
            posts_per_minute: 10,
            clients: 10_000,
            body_bytes: 16 * 1024,
            secure_cookies: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    operator: OperatorFile,
    #[serde(default)]
    limits: LimitsFile,
    #[serde(default)]
    cookies: CookiesFile,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OperatorFile {
    token: Option<String>,
    user: Option<String>,
    password_hash: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    lookups_per_minute: Option<u32>,
    posts_per_minute: Option<u32>,
    clients: Option<usize>,
    body_bytes: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CookiesFile {
    secure: Option<bool>,
}

const MIN_TOKEN: usize = 16;

fn setting(file: &str, field: &'static str, message: impl Into<Box<str>>) -> WebError {
    WebError::Setting {
        file: file.into(),
        field,
        message: message.into(),
    }
}

impl WebConfig {
    /// Reads the TOML form (see [`WebConfig`]); `file` names it in errors.
    ///
    /// # Errors
    ///
    /// [`WebError::Config`] with the line and column of a syntax error or an unknown key;
    /// [`WebError::Setting`] for a value that cannot be used (a short token, a user without a
    /// password hash, a hash that is not an argon2 PHC string, a zero limit).
    pub fn from_toml(text: &str, file: &str) -> Result<WebConfig, WebError> {
        let f: File = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            WebError::Config {
                file: file.into(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(u32::MAX),
                message: e.message().trim().into(),
            }
        })?;
        let mut c = WebConfig::default();
        if let Some(t) = f.operator.token {
            c = c.with_token_in(&t, file)?;
        }
        match (f.operator.user, f.operator.password_hash) {
            (Some(u), Some(h)) => c = c.with_password_in(&u, &h, file)?,
            (None, None) => {}
            (Some(_), None) => {
                return Err(setting(
                    file,
                    "operator.password_hash",
                    "missing: operator.user needs it",
                ))
            }
            (None, Some(_)) => {
                return Err(setting(
                    file,
                    "operator.user",
                    "missing: operator.password_hash needs it",
                ))
            }
        }
        let positive = |v: Option<u32>, field, default: u32| match v {
            Some(0) => Err(setting(file, field, "must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        c.lookups_per_minute = positive(
            f.limits.lookups_per_minute,
            "limits.lookups_per_minute",
            c.lookups_per_minute,
        )?;
        c.posts_per_minute = positive(
            f.limits.posts_per_minute,
            "limits.posts_per_minute",
            c.posts_per_minute,
        )?;
        if let Some(n) = f.limits.clients {
            if n == 0 {
                return Err(setting(file, "limits.clients", "must be at least 1"));
            }
            c.clients = n;
        }
        if let Some(n) = f.limits.body_bytes {
            if n < 1024 {
                return Err(setting(file, "limits.body_bytes", "must be at least 1024"));
            }
            c.body_bytes = n;
        }
        c.secure_cookies = f.cookies.secure.unwrap_or(false);
        Ok(c)
    }

    fn with_token_in(mut self, token: &str, file: &str) -> Result<WebConfig, WebError> {
        if token.len() < MIN_TOKEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(setting(
                file,
                "operator.token",
                format!("must be at least {MIN_TOKEN} printable ASCII characters without spaces"),
            ));
        }
        self.token = Some(Sha256::digest(token.as_bytes()).into());
        Ok(self)
    }

    fn with_password_in(
        mut self,
        user: &str,
        hash: &str,
        file: &str,
    ) -> Result<WebConfig, WebError> {
        if user.is_empty() || user.contains(':') || user.chars().any(char::is_control) {
            return Err(setting(
                file,
                "operator.user",
                "must be non-empty, without ':' or control characters",
            ));
        }
        match argon2::PasswordHash::new(hash) {
            Ok(h) if h.algorithm.as_str().starts_with("argon2") => {}
            _ => {
                return Err(setting(
                    file,
                    "operator.password_hash",
                    "not an argon2 PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)",
                ))
            }
        }
        self.basic = Some((user.into(), hash.into()));
        Ok(self)
    }

    /// Lets the operator in with `Authorization: Bearer TOKEN` (at least 16 printable
    /// characters; only its SHA-256 is kept).
    ///
    /// # Errors
    ///
    /// [`WebError::Setting`] for a short token.
    pub fn with_operator_token(self, token: &str) -> Result<WebConfig, WebError> {
        self.with_token_in(token, "<api>")
    }

    /// Lets the operator in with HTTP Basic as `user`, checking the password against an
    /// argon2 PHC string (`$argon2id$v=19$…`, e.g. from the `argon2` command).
    ///
    /// # Errors
    ///
    /// [`WebError::Setting`] for a bad user name or hash.
    pub fn with_operator_password(
        self,
        user: &str,
        password_hash: &str,
    ) -> Result<WebConfig, WebError> {
        self.with_password_in(user, password_hash, "<api>")
    }

    /// Sets the per-client limits: lookups and POST requests a minute.
    pub fn with_limits(mut self, lookups_per_minute: u32, posts_per_minute: u32) -> WebConfig {
        self.lookups_per_minute = lookups_per_minute.max(1);
        self.posts_per_minute = posts_per_minute.max(1);
        self
    }

    /// Whether any operator credential is set (otherwise the operator side stays closed).
    pub fn operator_open(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }

    /// Lookups a minute per client.
    pub fn lookups_per_minute(&self) -> u32 {
        self.lookups_per_minute
    }

    /// POST requests a minute per client.
    pub fn posts_per_minute(&self) -> u32 {
        self.posts_per_minute
    }

    /// Whether an `Authorization` header value carries a configured credential. Token
    /// digests are compared in constant time; passwords through argon2.
    pub(crate) fn authorised(&self, authorization: Option<&[u8]>) -> bool {
        let Some(h) = authorization.and_then(|h| std::str::from_utf8(h).ok()) else {
            return false;
        };
        let (scheme, value) = h.trim().split_once(' ').unwrap_or((h, ""));
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            let Some(want) = &self.token else {
                return false;
            };
            let got: [u8; 32] = Sha256::digest(value.as_bytes()).into();
            return bool::from(got.ct_eq(want));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let Some((user, hash)) = &self.basic else {
                return false;
            };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(value) else {
                return false;
            };
            let Some(colon) = raw.iter().position(|&b| b == b':') else {
                return false;
            };
            let (u, p) = (&raw[..colon], &raw[colon + 1..]);
            let user_ok = bool::from(Sha256::digest(u).ct_eq(&Sha256::digest(user.as_bytes())));
            use argon2::PasswordVerifier as _;
            let pass_ok = argon2::PasswordHash::new(hash)
                .is_ok_and(|h| argon2::Argon2::default().verify_password(p, &h).is_ok());
            return user_ok & pass_ok;
        }
        false
    }

    /// The challenge of a 401 answer.
    pub(crate) fn challenge(&self) -> &'static str {
        if self.basic.is_some() {
            "Basic realm=\"rblkit operator\", charset=\"UTF-8\""
        } else {
            "Bearer realm=\"rblkit operator\""
        }
    }
}
