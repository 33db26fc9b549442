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
    /// Load datasets as rbldnsd does; print counts, warnings (stderr) and exit 0 when clean,
    /// 1 when lines were skipped, 65 on a bad line with --strict, 66 when a file is missing.
    Check(CheckArgs),
    /// Write datasets as rbldnsd files or as RFC 1035 master files (one per zone).
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
    match Zone::load_all(&parsed, load.options()) {
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
