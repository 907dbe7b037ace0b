//! The test PKI: a CA, server and client certificates (and some that must
//! be refused), made with rcgen on the spot.

use std::{fs, path::PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Every certificate the tests need, as PEM files in a temporary folder:
///
/// | name | issuer | names |
/// |---|---|---|
/// | `ca` | itself | CA |
/// | `server` | `ca` | DNS `localhost`, IP `127.0.0.1` |
/// | `client` | `ca` | DNS `sensor.test` |
/// | `client2` | `ca` | DNS `other.test` |
/// | `other-ca` | itself | CA nobody trusts |
/// | `other-client` | `other-ca` | DNS `sensor.test` |
/// | `other-server` | `other-ca` | DNS `localhost` |
/// | `wildcard-server` | `ca` | DNS `localhost`, `*.localhost` |
/// | `wildcard-client` | `ca` | DNS `sensor.test`, `*.sensor.test` |
/// | `cn-server` | `ca` | CN `localhost` only |
/// | `cn-client` | `ca` | CN `sensor.test` only |
///
/// [`expired_leaf`](Pki::expired_leaf) and [`v1_leaf`](Pki::v1_leaf) add
/// certificates that are expired or of X.509 version 1.
///
/// Each `NAME` has `NAME.pem` (certificate) and `NAME.key` (private key).
pub struct Pki {
    /// The folder of the PEM files, removed when dropped.
    pub dir: tempfile::TempDir,
    ca: Option<Issuer>,
}

struct Issuer {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Pki {
    /// The folder is under Cargo's `target/tmp` ([`super::target_tmp`]),
    /// on the build's disk (not a tmpfs `/tmp`), so that the file sink's
    /// syncs are real.
    // No `Default`: making eleven certificates is work a caller should see.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Pki {
        let dir = tempfile::tempdir_in(super::target_tmp()).expect("temporary folder");
        let mut pki = Pki { dir, ca: None };
        let ca = pki.ca("ca", "IDMEFv2 test CA");
        let other = pki.ca("other-ca", "Untrusted test CA");
        let server = ExtendedKeyUsagePurpose::ServerAuth;
        let client = ExtendedKeyUsagePurpose::ClientAuth;
        pki.leaf(
            "server",
            &ca,
            &["localhost", "127.0.0.1"],
            None,
            server.clone(),
        );
        pki.leaf("client", &ca, &["sensor.test"], None, client.clone());
        pki.leaf("client2", &ca, &["other.test"], None, client.clone());
        pki.leaf(
            "other-client",
            &other,
            &["sensor.test"],
            None,
            client.clone(),
        );
        pki.leaf("other-server", &other, &["localhost"], None, server.clone());
        pki.leaf(
            "wildcard-server",
            &ca,
            &["localhost", "*.localhost"],
            None,
            server.clone(),
        );
        pki.leaf(
            "wildcard-client",
            &ca,
            &["sensor.test", "*.sensor.test"],
            None,
            client.clone(),
        );
        pki.leaf("cn-server", &ca, &[], Some("localhost"), server);
        pki.leaf("cn-client", &ca, &[], Some("sensor.test"), client);
        pki.ca = Some(ca);
        pki
    }

    fn write(&self, name: &str, cert: &rcgen::Certificate, key: &KeyPair) {
        fs::write(self.path(&format!("{name}.pem")), cert.pem()).expect("write certificate");
        fs::write(self.path(&format!("{name}.key")), key.serialize_pem()).expect("write key");
    }

    fn ca(&self, name: &str, common_name: &str) -> Issuer {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).expect("CA certificate");
        self.write(name, &cert, &key);
        Issuer { cert, key }
    }

    fn leaf(
        &self,
        name: &str,
        issuer: &Issuer,
        names: &[&str],
        common_name: Option<&str>,
        usage: ExtendedKeyUsagePurpose,
    ) {
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        let mut dn = DistinguishedName::new();
        if let Some(cn) = common_name {
            dn.push(DnType::CommonName, cn);
        }
        params.distinguished_name = dn;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        let cert = params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf certificate");
        self.write(name, &cert, &key);
    }

    /// One more server certificate from the test CA, `NAME.pem` and
    /// `NAME.key`, naming `dns_ids` (DNS-IDs) and `srv_ids` (RFC 4985
    /// SRV-IDs such as `_idmef.example.test`, written by hand since rcgen
    /// only makes UTF8String other names).
    pub fn server_leaf(&self, name: &str, dns_ids: &[&str], srv_ids: &[&str]) {
        fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
            let mut out = vec![tag];
            let length = content.len();
            if length < 0x80 {
                out.push(length as u8);
            } else {
                out.extend([0x82, (length >> 8) as u8, length as u8]);
            }
            out.extend_from_slice(content);
            out
        }
        let issuer = self.ca.as_ref().expect("the test CA");
        let mut names = Vec::new();
        for dns in dns_ids {
            names.extend(tlv(0x82, dns.as_bytes()));
        }
        for srv in srv_ids {
            // otherName [0] { id-on-dnsSRV, [0] EXPLICIT IA5String }
            let oid = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x07]);
            let value = tlv(0xa0, &tlv(0x16, srv.as_bytes()));
            names.extend(tlv(0xa0, &[oid, value].concat()));
        }
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name = DistinguishedName::new();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[2, 5, 29, 17],
            tlv(0x30, &names),
        )];
        let cert = params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf certificate");
        self.write(name, &cert, &key);
    }

    /// One more leaf certificate from the test CA, `NAME.pem` and
    /// `NAME.key`, naming `dns_ids`, that expired at the start of 2021 (valid
    /// through 2020); `client` picks the client or server key usage.
    pub fn expired_leaf(&self, name: &str, dns_ids: &[&str], client: bool) {
        let issuer = self.ca.as_ref().expect("the test CA");
        let key = KeyPair::generate().expect("key");
        let names: Vec<String> = dns_ids.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name = DistinguishedName::new();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        let cert = params
            .signed_by(&key, &issuer.cert, &issuer.key)
            .expect("leaf certificate");
        self.write(name, &cert, &key);
    }

    /// One more leaf certificate from the test CA, `NAME.pem` and
    /// `NAME.key`: an X.509 version 1 certificate (no extensions at all,
    /// so no subject alternative names), with `common_name` as its
    /// subject. rcgen makes only version 3, so `openssl x509 -req` signs
    /// it (OpenSSL writes version 1 when given no extensions); the caller
    /// requires `openssl`.
    pub fn v1_leaf(&self, name: &str, common_name: &str) {
        let key = KeyPair::generate().expect("key");
        let key_path = self.path(&format!("{name}.key"));
        fs::write(&key_path, key.serialize_pem()).expect("write key");
        let csr = self.path(&format!("{name}.csr"));
        let run = |args: &[&str]| {
            let out = super::run_bounded(
                std::process::Command::new("openssl").args(args),
                None,
                std::time::Duration::from_secs(30),
            );
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let subject = format!("/CN={common_name}");
        run(&[
            "req",
            "-new",
            "-key",
            &self.arg(&format!("{name}.key")),
            "-subj",
            &subject,
            "-out",
            &csr.to_string_lossy(),
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            &csr.to_string_lossy(),
            "-CA",
            &self.arg("ca.pem"),
            "-CAkey",
            &self.arg("ca.key"),
            "-days",
            "30",
            "-out",
            &self.arg(&format!("{name}.pem")),
        ]);
    }

    /// A file of the folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// A file's path as text, for command lines.
    pub fn arg(&self, file: &str) -> String {
        self.path(file).to_string_lossy().into_owned()
    }

    /// The bytes of a file of the folder.
    pub fn read(&self, file: &str) -> Vec<u8> {
        fs::read(self.path(file)).expect("read PEM")
    }

    /// The SHA-256 fingerprint of `NAME.pem`, as `openssl x509
    /// -fingerprint -sha256` prints it (uppercase, colons): computed here
    /// from the DER bytes, not by the crate's own pin code.
    pub fn fingerprint(&self, name: &str) -> String {
        let pem = pem::parse(self.read(&format!("{name}.pem"))).expect("a PEM certificate");
        ring::digest::digest(&ring::digest::SHA256, pem.contents())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}
