//! IDMEF criteria: every operator on typed and untyped messages and on
//! every older draft; `!c` holds exactly where `c` does not; refusals say
//! where; the `idmefv2 filter` command.
#![cfg(feature = "criteria")]

use idmefv2::{criteria::Criteria, Message};
use idmefv2_tools::gen::{self, Generator, Rng};
use proptest::prelude::*;
use serde_json::{json, Value};

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    idmefv2_tools::fixtures::read(dir)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no fixture {dir}/{name}"))
        .1
}

/// Runs `text` every way the library offers on one message and checks
/// that they agree with `expected`.
fn agree(bytes: &[u8], text: &str, expected: bool) {
    let criteria = Criteria::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let value: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(criteria.matches_value(&value), expected, "value: {text}");
    assert_eq!(
        criteria.matches_json(bytes).unwrap(),
        expected,
        "json: {text}"
    );
    if let Ok(message) = Message::from_slice(bytes) {
        assert_eq!(criteria.matches(&message), expected, "typed: {text}");
    }
    let negated = Criteria::parse(&format!("!({text})")).unwrap();
    assert_eq!(negated.matches_value(&value), !expected, "negated: {text}");
}

#[test]
fn every_operator_on_a_typed_message() {
    let bytes = fixture("valid", "ids-ssh-bruteforce-tcp.json");
    assert!(Message::from_slice(&bytes).is_ok());
    let table: &[(&str, bool)] = &[
        // == and =, !=, =*, !=* (a value list by its JSON text)
        ("Priority == Medium", true),
        ("Priority = Medium", true),
        ("Priority == medium", false),
        ("Priority != Medium", false),
        ("Priority != High", true),
        ("Priority =* medium", true),
        ("Priority !=* MEDIUM", false),
        ("Priority == (High || Medium)", true),
        ("Category == (Recon.Scanning || Access.Forced)", true),
        ("Analyzer.Category(-1) == NET.NIDS", true),
        ("Analyzer.Data(*) == Connection", true),
        ("Analyzer.Data == Connection", false),
        // ~, ~*, !~, !~*
        (r#"Description ~ "^Repeated SSH""#, true),
        (r#"Description ~ "^repeated""#, false),
        (r#"Description ~* "^repeated""#, true),
        (r#"Description !~ "bastion$""#, false),
        (r#"Description !~* "BASTION$""#, false),
        (r#"Description ~ "p\w+d fail""#, true),
        // <>, <>*, !<>
        (r#"Description <> "SSH password""#, true),
        (r#"Description <> "ssh password""#, false),
        (r#"Description <>* "ssh password""#, true),
        ("Description !<> telnet", true),
        ("Description !<> SSH", false),
        // <, <=, >, >= on numbers
        ("Confidence > 0.8", true),
        ("Confidence >= 0.85", true),
        ("Confidence < 0.85", false),
        ("Confidence <= 0.850", true),
        ("Confidence == 0.85", true),
        ("Confidence == 1", false),
        ("Source(0).Port(*) == 40188", true),
        ("Source.Port(-1) == 40201", true),
        ("Source.Port == 40188", false),
        ("Source.Port(-4) == 40122", false),
        ("Target(*).Port(*) < 1024", true),
        ("Target(*).Port(*) > 1024", false),
        ("Source(*).Port(*) == (22 || 80 || 40201)", true),
        // on timestamps, by instant
        ("CreateTime > 2025-05-19T22:41:07Z", true),
        ("CreateTime == 2025-05-20T00:41:08+02:00", true),
        ("CreateTime == '2025-05-19T22:41:08.000Z'", true),
        ("CreateTime < 2025-05-19T22:41:08.001Z", true),
        ("CreateTime <= 2025-05-19T18:41:08-04:00", true),
        ("CreateTime >= 2025-05-19T22:41:08.000000001Z", false),
        ("CreateTime == 2025-05-19T22:41:08", false),
        ("EndTime < 2030-01-01T00:00:00Z", false),
        // UUIDs by value, addresses by address, `in`
        ("ID == 7EC4ADC2-7B0E-5846-AFA6-F15CC0E6F2CB", true),
        ("ID ~ ^7ec4", true),
        ("Source(*).IP in 198.51.100.0/24", true),
        ("Source(*).IP in (10.0.0.0/8 || 192.168.0.0/16)", false),
        ("Target(*).IP in 10.0.0.0/8", true),
        ("Analyzer.IP in 10.20.0.5", true),
        ("Analyzer.IP in 10.20.0.4/31", true),
        ("Analyzer.IP in 10.20.0.6/31", false),
        ("Analyzer.IP in ::/0", false),
        ("Analyzer.IP in 0.0.0.0/0", true),
        ("Analyzer.IP == 10.20.0.5", true),
        ("Analyzer.IP == ::ffff:10.20.0.5", true),
        ("Analyzer.IP ~ ^10\\.", true),
        // existence, and combinations
        ("Attachment(*).Name", false),
        ("!Attachment(*).Name", true),
        ("Target.Service", true),
        ("StartTime && !EndTime", true),
        (
            "Priority == Medium && (Source(*).IP in 10.0.0.0/8 || Target(*).IP in 10.0.0.0/8)",
            true,
        ),
        (
            "Priority == High || Confidence > 0.9 || Cause == Malicious",
            true,
        ),
        ("!(Priority == High) && !!Cause", true),
        (
            "Priority == High || Confidence > 0.9 && Cause == Malicious",
            false,
        ),
    ];
    for &(text, expected) in table {
        agree(&bytes, text, expected);
    }
}

#[test]
fn timestamps_the_calendar_lacks_compare_without_panic() {
    let leap = fixture("valid", "timestamp-leap-second.json");
    agree(&leap, "CreateTime > 2016-12-31T23:59:59.999Z", true);
    agree(&leap, "CreateTime < 2017-01-01T00:00:00Z", true);
    agree(&leap, "CreateTime == 2016-12-31T23:59:60Z", true);
    agree(&leap, "EndTime > 2016-12-31T23:59:60Z", true);
    agree(&leap, "EndTime < 2016-12-31T23:59:60.5Z", true);
    // 31 February: as many days on as it says, yet equal to itself only.
    let feb = serde_json::to_vec(&json!({
        "Version": "2.D.V08", "ID": "5bafa1ea-3472-5b01-afa0-afafdfc208c2",
        "CreateTime": "2026-02-31T00:00:00Z", "Analyzer": {"Name": "x"},
    }))
    .unwrap();
    agree(&feb, "CreateTime == 2026-02-31T00:00:00Z", true);
    agree(&feb, "CreateTime == 2026-03-03T00:00:00Z", false);
    agree(&feb, "CreateTime > 2026-03-02T23:59:59Z", true);
    agree(&feb, "CreateTime < 2026-03-03T00:00:01Z", true);
    agree(&feb, "CreateTime > 2026-00-10T00:00:00Z", true);
}

#[test]
fn untyped_values_of_the_wrong_type_match_nothing() {
    let odd = serde_json::to_vec(&json!({
        "Version": "2.D.V08", "Priority": 3, "Confidence": "high", "CreateTime": "soon",
        "ID": "not-a-uuid", "Source": {"IP": 7}, "Target": [7, null, {"IP": null}],
        "Description": ["a", "list"], "Category": "Recon.Scanning",
    }))
    .unwrap();
    for text in [
        "Priority == 3",
        "Priority ~ 3",
        "Confidence > 0",
        "Confidence == 0.5",
        "CreateTime < 2999-01-01T00:00:00Z",
        "ID == 5bafa1ea-3472-5b01-afa0-afafdfc208c2",
        "Source(*).IP in 0.0.0.0/0",
        "Target(*).IP",
        "Description <> a",
    ] {
        agree(&odd, text, false);
    }
    // A single value where a list belongs counts as a list of one.
    agree(&odd, "Category(*) == Recon.Scanning", true);
    agree(&odd, "Category == Recon.Scanning", true);
    // Not an object at all.
    let criteria = Criteria::parse("Priority").unwrap();
    assert!(!criteria.matches_value(&json!([1, 2])));
    assert!(criteria.matches_json(b"[1, 2]").is_err());
    assert!(criteria.matches_json(b"{\"Priority\": ").is_err());
    assert!(criteria.matches_json(b"{} {}").is_err());
}

#[test]
fn every_older_draft() {
    let drafts = idmefv2_tools::fixtures::read("drafts/valid");
    assert!(drafts.len() >= 6);
    for (name, bytes) in drafts {
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
        let version = text("/Version").unwrap();
        let id = text("/ID").unwrap();
        agree(&bytes, &format!("Version == '{version}'"), true);
        agree(
            &bytes,
            &format!("Version =* '{}'", version.to_lowercase()),
            true,
        );
        agree(&bytes, "Version ~ '^2\\.D\\.V0'", true);
        agree(&bytes, &format!("Version <> '{}'", &version[..4]), true);
        agree(&bytes, &format!("ID == {}", id.to_uppercase()), true);
        agree(&bytes, &format!("ID != {id}"), false);
        if let Some(time) = text("/CreateTime") {
            agree(&bytes, &format!("CreateTime == '{time}'"), true);
            agree(
                &bytes,
                &format!("CreateTime >= '{time}' && CreateTime <= '{time}'"),
                true,
            );
            agree(
                &bytes,
                &format!("CreateTime < '{time}' || CreateTime > '{time}'"),
                false,
            );
        }
        if let Some(analyzer) = text("/Analyzer/Name") {
            agree(&bytes, &format!("Analyzer.Name == '{analyzer}'"), true);
            agree(
                &bytes,
                &format!("Analyzer.Name =* '{}'", analyzer.to_uppercase()),
                true,
            );
        }
        if let Some(ip) = text("/Analyzer/IP").filter(|ip| ip.parse::<std::net::IpAddr>().is_ok()) {
            agree(
                &bytes,
                &format!("Analyzer.IP == {ip} && Analyzer.IP in {ip}"),
                true,
            );
        }
        if let Some(confidence) = value.pointer("/Confidence").and_then(Value::as_f64) {
            agree(&bytes, &format!("Confidence <= {confidence}"), true);
            agree(&bytes, &format!("Confidence > {confidence}"), false);
        }
        agree(&bytes, "Attachment(*).Name ~ zzz", false);
        eprintln!("{name}: checked");
    }
}

#[test]
fn refusals_say_where_and_why() {
    let table: &[(&str, usize, &str)] = &[
        ("Priority == High && Source(*).Prot == 22", 20, "`Port`"),
        ("Analyzr.Name == x", 0, "`Analyzer`"),
        ("Analyzer(0).Name", 0, "not a list"),
        ("Source", 0, "is a class"),
        ("Confidence ~ x", 11, "a number"),
        ("Confidence =* x", 11, "a number"),
        ("Description < x", 12, "no order"),
        ("Priority >= High", 9, "no order"),
        ("Description in 10.0.0.0/8", 12, "`in`"),
        ("Source.IP in 10.0.0.0/33", 13, "0 to 32"),
        ("Source.IP in 2001:db8::/129", 13, "0 to 128"),
        ("Source.IP in example.org", 13, "address block"),
        ("Source.IP == 300.1.1.1", 13, "an IP address"),
        ("Confidence == high", 14, "a number"),
        ("Confidence == NaN", 14, "a number"),
        ("CreateTime > yesterday", 13, "a timestamp"),
        ("ID == not-a-uuid", 6, "a UUID"),
        (r#"Description ~ "a(b""#, 14, "regular expression"),
        (r#"Description ~ (x || "[z")"#, 20, "regular expression"),
        ("Priority == (High || ", 21, "expected a value"),
        ("(Priority == High", 0, "never closed"),
        ("Priority == High)", 16, "closes no"),
        ("Priority High", 9, "expected"),
        ("Priority == 'High", 12, "never closed"),
        ("Source(x).IP", 7, "index"),
        ("", 0, "empty"),
        ("&& Priority", 0, "expected a path"),
    ];
    for &(text, position, reason) in table {
        let error = Criteria::parse(text).map(|_| ()).unwrap_err();
        assert_eq!(error.position(), position, "{text}: {error}");
        assert!(error.reason().contains(reason), "{text}: {error}");
        assert!(error.to_string().contains(&format!("byte {position}")));
    }
    // The text given is never repeated.
    let error = Criteria::parse("Source(*).Secret_Name == 1").unwrap_err();
    assert!(!error.to_string().contains("Secret"), "{error}");
}

/// Criteria drawn from pieces that use every operator.
fn criterion() -> impl Strategy<Value = String> {
    const ATOMS: &[&str] = &[
        "Priority == High",
        "Priority =* low",
        "Priority !=* medium",
        "Description ~* a",
        "Description !~ ^[A-M]",
        "Description <> e",
        "Description <>* E",
        "Description !<> o",
        "Confidence > 0.5",
        "Confidence <= 0.25",
        "CreateTime < 2020-01-01T00:00:00Z",
        "CreateTime >= 2010-06-01T12:00:00+02:00",
        "Source(*).IP in 10.0.0.0/8",
        "Source(*).IP in (::/1 || 128.0.0.0/1)",
        "Target(-1).Port(*) >= 1024",
        "Source(0).Port(-1) != 80",
        "Analyzer.Category(*) =* net.nids",
        "Attachment(*).Name",
        "Category(*) ~ ^Recon",
        "ID != 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "Analyzer.Name",
        "Status(*) == (Event || Incident)",
    ];
    let atom = proptest::sample::select(ATOMS).prop_map(str::to_string);
    atom.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|c| format!("!{c}")),
            inner.clone().prop_map(|c| format!("({c})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) || ({b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn negation_is_the_complement(text in criterion(), seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let mut generators = Generator::all();
        let which = rng.below(generators.len());
        let message = generators[which].message(&mut rng);
        // The generator's value holds markers for raw JSON text; the
        // message is what it renders.
        let bytes = gen::render(&message.value, &mut rng);
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let c = Criteria::parse(&text).unwrap();
        let not_c = Criteria::parse(&format!("!({text})")).unwrap();
        let holds = c.matches_value(&value);
        prop_assert_eq!(not_c.matches_value(&value), !holds);
        prop_assert_eq!(c.matches_json(&bytes).unwrap(), holds);
        if let Ok(typed) = Message::from_slice(&bytes) {
            prop_assert_eq!(c.matches(&typed), holds);
        }
    }

    #[test]
    fn no_text_makes_the_parser_panic(text in "[ -~]{0,40}") {
        let _ = Criteria::parse(&text);
    }
}

/// `idmefv2 filter`, and `--where` on `serve` and `send`.
#[cfg(feature = "cli")]
mod cli {
    use std::{fs, process::Command, time::Duration};

    use idmefv2_tools::support::{self, pki::Pki};

    fn one_line(dir: &str, name: &str) -> String {
        // Line breaks between tokens become spaces: still the fixture's
        // JSON, in bytes no encoder would write.
        String::from_utf8(super::fixture(dir, name))
            .unwrap()
            .replace('\n', " ")
    }

    fn filter(args: &[&str], stdin: Option<&[u8]>) -> (i32, String, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_idmefv2"));
        command.arg("filter").args(args);
        let out = support::run_bounded(&mut command, stdin, Duration::from_secs(60));
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    #[test]
    fn filter_writes_matching_messages_unchanged() {
        let medium = one_line("valid", "ids-ssh-bruteforce-tcp.json");
        let minimal = one_line("valid", "minimal.json");
        let older = one_line("drafts/valid", "v04-converter.json");
        let invalid = one_line("invalid", "pattern-id-not-uuid.json");
        let input = format!("{medium}\n\n{minimal}\r\n{older}\n{invalid}\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("in.ndjson");
        fs::write(&file, &input).unwrap();
        let file = file.to_str().unwrap();

        let (code, out, err) = filter(&["Priority == Medium", file], None);
        assert_eq!(code, 1, "{err}");
        assert_eq!(out, format!("{medium}\n{older}\n"));
        assert!(
            err.starts_with(&format!("{file}:5: /ID: not a UUID")),
            "{err}"
        );

        let (code, out, _) = filter(&["--invert", "Priority == Medium", file], None);
        assert_eq!(code, 1);
        assert_eq!(out, format!("{minimal}\n"));

        let (code, out, _) = filter(&["--count", "Priority == Medium", file], None);
        assert_eq!((code, out.as_str()), (1, "2\n"));
        let (_, out, _) = filter(&["--count", "--invert", "Priority", file], None);
        assert_eq!(out, "1\n");

        // Standard input; every message valid: exit 0, also with none
        // selected.
        let valid = format!("{medium}\n{older}\n");
        let (code, out, _) = filter(&["Source(*).IP in 198.51.100.0/24"], Some(valid.as_bytes()));
        assert_eq!((code, out), (0, format!("{medium}\n")));
        let (code, out, _) = filter(&["--count", "Priority == High"], Some(valid.as_bytes()));
        assert_eq!((code, out.as_str()), (0, "0\n"));

        // Too large for --max-bytes: reported, not written.
        let (code, out, err) = filter(&["--max-bytes", "100", "Priority"], Some(valid.as_bytes()));
        assert_eq!((code, out.as_str()), (1, ""));
        assert!(err.contains("exceeds the limit of 100 bytes"), "{err}");
    }

    #[test]
    fn a_criterion_that_does_not_compile_is_refused_with_its_place() {
        let (code, out, err) = filter(&["Priority == High && Source(*).Prot == 22"], Some(b""));
        assert_eq!((code, out.as_str()), (2, ""));
        assert!(err.contains("byte 20:"), "{err}");
        assert!(err.contains("`Port`"), "{err}");
        assert!(err.contains(&format!("\n  {}^", " ".repeat(20))), "{err}");
        for sub in ["serve", "send", "consume"] {
            let out = support::run_bounded(
                Command::new(env!("CARGO_BIN_EXE_idmefv2")).args([
                    sub,
                    "--where",
                    "Confidence ~ x",
                ]),
                None,
                Duration::from_secs(10),
            );
            assert_eq!(out.status.code(), Some(2), "{sub}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("byte 11"),
                "{sub}"
            );
        }
    }

    #[test]
    fn consume_acknowledges_and_passes_over_what_does_not_match() {
        support::require(&["nats-server"]);
        let servers = support::nats::Servers::single();
        let to = format!("{}/where", servers.url());
        let lines = [
            one_line("valid", "ids-ssh-bruteforce-tcp.json"),
            one_line("valid", "minimal.json"),
            one_line("valid", "ddos-volumetric-udp.json"),
        ]
        .join("\n");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("alerts.ndjson");
        fs::write(&file, lines).unwrap();
        let run = |args: &[&str]| {
            let out = support::run_bounded(
                Command::new(env!("CARGO_BIN_EXE_idmefv2")).args(args),
                None,
                Duration::from_secs(60),
            );
            (
                out.status.code().unwrap(),
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        };
        let (code, _, err) = run(&["publish", "--ndjson", "--to", &to, file.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        let consume = || {
            run(&[
                "consume",
                "--from",
                &to,
                "--durable",
                "d",
                "--idle-timeout",
                "1",
                "--where",
                "Priority == (Medium || High)",
            ])
        };
        let (code, out, err) = consume();
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(!out.contains("lab-probe"), "{out}");
        assert!(
            err.contains("1 alerts did not match --where (acknowledged and not written)"),
            "{err}"
        );
        // Everything was acknowledged: nothing comes again.
        let (code, out, err) = consume();
        assert_eq!((code, out.as_str()), (0, ""), "{err}");
        assert!(err.contains("0 alerts did not match --where"), "{err}");
    }

    #[test]
    fn serve_and_send_pass_over_what_does_not_match() {
        let pki = Pki::new();
        let stored = pki.arg("alerts.ndjson");
        let (mut serve, port) = support::cli::serve(
            &pki,
            &["--out", &stored, "--where", "Priority == Medium"],
            true,
        );
        let files = [
            "fixtures/valid/ids-ssh-bruteforce-tcp.json",
            "fixtures/valid/minimal.json",
            "fixtures/drafts/valid/v04-converter.json",
        ];
        let send = |extra: &[&str]| {
            support::run_bounded(
                support::cli::send_to(&pki, port)
                    .args(["--ca", &pki.arg("ca.pem")])
                    .args(extra)
                    .args(files),
                None,
                Duration::from_secs(60),
            )
        };
        // All three sent and acknowledged; the receiver keeps two.
        let out = send(&[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout)
            .ends_with("3 accepted, 0 refused, 0 not delivered\n"));
        // The sender's own --where: only the one message without a
        // Priority leaves.
        let out = send(&["--where", "!Priority"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout)
            .ends_with("1 accepted, 0 refused, 0 not delivered\n"));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("2 alerts did not match --where (not sent)"),
            "{err}"
        );

        serve.terminate(Duration::from_secs(30));
        let log = serve.stderr();
        assert!(
            log.contains("2 alerts did not match --where (acknowledged and not stored)"),
            "{log}"
        );
        // Each one left out says so in its request-log line.
        let unmatched = log
            .lines()
            .filter(|l| l.contains(" POST / 204 ") && l.ends_with(" unmatched"))
            .count();
        assert_eq!(unmatched, 2, "{log}");
        let kept = fs::read_to_string(pki.path("alerts.ndjson")).unwrap();
        assert_eq!(kept.lines().count(), 2, "{kept}");
        assert!(kept.lines().all(|l| l.contains("\"Medium\"")), "{kept}");
    }
}
