//! What this crate asks of a token, one session call each: find a key by kid, generate a key pair inside the
//! token (sensitive, never extractable), read a public key as SPKI, RSA-OAEP decrypt, and ECDH derive the shared
//! secret Z into a session object that is read and destroyed at once.

use cryptoki::error::{Error, RvError};
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::types::Ulong;
use redoubt_ztdf::{Curve, KasPublicKey};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::der;
use crate::error::CustodyError;

/// The two halves of a key version in the token.
#[derive(Debug, Clone, Copy)]
pub(super) struct Handles {
    pub(super) private: ObjectHandle,
    pub(super) public: ObjectHandle,
}

/// A cryptoki error as a custody error.
pub(super) fn p11(op: &'static str) -> impl Fn(Error) -> CustodyError {
    move |e| CustodyError::Pkcs11 { op, message: e.to_string() }
}

/// Whether an error is about the session or the device rather than the data: such errors cannot depend on
/// the ciphertext, so reporting them apart gives no padding oracle.
pub(super) fn is_device_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Pkcs11(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::DeviceError
                | RvError::TokenNotPresent
                | RvError::UserNotLoggedIn
                | RvError::CryptokiNotInitialized
                | RvError::KeyHandleInvalid
                | RvError::ObjectHandleInvalid,
            _
        ) | Error::LibraryLoading(_)
            | Error::NullFunctionPointer
    )
}

/// The objects of class `class` whose `CKA_ID` is `kid`.
pub(super) fn find(session: &Session, class: ObjectClass, kid: &str) -> Result<Vec<ObjectHandle>, Error> {
    session.find_objects(&[Attribute::Class(class), Attribute::Id(kid.as_bytes().to_vec())])
}

/// Both halves of `kid`, when the token has them.
pub(super) fn find_pair(session: &Session, kid: &str) -> Result<Option<Handles>, Error> {
    let private = find(session, ObjectClass::PRIVATE_KEY, kid)?;
    let public = find(session, ObjectClass::PUBLIC_KEY, kid)?;
    Ok(match (private.first(), public.first()) {
        (Some(&private), Some(&public)) => Some(Handles { private, public }),
        _ => None,
    })
}

/// Generates a key pair of `alg` inside the token, labelled and identified by `kid`. The private half is
/// sensitive and never extractable.
pub(super) fn generate(session: &Session, alg: Algorithm, kid: &str) -> Result<Handles, Error> {
    let id = kid.as_bytes().to_vec();
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Label(id.clone()),
        Attribute::Id(id.clone()),
    ];
    let mut private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Label(id.clone()),
        Attribute::Id(id),
    ];
    let mechanism = match alg.curve() {
        None => {
            public.extend([
                Attribute::ModulusBits(Ulong::new(2048)),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                Attribute::Encrypt(true),
            ]);
            private.push(Attribute::Decrypt(true));
            Mechanism::RsaPkcsKeyPairGen
        }
        Some(curve) => {
            public.push(Attribute::EcParams(der::curve_oid(curve).to_vec()));
            private.push(Attribute::Derive(true));
            Mechanism::EccKeyPairGen
        }
    };
    let (public, private) = session.generate_key_pair(&mechanism, &public, &private)?;
    Ok(Handles { private, public })
}

/// The public key of a version, parsed and as SPKI DER.
pub(super) fn public_key(
    session: &Session,
    alg: Algorithm,
    public: ObjectHandle,
) -> Result<(KasPublicKey, Vec<u8>), CustodyError> {
    let bad = |what: &str| CustodyError::Pkcs11 {
        op: "read public key",
        message: format!("the token's public key object is not a {alg} key ({what})"),
    };
    let spki = match alg.curve() {
        None => {
            let attrs = session
                .get_attributes(public, &[AttributeType::Modulus, AttributeType::PublicExponent])
                .map_err(p11("read public key"))?;
            let (mut n, mut e) = (None, None);
            for a in attrs {
                match a {
                    Attribute::Modulus(v) => n = Some(v),
                    Attribute::PublicExponent(v) => e = Some(v),
                    _ => {}
                }
            }
            match (n, e) {
                (Some(n), Some(e)) => der::rsa_spki(&n, &e),
                _ => return Err(bad("no modulus or exponent")),
            }
        }
        Some(curve) => {
            let attrs =
                session.get_attributes(public, &[AttributeType::EcPoint]).map_err(p11("read public key"))?;
            let value = attrs
                .into_iter()
                .find_map(|a| match a {
                    Attribute::EcPoint(v) => Some(v),
                    _ => None,
                })
                .ok_or_else(|| bad("no EC point"))?;
            let point =
                der::ec_point_attribute(curve, &value).ok_or_else(|| bad("the EC point is malformed"))?;
            der::ec_spki(curve, point)
        }
    };
    let key = KasPublicKey::from_spki_der(&spki).map_err(|e| bad(&e.to_string()))?;
    Ok((key, spki))
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) decryption inside the token.
pub(super) fn decrypt_oaep(
    session: &Session,
    private: ObjectHandle,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let params = PkcsOaepParams::new(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1, PkcsOaepSource::empty());
    session.decrypt(&Mechanism::RsaPkcsOaep(params), private, wrapped).map(Zeroizing::new)
}

/// The ECDH shared secret Z of the token's key and `point` (uncompressed): derived into a session-only,
/// extractable generic secret, read, and destroyed. Z is not the private key and leaves the token by design.
pub(super) fn ecdh(
    session: &Session,
    private: ObjectHandle,
    curve: Curve,
    point: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let len = Ulong::try_from(curve.scalar_len())?;
    let mechanism = Mechanism::Ecdh1Derive(Ecdh1DeriveParams::new(EcKdf::null(), point));
    let template = [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::GENERIC_SECRET),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::ValueLen(len),
    ];
    let secret = session.derive_key(&mechanism, private, &template)?;
    let read = session.get_attributes(secret, &[AttributeType::Value]);
    let destroyed = session.destroy_object(secret);
    let mut z = None;
    for a in read? {
        if let Attribute::Value(v) = a {
            z = Some(Zeroizing::new(v));
        }
    }
    destroyed?;
    z.ok_or(Error::Pkcs11(RvError::AttributeSensitive, cryptoki::context::Function::GetAttributeValue))
}
