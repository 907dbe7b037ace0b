//! The cryptography both ends use: ring, with TLS 1.3 suites only.
//!
//! rustls 0.23.48 deprecated `rustls::crypto::ring::default_provider` (ring
//! has no post-quantum key exchange), and rustls 0.24 moves the provider
//! out of the crate. The provider is therefore assembled here from the
//! parts rustls and webpki still publish: ring's TLS 1.3 suites and key
//! exchange groups, webpki's ring signature algorithms, and ring's random
//! numbers and key loading. That keeps ring (no C toolchain at build time)
//! and gives users on a fresh lockfile no deprecation warning.

use std::sync::{Arc, OnceLock};

use rustls::{
    crypto::{
        ring::{self as ring_suites, cipher_suite},
        CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
    },
    pki_types::PrivateKeyDer,
    sign::SigningKey,
    SignatureScheme,
};
use webpki::ring as algorithm;

/// The process's provider, made once.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| {
            Arc::new(CryptoProvider {
                cipher_suites: vec![
                    cipher_suite::TLS13_AES_256_GCM_SHA384,
                    cipher_suite::TLS13_AES_128_GCM_SHA256,
                    cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
                ],
                kx_groups: ring_suites::ALL_KX_GROUPS.to_vec(),
                signature_verification_algorithms: SIGNATURES,
                secure_random: &Ring,
                key_provider: &Ring,
            })
        })
        .clone()
}

/// Which signatures a peer may use, in certificates (`all`) and in the
/// handshake (`mapping`, TLS signature scheme to webpki algorithms): those
/// webpki verifies with ring.
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algorithm::ECDSA_P256_SHA256,
        algorithm::ECDSA_P256_SHA384,
        algorithm::ECDSA_P384_SHA256,
        algorithm::ECDSA_P384_SHA384,
        algorithm::ED25519,
        algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algorithm::RSA_PKCS1_2048_8192_SHA256,
        algorithm::RSA_PKCS1_2048_8192_SHA384,
        algorithm::RSA_PKCS1_2048_8192_SHA512,
        algorithm::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // In TLS 1.3 the scheme fixes the curve; the other curve is listed
        // second for certificates signed across curves.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algorithm::ECDSA_P384_SHA384, algorithm::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algorithm::ECDSA_P256_SHA256, algorithm::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algorithm::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[algorithm::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[algorithm::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[algorithm::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// ring's random numbers and private-key loading.
#[derive(Debug)]
struct Ring;

impl SecureRandom for Ring {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for Ring {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        ring_suites::sign::any_supported_type(&key_der)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_offers_tls13_suites_only_and_checks_out() {
        let provider = provider();
        assert!(provider
            .cipher_suites
            .iter()
            .all(|s| s.version() == &rustls::version::TLS13));
        // rustls' own consistency check of a provider.
        assert!(rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .is_ok());
    }
}
