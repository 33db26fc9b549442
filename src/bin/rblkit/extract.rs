//! `rblkit extract`: URLs, hosts, emails and IP addresses from mail.

use clap::{Args as ClapArgs, ValueEnum};
use rblkit::extract::{BareHosts, Extractor, Format, Hit, SuffixList};
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Find URLs, hosts, emails and IP addresses in mail text, HTML or a whole message
///
/// Reads mail text, HTML or a whole MIME message (standard input when no FILE) and prints
/// what it names: URLs (also disguised ones such as hxxp:// and example[.]com, and the
/// targets of redirectors), bare host names, email addresses and IP addresses, each with its
/// host and registrable domain (by the public suffix list).
///
/// Output: tab-separated `kind host registrable_domain url-or-email [flags]` lines, or with
/// --json one JSON object per line.
///
/// Exit status: 0 whether or not anything was found, 65 when the input exceeds a limit
/// (the hits up to the limit are printed), 66 when FILE cannot be read, 74 when reading or
/// writing fails, 78 for a suffix list that does not parse.
#[derive(ClapArgs)]
#[command(verbatim_doc_comment)]
pub(crate) struct Args {
    /// One JSON object per line: kind (url, host, email, ip), url, email, host,
    /// registrable_domain, span, part, flags.
    #[arg(long)]
    json: bool,
    /// What the input is (default: guessed from its start).
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    format: InputFormat,
    /// A public suffix list file to use instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    suffix_list: Option<PathBuf>,
    /// More suffix rules (one a line, such as SURBL's two-level-tlds), added to the list.
    #[arg(long, value_name = "FILE")]
    extra_suffixes: Vec<PathBuf>,
    /// Report only URLs with a scheme, emails and IP addresses, not bare host names.
    #[arg(long)]
    no_bare_hosts: bool,
    /// Print each registrable domain (or IP address) once, in order of first appearance.
    #[arg(long)]
    unique: bool,
    /// The largest input, in bytes (at most 1 GiB).
    #[arg(long, value_name = "BYTES", default_value_t = 64 << 20)]
    max_input_bytes: usize,
    /// How many URLs deep redirectors are unwrapped.
    #[arg(long, value_name = "N", default_value_t = 4)]
    max_redirect_depth: usize,
    /// The input (standard input when absent or `-`).
    file: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum InputFormat {
    Auto,
    Text,
    Html,
    Message,
}

pub(crate) fn run(a: Args) -> ExitCode {
    match go(a) {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, msg)) => {
            eprintln!("rblkit extract: {msg}");
            ExitCode::from(code)
        }
    }
}

/// sysexits: EX_DATAERR, EX_NOINPUT, EX_IOERR, EX_CONFIG.
const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_IOERR: u8 = 74;
const EX_CONFIG: u8 = 78;

fn read_file(p: &PathBuf) -> Result<String, (u8, String)> {
    std::fs::read_to_string(p).map_err(|e| (EX_NOINPUT, format!("{}: {e}", p.display())))
}

fn go(a: Args) -> Result<(), (u8, String)> {
    let mut psl = match &a.suffix_list {
        Some(p) => SuffixList::parse(&read_file(p)?)
            .map_err(|e| (EX_CONFIG, format!("{}: {e}", p.display())))?,
        None => SuffixList::embedded(),
    };
    for p in &a.extra_suffixes {
        psl = psl
            .with_rules(&read_file(p)?)
            .map_err(|e| (EX_CONFIG, format!("{}: {e}", p.display())))?;
    }
    let ex = Extractor::builder()
        .suffix_list(psl)
        .max_input_bytes(a.max_input_bytes)
        .max_redirect_depth(a.max_redirect_depth)
        .bare_hosts(if a.no_bare_hosts {
            BareHosts::Ignore
        } else {
            BareHosts::Find
        })
        .build()
        .map_err(|e| (EX_CONFIG, e.to_string()))?;
    let mut input = Vec::new();
    let limit = a.max_input_bytes as u64 + 1;
    match a.file.as_ref().filter(|p| p.as_os_str() != "-") {
        Some(p) => std::fs::File::open(p)
            .and_then(|f| f.take(limit).read_to_end(&mut input))
            .map_err(|e| (EX_NOINPUT, format!("{}: {e}", p.display())))?,
        None => io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut input)
            .map_err(|e| (EX_IOERR, format!("standard input: {e}")))?,
    };
    let format = match a.format {
        InputFormat::Auto => Format::detect(&input),
        InputFormat::Text => Format::Text,
        InputFormat::Html => Format::Html,
        InputFormat::Message => Format::Message,
    };
    let mut hits = Vec::new();
    let result = ex.extract(&input, format, &mut hits);
    let out = io::stdout();
    let mut w = BufWriter::new(out.lock());
    let mut seen = std::collections::HashSet::new();
    for h in &hits {
        if a.unique && !seen.insert(h.registrable_domain().unwrap_or(h.host()).to_owned()) {
            continue;
        }
        let r = if a.json {
            serde_json::to_writer(&mut w, h)
                .map_err(io::Error::other)
                .and_then(|()| w.write_all(b"\n"))
        } else {
            human(&mut w, h)
        };
        if let Err(e) = r {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err((EX_IOERR, format!("standard output: {e}")));
        }
    }
    if let Err(e) = w.flush() {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err((EX_IOERR, format!("standard output: {e}")));
        }
    }
    // Hits up to a limit are printed; the limit itself is an error of the input.
    result.map_err(|e| (EX_DATAERR, e.to_string()))
}

/// `kind  host  registrable  url-or-email  [flags]`, tab-separated.
fn human(w: &mut impl Write, h: &Hit) -> io::Result<()> {
    write!(
        w,
        "{}\t{}\t{}",
        h.kind(),
        h.host(),
        h.registrable_domain().unwrap_or("-")
    )?;
    if let Some(u) = h.url().or(h.email()) {
        write!(w, "\t{u}")?;
    }
    if !h.flags().is_empty() {
        write!(w, "\t[{}]", h.flags())?;
    }
    writeln!(w)
}
