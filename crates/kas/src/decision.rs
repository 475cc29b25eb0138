//! The pure checks a node runs on each key access object of a rewrap, before and beside its access decision:
//! the policy reads, the object is addressed to this KAS, its policy binding holds, the policy's attributes form a
//! label of our security policy, and the dissemination list names the caller. Each failure is its own
//! [`KasError`] variant with a stable [`KasError::rule`].
//!
//! Stricter than the reference KAS on purpose: a policy with no data attributes is refused (the reference lets
//! any caller through), and an attribute outside our namespace or unknown to the SPIF denies.

use redoubt_label::{Label, Spif};
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::policy::verify_policy_binding;
use redoubt_ztdf::{KeyShare, Policy};

use crate::error::{KasError, quote};

/// Reads the policy of a request (`policy.body`, base64 as in the manifest).
///
/// # Errors
/// [`KasError::PolicyMalformed`] naming `id`.
pub fn parse_policy(id: &str, body_b64: &str) -> Result<Policy, KasError> {
    Policy::from_base64(body_b64)
        .map_err(|e| KasError::PolicyMalformed { id: quote(id), problem: e.to_string() })
}

/// The label a policy's data attributes stand for, under namespace `ns` with names from `spif`.
///
/// # Errors
/// [`KasError::NoAttributes`] for a policy without attributes; [`KasError::ForeignNamespace`] for an attribute
/// outside `https://<ns>/attr/`; [`KasError::UnknownAttribute`] when an attribute is unknown to the SPIF or the
/// set is not a label (no classification, two classifications).
pub fn object_label(policy: &Policy, ns: &str, spif: &Spif) -> Result<Label, KasError> {
    let attributes = &policy.body.data_attributes;
    if attributes.is_empty() {
        return Err(KasError::NoAttributes);
    }
    let prefix = format!("https://{}/attr/", ns.to_ascii_lowercase());
    let fqns: Vec<&str> = attributes.iter().map(|a| a.attribute.as_str()).collect();
    if let Some(foreign) = fqns.iter().find(|f| !f.to_ascii_lowercase().starts_with(&prefix)) {
        return Err(KasError::ForeignNamespace { fqn: quote(foreign), ns: quote(ns) });
    }
    Label::from_attribute_fqns(&fqns, ns, spif)
        .map_err(|e| KasError::UnknownAttribute { problem: e.to_string() })
}

/// Whether a policy's dissemination list lets the caller in: an empty list lets everyone in; otherwise one of
/// the caller's names must be listed (ASCII case-insensitive).
#[must_use]
pub fn dissem_permits(dissem: &[String], caller_names: &[&str]) -> bool {
    dissem.is_empty() || dissem.iter().any(|d| caller_names.iter().any(|n| d.eq_ignore_ascii_case(n)))
}

/// Checks that a key access object is addressed to this KAS: its `url` equals one of `our_urls` after
/// normalisation (scheme and host lower-cased, the scheme's default port dropped, a trailing `/` and a final
/// `/kas` segment dropped, as the SDKs differ on both). The path is compared exactly otherwise.
///
/// # Errors
/// [`KasError::ForeignKas`] when it matches none (or is not an `http(s)` URL).
pub fn check_kas_url(kao_url: &str, our_urls: &[String]) -> Result<(), KasError> {
    let foreign = || KasError::ForeignKas { url: quote(kao_url) };
    let theirs = normalise_url(kao_url).ok_or_else(foreign)?;
    if our_urls.iter().filter_map(|u| normalise_url(u)).any(|ours| ours == theirs) {
        Ok(())
    } else {
        Err(foreign())
    }
}

/// Verifies a key access object's policy binding against the policy string it came with.
///
/// # Errors
/// [`KasError::PolicyBinding`] naming `kao_id`.
pub fn check_policy_binding(
    share: &KeyShare,
    policy_b64: &str,
    kao: &KeyAccessObject,
    kao_id: &str,
) -> Result<(), KasError> {
    verify_policy_binding(share.as_bytes(), policy_b64, &kao.policy_binding, 0, &kao.url)
        .map_err(|_| KasError::PolicyBinding { kao: quote(kao_id) })
}

/// `scheme://host[:port]/path` in comparable form, or `None` for anything else (user info, query, fragment,
/// another scheme, a non-numeric port).
fn normalise_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    if rest.contains(['?', '#', '@', '\\']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (host, port) = match authority.rsplit_once(':') {
        // An IPv6 literal's colons are inside brackets; a port follows the `]`.
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (authority, None),
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => return None,
        Some(p) if p.trim_start_matches('0') == default_port => None,
        other => other,
    };
    let mut path = path.trim_end_matches('/');
    if let Some(stripped) = path.strip_suffix("kas").filter(|s| s.is_empty() || s.ends_with('/')) {
        path = stripped.trim_end_matches('/');
    }
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(p) => format!("{scheme}://{host}:{p}/{path}"),
        None => format!("{scheme}://{host}/{path}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise() {
        let n = |u| normalise_url(u);
        assert_eq!(n("HTTPS://Node.Example:443/kas/"), n("https://node.example"));
        assert_eq!(n("https://node.example/api/kas"), n("https://node.example/api"));
        assert_ne!(n("https://node.example/API"), n("https://node.example/api"));
        assert_ne!(n("https://node.example:8443"), n("https://node.example"));
        assert_eq!(n("https://node.example/notkas"), Some("https://node.example/notkas".to_owned()));
        assert_eq!(n("https://[::1]:8443/kas"), Some("https://[::1]:8443/".to_owned()));
        assert_eq!(n("ftp://node.example"), None);
        assert_eq!(n("https://user@node.example"), None);
        assert_eq!(n("https://node.example:x"), None);
    }
}
