//! `rblkit zone check|export`.

use crate::exit;
use clap::{Args, Subcommand, ValueEnum};
use rblkit::zone::{DatasetSpec, HostBits, LoadOptions, Strictness, Zone, ZoneError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct ZoneArgs {
    #[command(subcommand)]
    command: ZoneCommand,
}

#[derive(Debug, Subcommand)]
enum ZoneCommand {
    /// Load datasets as rbldnsd does and print what they hold.
    ///
    /// Prints one summary per zone and dataset (or, with --json, one JSON object per
    /// dataset); skipped lines are reported on standard error with file, line and column.
    ///
    /// Exit status: 0 when every line loaded, 1 when lines were skipped, 64 for a spec that
    /// does not parse, 65 for a bad line with --strict, 66 when a file cannot be read.
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    /// Write datasets as rbldnsd files or as RFC 1035 master files (one per zone).
    ///
    /// Prints the ZONE:TYPE:FILE spec of each rbldnsd file written (absolute paths), or the
    /// master file of each zone with its record count.
    ///
    /// Exit status: 0 on success, 64 for a bad spec, 65 for a bad line with --strict or data
    /// the format cannot express, 66 when an input cannot be read, 73 when an output cannot
    /// be created.
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),
}

/// How the datasets are read.
#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// Fail on the first bad line instead of warning and skipping it.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Accept CIDR networks with host bits set, clearing them (rbldnsd's -e).
    #[arg(short = 'e', long = "clear-host-bits")]
    pub(crate) clear_host_bits: bool,
}

impl LoadArgs {
    pub(crate) fn options(&self) -> LoadOptions {
        LoadOptions::default()
            .with_strictness(if self.strict {
                Strictness::Strict
            } else {
                Strictness::Lenient
            })
            .with_host_bits(if self.clear_host_bits {
                HostBits::Clear
            } else {
                HostBits::Reject
            })
    }
}

#[derive(Debug, Args)]
struct CheckArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// One JSON object per dataset: zone, type, files, serial, lines, entries, warnings,
    /// ipv4_addresses, ipv4_ranges, ipv6_ranges, domains, listings, memory_bytes.
    #[arg(long)]
    json: bool,
    /// Datasets as ZONE:TYPE:FILE[,FILE...] (rbldnsd's form).
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rbldnsd dataset files, one per dataset.
    Rbldnsd,
    /// RFC 1035 master files for BIND, NSD and Knot, one per zone.
    Bind,
}

#[derive(Debug, Args)]
struct ExportArgs {
    #[command(flatten)]
    load: LoadArgs,
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// Output directory (created when missing).
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    out: PathBuf,
    /// Datasets as ZONE:TYPE:FILE[,FILE...].
    #[arg(required = true, value_name = "SPEC")]
    specs: Vec<String>,
}

/// Parses the specs and loads the zones, printing what goes wrong; `Err` is the exit code.
pub(crate) fn load(specs: &[String], load: &LoadArgs) -> Result<Vec<Zone>, ExitCode> {
    let mut parsed = Vec::with_capacity(specs.len());
    for s in specs {
        match s.parse::<DatasetSpec>() {
            Ok(p) => parsed.push(p),
            Err(e) => {
                eprintln!("rblkit: {e}");
                return Err(ExitCode::from(exit::USAGE));
            }
        }
    }
    let progress = Progress::start(&parsed);
    let loaded = Zone::load_all(&parsed, load.options());
    progress.finish();
    match loaded {
        Ok(z) => Ok(z),
        Err(e @ ZoneError::Io { .. }) => {
            eprintln!("rblkit: {e}");
            Err(ExitCode::from(exit::NOINPUT))
        }
        Err(e) => {
            eprintln!("rblkit: {e}");
            Err(ExitCode::from(exit::DATAERR))
        }
    }
}

/// A spinner on standard error while datasets load, when standard error is a terminal (and
/// nothing otherwise): the files, their size and the time taken.
struct Progress(Option<(indicatif::ProgressBar, std::time::Instant)>);

impl Progress {
    /// Files this large or larger get a spinner.
    const MIN_BYTES: u64 = 1 << 20;

    fn start(specs: &[DatasetSpec]) -> Progress {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let files: Vec<&str> = specs.iter().flat_map(|s| s.files()).map(|f| &**f).collect();
        let bytes: u64 = files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        if bytes < Self::MIN_BYTES {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_message(format!(
            "loading {} file(s), {:.1} MB",
            files.len(),
            bytes as f64 / 1e6
        ));
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Progress(Some((bar, std::time::Instant::now())))
    }

    fn finish(self) {
        if let Some((bar, t)) = self.0 {
            bar.finish_and_clear();
            eprintln!("rblkit: loaded in {:.2} s", t.elapsed().as_secs_f64());
        }
    }
}

/// Prints the warnings of every dataset once; returns how many.
pub(crate) fn print_warnings(zones: &[Zone]) -> usize {
    let mut seen: Vec<*const rblkit::zone::Dataset> = Vec::new();
    let mut n = 0;
    for z in zones {
        for d in z.datasets() {
            let p = std::sync::Arc::as_ptr(d);
            if seen.contains(&p) {
                continue;
            }
            seen.push(p);
            for w in d.warnings() {
                eprintln!("rblkit: warning: {w}");
                n += 1;
            }
        }
    }
    n
}

pub(crate) fn run(args: ZoneArgs) -> ExitCode {
    match args.command {
        ZoneCommand::Check(a) => check(a),
        ZoneCommand::Export(a) => export(a),
    }
}

fn check(a: CheckArgs) -> ExitCode {
    let zones = match load(&a.specs, &a.load) {
        Ok(z) => z,
        Err(code) => return code,
    };
    let warnings = print_warnings(&zones);
    if a.json {
        return check_json(&zones, warnings);
    }
    for z in &zones {
        let serial = z
            .serial()
            .map_or_else(|| "no SOA".to_owned(), |s| format!("serial {s}"));
        println!(
            "zone {}: {} dataset(s), {serial}",
            z.name(),
            z.datasets().len()
        );
        for d in z.datasets() {
            let s = d.list().stats();
            println!(
                "  {}:{}: {} lines, {} entries, {} warnings; {} IPv4 addresses, {} IPv4 ranges, {} IPv6 ranges, {} domains, {} listings, {} bytes",
                d.kind(),
                d.files().join(","),
                d.lines(),
                d.entries(),
                d.warnings().len(),
                s.ipv4_addresses,
                s.ipv4_ranges,
                s.ipv6_ranges,
                s.domains,
                s.listings,
                s.memory_bytes
            );
        }
    }
    if warnings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `zone check --json`: one object per dataset of each zone.
fn check_json(zones: &[Zone], warnings: usize) -> ExitCode {
    use std::io::Write;
    let out = std::io::stdout();
    let mut w = std::io::BufWriter::new(out.lock());
    for z in zones {
        for d in z.datasets() {
            let s = d.list().stats();
            let v = serde_json::json!({
                "zone": z.name().as_str(),
                "type": d.kind().name(),
                "files": d.files(),
                "serial": z.serial(),
                "lines": d.lines(),
                "entries": d.entries(),
                "warnings": d.warnings().len(),
                "ipv4_addresses": s.ipv4_addresses,
                "ipv4_ranges": s.ipv4_ranges,
                "ipv6_ranges": s.ipv6_ranges,
                "domains": s.domains,
                "listings": s.listings,
                "memory_bytes": s.memory_bytes,
            });
            if writeln!(w, "{v}").is_err() {
                return ExitCode::from(exit::IOERR);
            }
        }
    }
    if w.flush().is_err() {
        return ExitCode::from(exit::IOERR);
    }
    if warnings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn create(path: &Path) -> Result<std::fs::File, ExitCode> {
    std::fs::File::create(path).map_err(|e| {
        eprintln!("rblkit: {}: {e}", path.display());
        ExitCode::from(exit::CANTCREAT)
    })
}

fn export(a: ExportArgs) -> ExitCode {
    let zones = match load(&a.specs, &a.load) {
        Ok(z) => z,
        Err(code) => return code,
    };
    print_warnings(&zones);
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("rblkit: {}: {e}", a.out.display());
        return ExitCode::from(exit::CANTCREAT);
    }
    let out = std::fs::canonicalize(&a.out).unwrap_or_else(|_| a.out.clone());
    for z in &zones {
        match a.format {
            Format::Rbldnsd => {
                for (i, d) in z.datasets().iter().enumerate() {
                    let path = out.join(format!("{}.{}.{i}", z.name(), d.kind()));
                    let mut f = match create(&path) {
                        Ok(f) => f,
                        Err(c) => return c,
                    };
                    if let Err(e) = d.write_rbldnsd(&mut f) {
                        eprintln!("rblkit: {}: {e}", path.display());
                        return ExitCode::from(exit::DATAERR);
                    }
                    println!("{}:{}:{}", z.name(), d.kind(), path.display());
                }
            }
            Format::Bind => {
                let path = out.join(format!("{}.zone", z.name()));
                let mut f = match create(&path) {
                    Ok(f) => f,
                    Err(c) => return c,
                };
                match z.write_master(&mut f) {
                    Ok(report) => {
                        if let Some(w) = report.warning() {
                            eprintln!("rblkit: warning: {}: {w}", path.display());
                        }
                        println!(
                            "{} {} ({} records)",
                            z.name(),
                            path.display(),
                            report.records
                        );
                    }
                    Err(e) => {
                        eprintln!("rblkit: {}: {e}", path.display());
                        return ExitCode::from(exit::DATAERR);
                    }
                }
            }
        }
    }
    ExitCode::SUCCESS
}
