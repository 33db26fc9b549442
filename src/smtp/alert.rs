//! Alerts: when a key (an identity, a sender domain, …) first crosses its limit in a
//! window, a JSON body is POSTed to the configured webhook and/or a notification mail is
//! piped to the configured `sendmail` command; at most one alert per key per window (per
//! server, and across the servers on one Redis). Alerts are sent by their own thread, so
//! a slow webhook never holds up the answers.

use super::SmtpError;
use crate::time::Timestamp;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

/// The `[alerts]` section.
///
/// # Examples
///
/// ```
/// use rblkit::smtp::PolicyConfig;
/// let c = PolicyConfig::from_toml("[alerts]\nwebhook = \"http://127.0.0.1:9000/hook\"\n\
///     sendmail = [\"/usr/sbin/sendmail\", \"-t\", \"-i\"]\nmail_to = \"postmaster@relay.example.com\"\n", "p.toml")?;
/// let a = c.alerts.unwrap();
/// assert_eq!(a.webhook.unwrap().path(), "/hook");
/// assert_eq!(a.sendmail.len(), 3);
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AlertConfig {
    /// `http://HOST:PORT/PATH` to POST to.
    pub webhook: Option<Webhook>,
    /// The command a notification mail is piped to (`sendmail -t -i`); empty: none.
    pub sendmail: Vec<Box<str>>,
    /// The mail's `To:`.
    pub mail_to: Box<str>,
    /// The mail's `From:`.
    pub mail_from: Box<str>,
    /// The bound of a webhook's connect, write and read.
    pub timeout: Duration,
}

/// A webhook address: plain HTTP (put a local relay in front for HTTPS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    host: Box<str>,
    port: u16,
    path: Box<str>,
}

impl Webhook {
    /// Parses `http://HOST[:PORT][/PATH]`.
    ///
    /// # Errors
    ///
    /// [`SmtpError::BadField`] for another scheme or no host.
    pub fn parse(url: &str) -> Result<Webhook, SmtpError> {
        let bad = |p: &str| SmtpError::BadField {
            field: "alerts.webhook",
            problem: format!("{url:?}: {p}").into(),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("use http://HOST:PORT/PATH"))?;
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((h, "")) => (h, 80),
                Some((h, p)) => (
                    h,
                    p.strip_prefix(':')
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| bad("the port is no number"))?,
                ),
                None => return Err(bad("no closing ]")),
            },
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad("the port is no number"))?),
                None => (hostport, 80),
            },
        };
        if host.is_empty() || path.bytes().any(|b| b <= b' ') {
            return Err(bad("no host, or a space in the path"));
        }
        Ok(Webhook {
            host: host.into(),
            port,
            path: path.into(),
        })
    }

    /// The path posted to.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn addr(&self) -> std::io::Result<SocketAddr> {
        (&*self.host, self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other("no address"))
    }
}

/// The section as the file has it.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileAlerts {
    webhook: Option<String>,
    #[serde(default)]
    sendmail: Vec<String>,
    mail_to: Option<String>,
    mail_from: Option<String>,
    timeout_ms: Option<u64>,
}

impl FileAlerts {
    pub(super) fn into_config(self) -> Result<AlertConfig, String> {
        let webhook = match &self.webhook {
            Some(u) => Some(Webhook::parse(u).map_err(|e| e.to_string())?),
            None => None,
        };
        if webhook.is_none() && self.sendmail.is_empty() {
            return Err("alerts: give webhook and/or sendmail".into());
        }
        if !self.sendmail.is_empty() && self.mail_to.is_none() {
            return Err("alerts.mail_to: needed with sendmail".into());
        }
        Ok(AlertConfig {
            webhook,
            sendmail: self.sendmail.into_iter().map(Into::into).collect(),
            mail_to: self.mail_to.unwrap_or_default().into(),
            mail_from: self
                .mail_from
                .unwrap_or_else(|| "MAILER-DAEMON".into())
                .into(),
            timeout: Duration::from_millis(self.timeout_ms.unwrap_or(2000).max(1)),
        })
    }
}

/// One alert: a key crossed its limit.
#[derive(Debug, Clone)]
pub(super) struct Alert {
    pub(super) key: Box<str>,
    pub(super) identity: Box<str>,
    pub(super) limit: u64,
    pub(super) at: Timestamp,
}

impl Alert {
    fn json(&self) -> String {
        serde_json::json!({
            "event": "limit_crossed",
            "key": &*self.key,
            "identity": &*self.identity,
            "limit": self.limit,
            "window_secs": 3600,
            "at": self.at.to_string(),
        })
        .to_string()
    }
}

/// The sending side: alerts are queued to a thread; the window's de-duplication is done
/// by the caller.
pub(super) struct Alerter {
    tx: mpsc::Sender<Alert>,
    sent: crate::ledger::hash::Map<Box<str>, i64>,
}

impl Alerter {
    /// Starts the sending thread; `log` reports failures.
    pub(super) fn start(
        config: AlertConfig,
        log: impl Fn(String) + Send + 'static,
    ) -> std::io::Result<Alerter> {
        let (tx, rx) = mpsc::channel::<Alert>();
        std::thread::Builder::new()
            .name("rblkit-policy-alerts".into())
            .spawn(move || {
                for a in rx {
                    if let Err(e) = send(&config, &a) {
                        log(format!("alert for {} not sent: {e}", a.key));
                    }
                }
            })?;
        Ok(Alerter {
            tx,
            sent: Default::default(),
        })
    }

    /// Queues an alert unless this server sent one for the key in the last hour
    /// (`first`: Redis's verdict across servers, when it keeps the window).
    pub(super) fn crossed(&mut self, a: Alert, first: Option<bool>) {
        let t = a.at.unix_seconds();
        let recent = self.sent.get(&a.key).is_some_and(|s| t - s < 3600);
        if recent || first == Some(false) {
            return;
        }
        if self.sent.len() > 100_000 {
            self.sent.retain(|_, s| t - *s < 3600);
        }
        self.sent.insert(a.key.clone(), t);
        let _ = self.tx.send(a);
    }
}

fn send(c: &AlertConfig, a: &Alert) -> Result<(), String> {
    let mut errors = Vec::new();
    if let Some(w) = &c.webhook {
        if let Err(e) = post(w, c.timeout, &a.json()) {
            errors.push(format!("webhook: {e}"));
        }
    }
    if !c.sendmail.is_empty() {
        if let Err(e) = mail(c, a) {
            errors.push(format!("sendmail: {e}"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn post(w: &Webhook, timeout: Duration, body: &str) -> std::io::Result<()> {
    let mut s = TcpStream::connect_timeout(&w.addr()?, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(
        s,
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        w.path,
        w.host,
        body.len()
    )?;
    let mut status = [0u8; 12];
    s.read_exact(&mut status)?;
    if !status.starts_with(b"HTTP/1.") || status[9] != b'2' {
        return Err(std::io::Error::other(format!(
            "answered {:?}",
            String::from_utf8_lossy(&status)
        )));
    }
    Ok(())
}

fn mail(c: &AlertConfig, a: &Alert) -> std::io::Result<()> {
    let mut cmd = std::process::Command::new(&*c.sendmail[0]);
    cmd.args(c.sendmail[1..].iter().map(|s| &**s))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        write!(
            stdin,
            "From: {}\nTo: {}\nSubject: rblkit policy: {} crossed its limit\nContent-Type: text/plain; charset=utf-8\n\n\
             {} crossed its limit of {} messages per rolling hour at {} (identity {}).\n\
             If this sender does not usually send this much, its credentials may be stolen.\n\n{}\n",
            c.mail_from, c.mail_to, a.key, a.key, a.limit, a.at, a.identity, a.json()
        )?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("exited with {status}")));
    }
    Ok(())
}
