//! Certificate parsing: just enough DER to read the names a certificate
//! gives its holder (its subject alternative names).

/// The `dNSName` entries of a DER certificate's subject alternative names,
/// as written (wildcards included), or `None` when the encoding cannot be
/// read that far.
///
/// webpki validates certificates but only lists the names it could match,
/// which leaves out malformed wildcards such as `a*.example`; the draft
/// wants any `*` refused, so the extension is read here.
pub(crate) fn dns_ids(certificate_der: &[u8]) -> Option<Vec<String>> {
    Some(subject_alt_names(certificate_der)?.dns_ids)
}

/// The names of a certificate that identify its holder.
#[derive(Default)]
struct AltNames {
    /// `dNSName` entries.
    dns_ids: Vec<String>,
    /// `otherName` entries of type `id-on-dnsSRV` (RFC 4985), such as
    /// `_idmef.example.net`.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    srv_ids: Vec<String>,
}

/// The OID of `id-on-dnsSRV`, 1.3.6.1.5.5.7.8.7.
const ID_ON_DNS_SRV: [u8; 8] = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x07];

/// The SRV-IDs (RFC 4985) of a DER certificate, or `None` when the
/// encoding cannot be read that far.
#[cfg(feature = "client")]
pub(crate) fn srv_ids(certificate_der: &[u8]) -> Option<Vec<String>> {
    Some(subject_alt_names(certificate_der)?.srv_ids)
}

fn subject_alt_names(certificate_der: &[u8]) -> Option<AltNames> {
    // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... }
    let (_, certificate, _) = der::expect(certificate_der, der::SEQUENCE)?;
    let (_, mut tbs, _) = der::expect(certificate, der::SEQUENCE)?;
    let mut names = AltNames::default();
    while !tbs.is_empty() {
        let (tag, content, rest) = der::read(tbs)?;
        tbs = rest;
        // extensions [3] EXPLICIT SEQUENCE OF Extension
        if tag != 0xa3 {
            continue;
        }
        let (_, mut extensions, _) = der::expect(content, der::SEQUENCE)?;
        while !extensions.is_empty() {
            let (_, extension, rest) = der::expect(extensions, der::SEQUENCE)?;
            extensions = rest;
            let (_, oid, mut fields) = der::expect(extension, der::OID)?;
            // subjectAltName, 2.5.29.17
            if oid != [0x55, 0x1d, 0x11] {
                continue;
            }
            if fields.first() == Some(&der::BOOLEAN) {
                fields = der::read(fields)?.2;
            }
            let (_, value, _) = der::expect(fields, der::OCTET_STRING)?;
            let (_, mut general_names, _) = der::expect(value, der::SEQUENCE)?;
            while !general_names.is_empty() {
                let (tag, name, rest) = der::read(general_names)?;
                general_names = rest;
                match tag {
                    // dNSName [2] IMPLICIT IA5String
                    0x82 => names.dns_ids.push(String::from_utf8(name.to_vec()).ok()?),
                    // otherName [0] IMPLICIT SEQUENCE { type-id OID,
                    // value [0] EXPLICIT ANY }; for SRV-IDs an IA5String.
                    0xa0 => {
                        let (_, oid, value) = der::expect(name, der::OID)?;
                        if oid == ID_ON_DNS_SRV {
                            let (_, explicit, _) = der::expect(value, 0xa0)?;
                            let (_, text, _) = der::expect(explicit, der::IA5_STRING)?;
                            names.srv_ids.push(String::from_utf8(text.to_vec()).ok()?);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Some(names)
}

/// Just enough DER to walk to the subject alternative names.
mod der {
    pub const BOOLEAN: u8 = 0x01;
    pub const OCTET_STRING: u8 = 0x04;
    pub const OID: u8 = 0x06;
    pub const IA5_STRING: u8 = 0x16;
    pub const SEQUENCE: u8 = 0x30;

    /// One tag-length-value: (tag, content, what follows). Single-byte tags
    /// only, which is all a certificate uses.
    pub fn read(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        let length = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return None;
            }
            let (bytes, after) = rest.split_at_checked(count)?;
            rest = after;
            bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b))
        };
        let (content, after) = rest.split_at_checked(length)?;
        Some((tag, content, after))
    }

    /// [`read`], requiring `tag`.
    pub fn expect(input: &[u8], tag: u8) -> Option<(u8, &[u8], &[u8])> {
        read(input).filter(|(t, _, _)| *t == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tls::tests::cert;
    use rustls::pki_types::CertificateDer;

    #[test]
    fn dns_ids_are_read_as_written_wildcards_included() {
        let der = cert(&["a.example", "*.b.example", "c*.example"]);
        assert_eq!(
            dns_ids(&der),
            Some(vec![
                "a.example".to_string(),
                "*.b.example".to_string(),
                "c*.example".to_string()
            ])
        );
        assert_eq!(dns_ids(&cert(&[])), Some(vec![]));
        // webpki agrees on the names it can match, and misses the malformed
        // wildcard we refuse.
        let parsed = CertificateDer::from(der.clone());
        let webpki = webpki::EndEntityCert::try_from(&parsed).expect("parses");
        let listed: Vec<&str> = webpki.valid_dns_names().collect();
        assert_eq!(listed, ["a.example", "*.b.example"]);
    }

    #[test]
    fn truncated_certificates_give_no_names_and_no_panic() {
        let der = cert(&["a.example"]);
        for end in 0..der.len() {
            let _ = dns_ids(&der[..end]);
        }
        assert_eq!(dns_ids(&der[..der.len() / 2]), None);
    }
}
