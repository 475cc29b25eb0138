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
    }
}
