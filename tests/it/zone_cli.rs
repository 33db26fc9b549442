//! The `rblkit zone check|export` and `rblkit lookup` commands (feature `cli`).

use super::zone_tools::TempDir;
use std::process::{Command, Output};

fn rblkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rblkit"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn zone_check_counts_warns_and_exits() {
    let dir = TempDir::new("cli-check");
    let good = dir.write("good.txt", b"$SOA 1h ns.example.net. h.example.net. 42 1h 1h 1d 1h\n:2:Listed $\n192.0.2.0/24\n!192.0.2.1\n");
    let bad = dir.write("bad.txt", b"192.0.2.1\n192.0.2.300\n");
    let spec = format!("bl.example:ip4set:{good}");
    let o = rblkit(&["zone", "check", &spec]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("zone bl.example: 1 dataset(s), serial 42"),
        "{out}"
    );
    assert!(out.contains("4 lines, 2 entries, 0 warnings"), "{out}");

    let spec_bad = format!("bl.example:ip4set:{bad}");
    let o = rblkit(&["zone", "check", &spec_bad]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!(
            "{bad}:2:1: invalid address \"192.0.2.300\": octet above 255"
        )),
        "{err}"
    );
    assert!(text(&o.stdout).contains("1 entries, 1 warnings"));

    let o = rblkit(&["zone", "check", "--strict", &spec_bad]);
    assert_eq!(o.status.code(), Some(65));
    let o = rblkit(&[
        "zone",
        "check",
        &format!("bl.example:ip4set:{}/missing.txt", dir.0.display()),
    ]);
    assert_eq!(o.status.code(), Some(66));
    let o = rblkit(&["zone", "check", "bl.example:nosuchtype:x"]);
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn zone_export_and_lookup() {
    let dir = TempDir::new("cli-export");
    let ip = dir.write("ip.txt", b"$NS 1h ns.example.net.\n$1 https://bl.example/\n:2:see $1$\n10.0.0.0/8\n!10.1.0.0/16\n10.1.2.3 :4:trap hit\n");
    let dn = dir.write("dn.txt", b"*.spam.example :3:domain $ \"listed\"\n");
    let specs = [
        format!("bl.example:ip4set:{ip}"),
        format!("bl.example:dnset:{dn}"),
    ];
    let out = dir.0.join("out");
    let out_s = out.to_str().unwrap();
    let o = rblkit(&[
        "zone", "export", "--format", "rbldnsd", "-o", out_s, &specs[0], &specs[1],
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let written: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(written.len(), 2);
    // the written specs load cleanly and answer the same
    let mut args = vec!["lookup"];
    args.extend(written.iter().map(String::as_str));
    args.extend([
        "--",
        "10.9.9.9",
        "10.1.9.9",
        "10.1.2.3",
        "www.spam.example",
        "4.3.2.1.bl.example",
        "spam.example",
    ]);
    let o = rblkit(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines: Vec<String> = text(&o.stdout).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "9.9.9.10.bl.example: listed 127.0.0.2 \"see https://bl.example/10.9.9.9\"",
            "9.9.1.10.bl.example: NXDOMAIN",
            "3.2.1.10.bl.example: listed 127.0.0.4 \"trap hit\"",
            "www.spam.example.bl.example: listed 127.0.0.3 \"domain spam.example \\\"listed\\\"\"",
            "4.3.2.1.bl.example: NXDOMAIN",
            "spam.example.bl.example: NXDOMAIN",
        ]
    );
    let o = rblkit(&["lookup", &specs[0], "--", "192.0.2.1"]);
    assert_eq!(o.status.code(), Some(1));

    let o = rblkit(&[
        "zone", "export", "--format", "bind", "-o", out_s, &specs[0], &specs[1],
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let zone = std::fs::read_to_string(out.join("bl.example.zone")).unwrap();
    assert!(zone.contains("*.10 2100 IN A 127.0.0.2\n"), "{zone}");
    // 10.1/16 is excluded: the name 3.2.1.10 makes 1.10 exist, so `*.10` stops there
    assert!(
        !zone.contains("1.10 2100 IN CNAME") && !zone.contains("*.1.10"),
        "{zone}"
    );
    assert!(
        zone.contains("3.2.1.10 2100 IN TXT \"trap hit\"\n"),
        "{zone}"
    );
    assert!(
        zone.contains("*.spam.example 2100 IN TXT \"domain spam.example \\\"listed\\\"\"\n"),
        "{zone}"
    );
    // no $SOA: placeholders, and a warning that says so
    assert!(
        text(&o.stderr).contains("placeholder SOA"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn json_output_of_check_and_lookup() {
    let bl = concat!(env!("CARGO_MANIFEST_DIR"), "/data/sample/bl.ip4set");
    let spec = format!("bl.example:ip4set:{bl}");
    let o = rblkit(&["zone", "check", "--json", &spec]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(text(&o.stdout).trim()).unwrap();
    assert_eq!(v["zone"], "bl.example");
    assert_eq!(v["type"], "ip4set");
    assert_eq!(v["files"][0], bl);
    assert_eq!(
        (v["lines"].as_u64(), v["entries"].as_u64()),
        (Some(9), Some(5))
    );
    assert_eq!(v["warnings"], 0);
    assert_eq!(v["ipv4_addresses"], 3); // two listed, one excluded

    let o = rblkit(&[
        "lookup",
        "--json",
        &spec,
        "--",
        "198.51.100.23",
        "198.51.100.25",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let lines: Vec<serde_json::Value> = text(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["qname"], "23.100.51.198.bl.example");
    assert_eq!(lines[0]["listed"], true);
    assert_eq!(lines[0]["codes"][0], "127.0.0.2");
    assert_eq!(
        lines[0]["txt"][0],
        "Listed: see https://bl.example/lookup?q=198.51.100.23"
    );
    assert_eq!(
        (
            lines[1]["listed"].as_bool(),
            lines[1]["codes"].as_array().map(Vec::len)
        ),
        (Some(false), Some(0))
    );
    let o = rblkit(&["lookup", "--json", &spec, "--", "198.51.100.25"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn help_lists_exit_statuses_and_usage_errors_exit_64() {
    let o = rblkit(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = text(&o.stdout);
    for line in [
        "Exit status:",
        "  64  usage:",
        "  66  an input file cannot be read",
    ] {
        assert!(help.contains(line), "{help}");
    }
    let o = rblkit(&["lookup", "--help"]);
    assert!(text(&o.stdout).contains("Exit status: 0 when something is listed, 1 when nothing is"));
    let o = rblkit(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(text(&o.stderr).contains("unrecognized subcommand"));
    let o = rblkit(&["zone", "check", "--no-such-flag", "x"]);
    assert_eq!(o.status.code(), Some(64));
    // not a terminal: no progress output, only data on stdout
    let spec = concat!(
        "bl.example:ip4set:",
        env!("CARGO_MANIFEST_DIR"),
        "/data/sample/bl.ip4set"
    );
    let o = rblkit(&["zone", "check", spec]);
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
}
