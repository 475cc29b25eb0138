//! The little DER a PKCS#11 token needs around it: SubjectPublicKeyInfo from an RSA modulus and exponent or an
//! EC point (what the token gives), and the EC point inside an SPKI or a DER OCTET STRING (what the token
//! takes). Reading is bounded: every length is checked against the bytes left.

use redoubt_ztdf::Curve;

/// `id-ecPublicKey` (1.2.840.10045.2.1). Do not change: wire constant.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `rsaEncryption` (1.2.840.113549.1.1.1). Do not change: wire constant.
const OID_RSA_ENCRYPTION: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `prime256v1` (1.2.840.10045.3.1.7), DER. Do not change: wire constant.
const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `secp384r1` (1.3.132.0.34), DER. Do not change: wire constant.
const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];

/// The DER OID of a curve: the token's `CKA_EC_PARAMS`.
pub(crate) fn curve_oid(curve: Curve) -> &'static [u8] {
    match curve {
        Curve::P256 => OID_P256,
        Curve::P384 => OID_P384,
    }
}

/// Length of an uncompressed point (0x04 || X || Y).
pub(crate) fn point_len(curve: Curve) -> usize {
    1 + 2 * curve.scalar_len()
}

/// One DER element: tag, length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | u8::try_from(significant.len()).unwrap_or(0));
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from unsigned big-endian bytes.
fn integer(unsigned: &[u8]) -> Vec<u8> {
    let skip = unsigned.iter().take_while(|b| **b == 0).count();
    let digits = unsigned.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(digits);
    tlv(0x02, &content)
}

fn spki(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut bits = vec![0u8];
    bits.extend_from_slice(key);
    let mut body = tlv(0x30, algorithm);
    body.extend_from_slice(&tlv(0x03, &bits));
    tlv(0x30, &body)
}

/// The SPKI DER of an RSA public key.
pub(crate) fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut key = integer(modulus);
    key.extend_from_slice(&integer(exponent));
    let mut alg = OID_RSA_ENCRYPTION.to_vec();
    alg.extend_from_slice(&[0x05, 0x00]);
    spki(&alg, &tlv(0x30, &key))
}

/// The SPKI DER of an EC public key (uncompressed point).
pub(crate) fn ec_spki(curve: Curve, point: &[u8]) -> Vec<u8> {
    let mut alg = OID_EC_PUBLIC_KEY.to_vec();
    alg.extend_from_slice(curve_oid(curve));
    spki(&alg, point)
}

/// The uncompressed point of a token's `CKA_EC_POINT`: a DER OCTET STRING (the standard) or the raw point
/// (some tokens).
pub(crate) fn ec_point_attribute(curve: Curve, value: &[u8]) -> Option<&[u8]> {
    let n = point_len(curve);
    if value.len() == n && value.first() == Some(&0x04) {
        return Some(value);
    }
    let (tag, content, rest) = read_tlv(value)?;
    (tag == 0x04 && rest.is_empty() && content.len() == n && content.first() == Some(&0x04))
        .then_some(content)
}

/// The uncompressed point inside an EC SPKI DER.
pub(crate) fn spki_point(curve: Curve, spki: &[u8]) -> Option<&[u8]> {
    let (tag, body, rest) = read_tlv(spki)?;
    if tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let (alg_tag, _, after_alg) = read_tlv(body)?;
    let (bits_tag, bits, after_bits) = read_tlv(after_alg)?;
    if alg_tag != 0x30 || bits_tag != 0x03 || !after_bits.is_empty() {
        return None;
    }
    let point = bits.strip_prefix(&[0u8])?;
    (point.len() == point_len(curve) && point.first() == Some(&0x04)).then_some(point)
}

/// Reads one element: (tag, content, bytes after it). Definite lengths of up to 4 bytes only.
fn read_tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (len_bytes, r) = rest.split_at_checked(n)?;
        rest = r;
        len_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (content, after) = rest.split_at_checked(len)?;
    Some((tag, content, after))
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::agreement;
    use aws_lc_rs::encoding::{AsBigEndian, AsDer, EcPublicKeyUncompressedBin, PublicKeyX509Der};
    use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};
    use redoubt_ztdf::KasPublicKey;

    use super::*;

    #[test]
    fn ec_spki_matches_aws_lc_and_round_trips() {
        for curve in [Curve::P256, Curve::P384] {
            let key = agreement::PrivateKey::generate(curve.agreement()).unwrap();
            let public = key.compute_public_key().unwrap();
            let point: EcPublicKeyUncompressedBin<'_> = public.as_be_bytes().unwrap();
            let expected: PublicKeyX509Der<'_> = public.as_der().unwrap();
            let built = ec_spki(curve, point.as_ref());
            assert_eq!(built, expected.as_ref());
            assert_eq!(spki_point(curve, &built), Some(point.as_ref()));
            let wrapped = tlv(0x04, point.as_ref());
            assert_eq!(ec_point_attribute(curve, &wrapped), Some(point.as_ref()));
            assert_eq!(ec_point_attribute(curve, point.as_ref()), Some(point.as_ref()));
        }
    }

    #[test]
    fn rsa_spki_is_a_valid_key() {
        let key = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let spki: PublicKeyX509Der<'_> = key.public_key().as_der().unwrap();
        // The modulus is the last 256 bytes of the SPKI's RSAPublicKey before the 3-byte exponent 65537.
        let der = spki.as_ref();
        let modulus = &der[der.len() - 5 - 256..der.len() - 5];
        assert_eq!(rsa_spki(modulus, &[1, 0, 1]), der);
        assert!(matches!(
            KasPublicKey::from_spki_der(&rsa_spki(modulus, &[1, 0, 1])).unwrap(),
            KasPublicKey::Rsa { .. }
        ));
    }

    #[test]
    fn malformed_input_is_refused() {
        for bytes in [&[][..], &[0x30], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0x04, 0x02, 0x04]] {
            assert!(spki_point(Curve::P256, bytes).is_none());
            assert!(ec_point_attribute(Curve::P256, bytes).is_none());
        }
    }
}
