//! Object keys and bucket names the node accepts. S3 allows almost any key; a node holding classified data
//! refuses the ones that are path tricks or cannot be shown safely, with an error that says why.

/// Largest key, in bytes of UTF-8 (the S3 limit).
pub const MAX_KEY_BYTES: usize = 1024;

/// Bucket names that would shadow the node's own routes.
pub const RESERVED_BUCKETS: &[&str] =
    &["admin", "api", "audit", "console", "fmv", "healthz", "kas", "metrics", "readyz", "identities"];

/// Checks an object key: 1 to 1024 bytes, no control characters (NUL included), no `.` or `..` segment, no
/// leading `/`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the object key is empty".into());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!("the object key is {} bytes long; the limit is {MAX_KEY_BYTES}", key.len()));
    }
    if key.chars().any(char::is_control) {
        return Err("the object key contains a control character (NUL, newline, …); remove it".into());
    }
    if key.starts_with('/') {
        return Err("the object key starts with `/`".into());
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("the object key has a `.` or `..` segment; keys are names, not paths".into());
    }
    Ok(())
}

/// Checks a bucket name against the node's reserved names (s3s checks the S3 naming rules).
pub fn check_bucket(name: &str) -> Result<(), String> {
    if RESERVED_BUCKETS.contains(&name) {
        return Err(format!(
            "the bucket name `{name}` is reserved for the node's own routes; choose another"
        ));
    }
    Ok(())
}

/// Checks a bucket name against the S3 naming rules (3 to 63 lower-case letters, digits, `-` and `.`, starting
/// and ending with a letter or digit, not an IPv4 address) and the node's reserved names. For names the node
/// chooses itself (configuration); s3s checks the same rules on requests.
pub fn check_s3_bucket(name: &str) -> Result<(), String> {
    let ok_byte = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.';
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(3..=63).contains(&name.len())
        || !name.bytes().all(ok_byte)
        || !edge(name.as_bytes().first())
        || !edge(name.as_bytes().last())
        || name.contains("..")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
    {
        return Err(format!(
            "`{name}` is not a bucket name: 3 to 63 lower-case letters, digits, `-` or `.`, starting and ending \
             with a letter or digit"
        ));
    }
    check_bucket(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(check_key("a/b/c.txt").is_ok());
        assert!(check_key("dossier/été.pdf").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("../etc/passwd").is_err());
        assert!(check_key("a/../b").is_err());
        assert!(check_key("a/./b").is_err());
        assert!(check_key("a\0b").is_err());
        assert!(check_key("/abs").is_err());
        assert!(check_key(&"é".repeat(1024)).is_err());
        assert!(check_key("a..b").is_ok());
    }

    #[test]
    fn buckets() {
        assert!(check_bucket("admin").is_err());
        assert!(check_bucket("missions").is_ok());
        assert!(check_s3_bucket("fmv-rec").is_ok());
        for bad in ["fmv", "ab", "Fmv-rec", "-rec", "rec-", "a..b", "192.168.1.1", "a_b", &"a".repeat(64)] {
            assert!(check_s3_bucket(bad).is_err(), "{bad}");
        }
    }
}
