//! `rblkit ledger report`: one reported or trapped message, an ARF report, a directory of
//! messages or an mbox → evidence events (printed as JSON lines, then ingested).

use super::{fail, input_error, open, store_error, Profile, Run};
use crate::exit;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rblkit::intake::{
    Intake, IntakeConfig, ReportKind, SenderDomains, SpecialSources, TrustedNetworks,
};
use rblkit::ledger::Event;
use rblkit::subject::Domain;
use rblkit::Timestamp;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("kind").required(true).args(["reporter", "trap", "arf"])))]
pub(crate) struct ReportArgs {
    /// The state directory (created when missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) state: PathBuf,
    /// The policy: spamcop, spam-center or relay.
    #[arg(long, value_name = "NAME")]
    pub(crate) profile: String,
    /// A recipient (or their filter) reports the message as spam (or, with --not-spam,
    /// releases it from quarantine: release & train).
    #[arg(long, value_name = "ID")]
    reporter: Option<String>,
    /// A spamtrap (the envelope recipient, or a name) received the message.
    #[arg(long, value_name = "ID")]
    trap: Option<String>,
    /// The message is a feedback-loop report in the Abuse Reporting Format (RFC 5965).
    #[arg(long)]
    arf: bool,
    /// With --reporter: the message is not spam (ham_report events).
    #[arg(long, requires = "reporter")]
    not_spam: bool,
    /// An address or CIDR network whose relays are believed (repeatable). With none, the
    /// topmost Received header's connecting address is the source.
    #[arg(long, value_name = "NET")]
    trusted: Vec<String>,
    /// Loopback, private and reserved addresses can be sources (a list inside a private
    /// network; tests on loopback).
    #[arg(long)]
    allow_private_sources: bool,
    /// TOML settings: trusted_networks, allow_private_sources, never_list, sender_domains.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the events without ingesting them.
    #[arg(long)]
    dry_run: bool,
    /// The time of the events (RFC 3339; default now).
    #[arg(long, value_name = "T", value_parser = super::parse_time)]
    at: Option<Timestamp>,
    /// A message, an mbox, or a directory of messages (`-` or none: standard input).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// The TOML settings file of `--config`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    trusted_networks: Vec<String>,
    #[serde(default)]
    allow_private_sources: bool,
    #[serde(default)]
    never_list: Vec<String>,
    #[serde(default)]
    sender_domains: bool,
}

fn intake_config(a: &ReportArgs) -> Run<IntakeConfig> {
    let file = match &a.config {
        None => FileConfig::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| fail(exit::NOINPUT, format_args!("{}: {e}", p.display())))?;
            toml::from_str(&text)
                .map_err(|e| fail(exit::USAGE, format_args!("{}: {e}", p.display())))?
        }
    };
    let mut trusted = TrustedNetworks::new();
    for (what, t) in file
        .trusted_networks
        .iter()
        .map(|t| ("trusted_networks", t))
        .chain(a.trusted.iter().map(|t| ("--trusted", t)))
    {
        let parsed: TrustedNetworks = t
            .parse()
            .map_err(|e| fail(exit::USAGE, format_args!("{what}: {e}")))?;
        for n in parsed.networks() {
            trusted.add(*n);
        }
    }
    let mut c = IntakeConfig::default().trusted(trusted);
    if a.allow_private_sources || file.allow_private_sources {
        c = c.special_sources(SpecialSources::Allow);
    }
    if file.sender_domains {
        c = c.sender_domains(SenderDomains::Include);
    }
    for d in &file.never_list {
        let d: Domain = d
            .parse()
            .map_err(|e| fail(exit::USAGE, format_args!("never_list {d:?}: {e}")))?;
        c = c.never_list(d);
    }
    Ok(c)
}

/// The messages of the input: one, an mbox's, or a directory's (regular files, by name).
fn messages(file: Option<&Path>) -> Run<Vec<(String, Vec<u8>)>> {
    let read_all = |name: &str, mut r: Box<dyn Read>| -> Run<Vec<u8>> {
        let mut v = Vec::new();
        r.read_to_end(&mut v)
            .map_err(|e| fail(exit::IOERR, format_args!("{name}: {e}")))?;
        Ok(v)
    };
    let (name, bytes) = match file {
        None => ("-".to_string(), read_all("-", Box::new(std::io::stdin()))?),
        Some(p) if p.as_os_str() == "-" => {
            ("-".to_string(), read_all("-", Box::new(std::io::stdin()))?)
        }
        Some(p) if p.is_dir() => {
            let mut paths: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| input_error(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            paths.sort();
            let mut out = Vec::with_capacity(paths.len());
            for q in paths {
                let b = std::fs::read(&q).map_err(|e| input_error(&q, e))?;
                out.push((q.display().to_string(), b));
            }
            return Ok(out);
        }
        Some(p) => (
            p.display().to_string(),
            std::fs::read(p).map_err(|e| input_error(p, e))?,
        ),
    };
    Ok(split_mbox(&name, bytes))
}

/// An mbox (it starts with a `From ` line) split into its messages (`From ` lines after a
/// line end start the next; `>From ` quoting is undone); anything else is one message.
fn split_mbox(name: &str, bytes: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    if !bytes.starts_with(b"From ") {
        return vec![(name.to_string(), bytes)];
    }
    let mut out = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut first = true;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if !first {
                out.push((
                    format!("{name} message {}", out.len() + 1),
                    std::mem::take(&mut cur),
                ));
            }
            first = false;
            continue;
        }
        let unquoted = if line.starts_with(b">")
            && line
                .iter()
                .skip_while(|&&b| b == b'>')
                .take(5)
                .eq(b"From ".iter())
        {
            &line[1..]
        } else {
            line
        };
        cur.extend_from_slice(unquoted);
    }
    if !first {
        out.push((format!("{name} message {}", out.len() + 1), cur));
    }
    out
}

pub(crate) fn report(a: ReportArgs) -> Run {
    let kind = match (&a.reporter, &a.trap, a.arf) {
        (Some(r), _, _) if a.not_spam => ReportKind::ham(r),
        (Some(r), _, _) => ReportKind::spam(r),
        (None, Some(t), _) => ReportKind::trap(t),
        _ => ReportKind::Arf,
    };
    let intake = Intake::new(intake_config(&a)?);
    let now =
        a.at.unwrap_or_else(|| Timestamp::from_system_time(std::time::SystemTime::now()));
    let msgs = messages(a.file.as_deref())?;
    let bar = if msgs.len() > 1 && std::io::stderr().is_terminal() {
        let b =
            ProgressBar::with_draw_target(Some(msgs.len() as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} messages {per_sec} eta {eta}")
        {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let mut events: Vec<Event> = Vec::new();
    let mut bad = 0usize;
    let mut text = String::new();
    for (name, raw) in &msgs {
        bar.inc(1);
        match intake.report(raw, &kind, now) {
            Ok(r) => {
                if let (Some(ip), Some(hop)) = (r.source, r.source_hop) {
                    eprintln!("rblkit: {name}: source {ip} (Received header {})", hop + 1);
                } else if let Some(ip) = r.source {
                    eprintln!("rblkit: {name}: source {ip}");
                }
                for n in &r.notes {
                    eprintln!("rblkit: {name}: {n}");
                }
                for e in &r.events {
                    e.write_line(&mut text);
                    text.push('\n');
                }
                events.extend(r.events);
            }
            Err(e) => {
                bad += 1;
                eprintln!("rblkit: {name}: {e}");
            }
        }
    }
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        return Err(fail(exit::IOERR, format_args!("standard output: {e}")));
    }
    if !a.dry_run {
        // The profile is checked even when nothing is to be ingested, so that a typo is not
        // silently accepted.
        let profile = Profile::get(&a.profile)?;
        if !events.is_empty() {
            let mut store = open(&a.state, &profile)?;
            store.append(&events).map_err(|e| store_error(&e))?;
        }
    }
    Ok(if bad > 0 {
        ExitCode::from(exit::DATAERR)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::split_mbox;

    #[test]
    fn mbox_split() {
        let m = b"From a@b Tue Dec  1 10:00:00 2026\nSubject: 1\n\n>From here\nbody\n\nFrom c@d Tue Dec  1 10:01:00 2026\nSubject: 2\n\nx\n".to_vec();
        let v = split_mbox("box", m);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].1, b"Subject: 1\n\nFrom here\nbody\n\n");
        assert_eq!(v[1].1, b"Subject: 2\n\nx\n");
        assert_eq!(split_mbox("one", b"Subject: x\n\n".to_vec()).len(), 1);
    }
}
