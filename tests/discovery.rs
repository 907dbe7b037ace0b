//! Receivers found by DNS SRV records (transport draft §4.6), answered by
//! Debian's dnsmasq on a loopback port started here; the target names
//! resolve to 127.0.0.1 through the same dnsmasq (they are in no hosts
//! file), and the receivers are `idmefv2 serve` with mutual TLS.
#![cfg(all(feature = "cli", feature = "server"))]

use std::{fs, net::SocketAddr, process::Stdio, time::Duration};

use idmefv2::http::client::{Client, SendError};
use idmefv2_tools::support::{
    self, cli::serve_command_as, dnsmasq, free_port, message, wait_for_port, Guard, Pki,
};

/// `idmefv2 serve` with certificate `NAME`, appending to `NAME.ndjson`.
fn receiver(pki: &Pki, name: &str) -> (Guard, u16) {
    let port = free_port();
    let child = serve_command_as(pki, port, name)
        .arg("--out")
        .arg(pki.path(&format!("{name}.ndjson")))
        .stderr(Stdio::null())
        .spawn()
        .expect("start idmefv2 serve");
    let guard = Guard::new(child);
    wait_for_port(port);
    (guard, port)
}

fn stored(pki: &Pki, name: &str) -> String {
    fs::read_to_string(pki.path(&format!("{name}.ndjson"))).unwrap_or_default()
}

#[test]
fn srv_records_lead_to_the_receiver_with_failover_and_identity_checks() {
    support::require(&["dnsmasq"]);
    let pki = Pki::new();
    // live.failover.test holds the DNS-ID of its name; srv.test's target
    // holds another name but the SRV-ID of the domain.
    pki.server_leaf("live", &["live.failover.test"], &[]);
    pki.server_leaf("by-srv-id", &["elsewhere.example"], &["_idmef.srvid.test"]);
    let (_live, live_port) = receiver(&pki, "live");
    let (_by_srv, srv_port) = receiver(&pki, "by-srv-id");
    let dead_port = free_port();
    let dns_port = free_port();
    let srv = [
        // Priority 10 first: nothing listens there; then 20.
        format!("_idmef._tcp.failover.test,dead.failover.test,{dead_port},10,0"),
        format!("_idmef._tcp.failover.test,live.failover.test,{live_port},20,0"),
        format!("_idmef._tcp.srvid.test,target.srvid.test,{srv_port},0,0"),
        // The same receiver, found for a domain its certificate does not
        // name in any way.
        format!("_idmef._tcp.wrong.test,target.wrong.test,{srv_port},0,0"),
        // A parent has records, the child has none: no walking up.
        format!("_idmef._tcp.parent.test,live.failover.test,{live_port},0,0"),
        // Only the dead target; and a target whose certificate fails
        // before the live one (TLS failures do not fail over).
        format!("_idmef._tcp.down.test,dead.failover.test,{dead_port},0,0"),
        format!("_idmef._tcp.priority.test,target.wrong.test,{srv_port},1,0"),
        format!("_idmef._tcp.priority.test,live.failover.test,{live_port},2,0"),
        // A domain that says it has no such service.
        "_idmef._tcp.nothing.test,.".to_string(),
    ];
    let hosts = [
        "dead.failover.test",
        "live.failover.test",
        "target.srvid.test",
        "target.wrong.test",
    ];
    let _dns = dnsmasq::start(pki.dir.path(), dns_port, &srv, &hosts);
    let nameserver: SocketAddr = ([127, 0, 0, 1], dns_port).into();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let send = |domain: &str| {
        let client = Client::discover(domain)
            .dns_server(nameserver)
            .identity_pem(&pki.read("client.pem"), &pki.read("client.key"))
            .ca_pem(&pki.read("ca.pem"))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let (id, body) = message();
        (
            id,
            runtime.block_on(client.send_bytes(body, "application/json")),
        )
    };

    // Failover: the first target refuses connections, the next is used.
    let (id, outcome) = send("failover.test");
    assert_eq!(outcome, Ok(()));
    assert!(stored(&pki, "live").contains(&id));

    let (_, outcome) = send("down.test");
    assert!(
        matches!(outcome, Err(SendError::Connection { .. })),
        "{outcome:?}"
    );
    // The lower priority is tried first.
    let (_, outcome) = send("priority.test");
    assert!(matches!(outcome, Err(SendError::Tls { .. })), "{outcome:?}");

    // SRV-ID: the target's certificate names another host, but carries
    // _idmef.srvid.test.
    let (id, outcome) = send("srvid.test");
    assert_eq!(outcome, Ok(()));
    assert!(stored(&pki, "by-srv-id").contains(&id));

    // Neither the target's name nor _idmef.wrong.test: refused.
    let (_, outcome) = send("wrong.test");
    assert!(matches!(outcome, Err(SendError::Tls { .. })), "{outcome:?}");

    // No record for the child; the parent's is not used.
    let (_, outcome) = send("child.parent.test");
    match outcome {
        Err(SendError::Discovery { domain, reason }) => {
            assert_eq!(domain, "child.parent.test");
            assert!(
                reason.contains("no SRV record for _idmef._tcp.child.parent.test."),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    let (_, outcome) = send("nothing.test");
    let error = outcome.unwrap_err();
    assert!(
        error.to_string().contains("offers no IDMEFv2 receiver"),
        "{error}"
    );
    assert!(!error.is_permanent());

    // The command line, through the spool.
    let (id, body) = message();
    let out = support::run_bounded(
        support::cli::send_command(&pki)
            .args(["--domain", "failover.test"])
            .args(["--dns-server", &nameserver.to_string()])
            .args(["--ca", &pki.arg("ca.pem")])
            .args(["--spool", &pki.arg("spool"), "-"]),
        Some(&body),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1 accepted, 0 refused, 0 not delivered\n"
    );
    assert!(stored(&pki, "live").contains(&id));
}
