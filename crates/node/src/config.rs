//! Node configuration: embedded defaults, then a TOML file, then `REDOUBT_*` environment variables, then
//! command-line flags, each layer overriding the one before. Every key is declared once in [`KEYS`]; an unknown
//! key or a bad value is an error naming the key, where it came from and the expected form.
//!
//! Relative paths in a config file are resolved against the file's folder; from the environment or a flag,
//! against the current directory.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

/// Largest config file read; a real one is a few hundred bytes.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The environment variable naming a config file (the `--config` flag wins over it).
pub const CONFIG_ENV: &str = "REDOUBT_CONFIG";

/// `REDOUBT_*` variables that are not config keys but are read elsewhere. Any other `REDOUBT_*` variable is
/// refused so that a typo never silently falls back to a default.
const OTHER_ENV: &[&str] = &[CONFIG_ENV, KEK_ENV, KEK_PASSPHRASE_ENV, PKCS11_PIN_ENV];

/// The key-encryption key of the file key custody: base64 of 32 random bytes.
pub const KEK_ENV: &str = "REDOUBT_KEK";
/// A passphrase the file key custody derives its key-encryption key from (PBKDF2), instead of [`KEK_ENV`].
pub const KEK_PASSPHRASE_ENV: &str = "REDOUBT_KEK_PASSPHRASE";
/// The user PIN of the PKCS#11 token (instead of `keys.pkcs11_pin_file`).
pub const PKCS11_PIN_ENV: &str = "REDOUBT_PKCS11_PIN";

/// The effective configuration of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Node name, used in certificates and logs.
    pub name: String,
    /// Where the node keeps its state (PKI, later objects and audit).
    pub data_dir: PathBuf,
    /// Extra DNS names or IP addresses the server certificate must cover.
    pub hostnames: Vec<String>,
    /// Address of the HTTPS listener.
    pub listen: SocketAddr,
    /// How long in-flight requests may take to finish after SIGINT/SIGTERM.
    pub shutdown_grace: Duration,
    /// Connections served at once; further ones wait in the kernel backlog.
    pub max_connections: usize,
    /// Log line format.
    pub log_format: LogFormat,
    /// Log filter directive (`info`, `redoubt_node=debug,info`, …).
    pub log_level: String,
    /// OIDC token issuer accepted (`iss`); OIDC is off unless issuer, audience and JWKS file are all set.
    pub oidc_issuer: Option<String>,
    /// OIDC audience required in tokens (`aud`).
    pub oidc_audience: Option<String>,
    /// JSON Web Key Set file of the OIDC issuer.
    pub oidc_jwks_file: Option<PathBuf>,
    /// HTTPS URL of the issuer's JSON Web Key Set (instead of a file), fetched at start and refreshed.
    pub oidc_jwks_url: Option<String>,
    /// CA certificate file (PEM) trusted for `oidc.jwks_url`.
    pub oidc_jwks_ca: Option<PathBuf>,
    /// Where the KAS keys live.
    pub custody: Custody,
    /// PKCS#11 module (shared library) for `keys.custody = "pkcs11"`.
    pub pkcs11_module: Option<PathBuf>,
    /// Label of the PKCS#11 token holding the keys.
    pub pkcs11_token: Option<String>,
    /// File holding the token's user PIN (else `REDOUBT_PKCS11_PIN`).
    pub pkcs11_pin_file: Option<PathBuf>,
    /// The URL clients reach this node's KAS at, written into every key access object the node makes
    /// (default `https://<node.name>:<port>/kas`).
    pub kas_url: Option<String>,
    /// The FMV streams to ingest (`[[fmv.streams]]`, config file only).
    pub fmv_streams: Vec<crate::fmv::config::StreamConfig>,
    /// Where each key's value came from, for `config show`.
    pub sources: BTreeMap<&'static str, Origin>,
}

/// Where the KAS private keys are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Custody {
    /// Key files in the data folder, encrypted under a key-encryption key.
    #[default]
    File,
    /// A PKCS#11 token (HSM): private keys never leave it.
    Pkcs11,
}

impl Custody {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Custody::File => "file",
            Custody::Pkcs11 => "pkcs11",
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

impl LogFormat {
    fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The embedded default.
    Default,
    /// A config file, with the line of the key.
    File { path: PathBuf, line: usize },
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => write!(f, "default"),
            Self::File { path, line } => write!(f, "config file `{}` line {line}", path.display()),
            Self::Env(var) => write!(f, "environment variable `{var}`"),
            Self::Flag(flag) => write!(f, "command-line flag `{flag}`"),
        }
    }
}

/// A configuration error: what was wrong, where, and the expected form.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file `{path}`: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// The config file is larger than any real config.
    #[error("config file `{path}` is larger than {MAX_CONFIG_BYTES} bytes: is it the right file?")]
    TooLarge { path: PathBuf },
    /// The config file is not valid TOML, or not made of `[section]` tables.
    #[error("config file `{path}` line {line}: {message}")]
    Syntax { path: PathBuf, line: usize, message: String },
    /// A key that Redoubt does not know.
    #[error("{origin}: unknown key `{key}`; known keys: {known}")]
    UnknownKey { origin: Origin, key: String, known: String },
    /// A `[[fmv.streams]]` table that is wrong.
    #[error("{origin}: `fmv.streams` {message}")]
    Fmv { origin: Origin, message: String },
    /// A value of the wrong form.
    #[error("{origin}: key `{key}` has `{found}`, expected {expected}")]
    BadValue { origin: Origin, key: &'static str, found: String, expected: &'static str },
}

/// One declared key: its dotted path in the file (`section.key`) and the form its value must take.
#[derive(Debug)]
pub struct KeyDef {
    /// `section.key`, as written in the TOML file.
    pub path: &'static str,
    /// The expected form, shown in errors and `config show`.
    pub expected: &'static str,
}

impl KeyDef {
    /// The environment variable for this key: `REDOUBT_` + path upper-cased with `.` as `_`.
    pub fn env_var(&self) -> String {
        format!("REDOUBT_{}", self.path.replace('.', "_").to_uppercase())
    }
}

/// Every configuration key. Do not rename a key without keeping the old name as an alias: operators'
/// files and environments depend on these names.
pub const KEYS: &[KeyDef] = &[
    KeyDef { path: "node.name", expected: "a node name of 1 to 63 letters, digits, `-` or `.`" },
    KeyDef { path: "node.data_dir", expected: "a folder path" },
    KeyDef {
        path: "node.hostnames",
        expected: "a list of DNS names or IP addresses, such as [\"node1.example.int\", \"10.1.2.3\"]",
    },
    KeyDef {
        path: "server.listen",
        expected: "an ADDRESS:PORT such as \"127.0.0.1:8443\" or \"[::1]:8443\"",
    },
    KeyDef { path: "server.shutdown_grace_secs", expected: "a whole number of seconds from 0 to 3600" },
    KeyDef { path: "server.max_connections", expected: "a whole number from 1 to 1000000" },
    KeyDef { path: "log.format", expected: "\"text\" or \"json\"" },
    KeyDef {
        path: "oidc.issuer",
        expected: "the issuer URL tokens must carry in `iss`, such as \"https://idp.example.int/realms/ops\"",
    },
    KeyDef {
        path: "oidc.audience",
        expected: "the audience tokens must carry in `aud`, such as \"redoubt\"",
    },
    KeyDef { path: "oidc.jwks_file", expected: "the path of the issuer's JSON Web Key Set file" },
    KeyDef { path: "oidc.jwks_url", expected: "an https:// URL of the issuer's JSON Web Key Set" },
    KeyDef { path: "oidc.jwks_ca", expected: "the path of a PEM CA certificate trusted for oidc.jwks_url" },
    KeyDef { path: "keys.custody", expected: "\"file\" or \"pkcs11\"" },
    KeyDef {
        path: "keys.pkcs11_module",
        expected: "the path of a PKCS#11 module, such as \"/usr/lib/softhsm/libsofthsm2.so\"",
    },
    KeyDef { path: "keys.pkcs11_token", expected: "the label of the PKCS#11 token holding the keys" },
    KeyDef { path: "keys.pkcs11_pin_file", expected: "the path of a file holding the token's user PIN" },
    KeyDef {
        path: "kas.url",
        expected: "the https:// URL clients reach this node's KAS at, such as \"https://node1.example.int:8443/kas\"",
    },
    KeyDef {
        path: "fmv.streams",
        expected: "[[fmv.streams]] tables in the config file, each with id, listen = \"udp://127.0.0.1:PORT\", classification or label_file, and optionally record",
    },
    KeyDef {
        path: "log.level",
        expected: "a log filter such as \"info\", \"debug\" or \"redoubt_node=debug,info\"",
    },
];

/// A raw value before it is checked against its key.
#[derive(Debug, Clone)]
pub enum RawValue {
    /// A string (every environment variable and flag is one).
    Str(String),
    /// A TOML integer.
    Int(i64),
    /// A TOML array of strings.
    List(Vec<String>),
    /// Any other TOML value, kept as text for the error message.
    Other(String),
}

impl fmt::Display for RawValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Str(s) | Self::Other(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
            Self::List(items) => write!(f, "[{}]", items.join(", ")),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "redoubt-node".to_owned(),
            data_dir: PathBuf::from("redoubt-data"),
            hostnames: Vec::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            shutdown_grace: Duration::from_secs(30),
            max_connections: 4096,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            oidc_issuer: None,
            oidc_audience: None,
            oidc_jwks_file: None,
            oidc_jwks_url: None,
            oidc_jwks_ca: None,
            custody: Custody::File,
            pkcs11_module: None,
            pkcs11_token: None,
            pkcs11_pin_file: None,
            kas_url: None,
            fmv_streams: Vec::new(),
            sources: KEYS.iter().map(|k| (k.path, Origin::Default)).collect(),
        }
    }
}

impl Config {
    /// Loads the layers in order: defaults, the file (if any), the environment. Flags are applied by the
    /// caller with [`Config::set`] and [`Origin::Flag`].
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut config = Self::default();
        if let Some(path) = file {
            config.apply_file(path)?;
        }
        config.apply_env(env)?;
        Ok(config)
    }

    /// Reads and applies a TOML config file.
    pub fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let meta =
            std::fs::metadata(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge { path: path.into() });
        }
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        self.apply_toml(path, &text)
    }

    /// Applies the text of a TOML config file read from `path`.
    pub fn apply_toml(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        type Section = BTreeMap<Spanned<String>, Spanned<toml::Value>>;
        let line_of = |offset: usize| text.get(..offset).map_or(1, |s| s.matches('\n').count() + 1);
        let doc: BTreeMap<Spanned<String>, Spanned<Section>> = toml::from_str(text).map_err(|err| {
            let line = err.span().map_or(1, |span| line_of(span.start));
            let message = err.message().trim_end().to_owned();
            let message = if message.starts_with("invalid type") {
                format!("{message}: settings go in sections such as [node], [server] and [log]")
            } else {
                message
            };
            ConfigError::Syntax { path: path.into(), line, message }
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (section, entries) in doc {
            for (key, value) in entries.into_inner() {
                let full = format!("{}.{}", section.get_ref(), key.get_ref());
                let origin = Origin::File { path: path.into(), line: line_of(key.span().start) };
                if full == "fmv.streams" {
                    self.fmv_streams = crate::fmv::config::parse_streams(value.get_ref(), &base)
                        .map_err(|message| ConfigError::Fmv { origin: origin.clone(), message })?;
                    self.sources.insert("fmv.streams", origin);
                    continue;
                }
                let raw = match value.into_inner() {
                    toml::Value::String(s) => RawValue::Str(s),
                    toml::Value::Integer(i) => RawValue::Int(i),
                    toml::Value::Array(items) => {
                        let strings: Option<Vec<String>> =
                            items.iter().map(|v| v.as_str().map(str::to_owned)).collect();
                        match strings {
                            Some(list) => RawValue::List(list),
                            None => RawValue::Other(toml::Value::Array(items).to_string()),
                        }
                    }
                    other => RawValue::Other(other.to_string()),
                };
                let Some(def) = KEYS.iter().find(|k| k.path == full) else {
                    return Err(unknown(origin, full));
                };
                // INVARIANT: a relative path in a file is relative to the file, so a config keeps meaning
                // the same thing whatever directory the node is started from.
                let raw = match (def.path, raw) {
                    (
                        "node.data_dir"
                        | "oidc.jwks_file"
                        | "oidc.jwks_ca"
                        | "keys.pkcs11_module"
                        | "keys.pkcs11_pin_file",
                        RawValue::Str(dir),
                    ) if Path::new(&dir).is_relative() => {
                        RawValue::Str(base.join(dir).to_string_lossy().into_owned())
                    }
                    (_, raw) => raw,
                };
                self.set(def.path, raw, origin)?;
            }
        }
        Ok(())
    }

    /// Applies `REDOUBT_*` environment variables; any other variable is ignored.
    pub fn apply_env(&mut self, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
        let mut vars: Vec<(String, String)> =
            env.into_iter().filter(|(name, _)| name.starts_with("REDOUBT_")).collect();
        vars.sort();
        for (name, value) in vars {
            if OTHER_ENV.contains(&name.as_str()) {
                continue;
            }
            let Some(def) = KEYS.iter().find(|k| k.env_var() == name) else {
                let known = KEYS.iter().map(KeyDef::env_var).chain(OTHER_ENV.iter().map(|s| (*s).to_owned()));
                return Err(ConfigError::UnknownKey {
                    origin: Origin::Env(name.clone()),
                    key: name,
                    known: known.collect::<Vec<_>>().join(", "),
                });
            };
            let raw = if def.path == "node.hostnames" {
                RawValue::List(
                    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
                )
            } else {
                RawValue::Str(value)
            };
            self.set(def.path, raw, Origin::Env(name))?;
        }
        Ok(())
    }

    /// Sets one key from a raw value, checking its form.
    pub fn set(&mut self, path: &str, raw: RawValue, origin: Origin) -> Result<(), ConfigError> {
        let Some(def) = KEYS.iter().find(|k| k.path == path) else {
            return Err(unknown(origin, path.to_owned()));
        };
        let bad = |raw: &RawValue, origin: &Origin| ConfigError::BadValue {
            origin: origin.clone(),
            key: def.path,
            found: raw.to_string(),
            expected: def.expected,
        };
        match (def.path, &raw) {
            ("node.name", RawValue::Str(s)) if valid_name(s) => self.name = s.clone(),
            ("node.data_dir", RawValue::Str(s)) if !s.is_empty() && !s.contains('\0') => {
                self.data_dir = PathBuf::from(s);
            }
            ("node.hostnames", RawValue::List(items)) => {
                if let Some(bad_item) = items.iter().find(|h| !valid_hostname(h)) {
                    return Err(bad(&RawValue::Str(bad_item.clone()), &origin));
                }
                self.hostnames = items.clone();
            }
            ("server.listen", RawValue::Str(s)) => {
                self.listen = s.parse().map_err(|_| bad(&raw, &origin))?;
            }
            ("server.shutdown_grace_secs", _) => {
                let secs =
                    integer(&raw).filter(|n| (0..=3600).contains(n)).ok_or_else(|| bad(&raw, &origin))?;
                self.shutdown_grace = Duration::from_secs(secs.unsigned_abs());
            }
            ("server.max_connections", _) => {
                let n = integer(&raw)
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| bad(&raw, &origin))?;
                self.max_connections = usize::try_from(n).map_err(|_| bad(&raw, &origin))?;
            }
            ("log.format", RawValue::Str(s)) => {
                self.log_format = match s.as_str() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad(&raw, &origin)),
                };
            }
            ("oidc.issuer", RawValue::Str(s)) if !s.is_empty() && s.len() <= 1024 => {
                self.oidc_issuer = Some(s.clone())
            }
            ("oidc.audience", RawValue::Str(s)) if !s.is_empty() && s.len() <= 1024 => {
                self.oidc_audience = Some(s.clone());
            }
            ("oidc.jwks_file", RawValue::Str(s)) if !s.is_empty() && !s.contains('\0') => {
                self.oidc_jwks_file = Some(PathBuf::from(s));
            }
            ("oidc.jwks_url", RawValue::Str(s)) if s.starts_with("https://") && s.len() <= 2048 => {
                self.oidc_jwks_url = Some(s.clone());
            }
            ("oidc.jwks_ca", RawValue::Str(s)) if !s.is_empty() && !s.contains('\0') => {
                self.oidc_jwks_ca = Some(PathBuf::from(s));
            }
            ("keys.custody", RawValue::Str(s)) => {
                self.custody = match s.as_str() {
                    "file" => Custody::File,
                    "pkcs11" => Custody::Pkcs11,
                    _ => return Err(bad(&raw, &origin)),
                };
            }
            ("keys.pkcs11_module", RawValue::Str(s)) if !s.is_empty() && !s.contains('\0') => {
                self.pkcs11_module = Some(PathBuf::from(s));
            }
            ("keys.pkcs11_token", RawValue::Str(s)) if !s.is_empty() && s.len() <= 32 => {
                self.pkcs11_token = Some(s.clone());
            }
            ("keys.pkcs11_pin_file", RawValue::Str(s)) if !s.is_empty() && !s.contains('\0') => {
                self.pkcs11_pin_file = Some(PathBuf::from(s));
            }
            ("kas.url", RawValue::Str(s))
                if s.starts_with("https://") && s.len() <= 2048 && !s.contains(char::is_whitespace) =>
            {
                self.kas_url = Some(s.trim_end_matches('/').to_owned());
            }
            ("log.level", RawValue::Str(s)) => {
                tracing_subscriber::EnvFilter::builder().parse(s).map_err(|_| bad(&raw, &origin))?;
                self.log_level = s.clone();
            }
            _ => return Err(bad(&raw, &origin)),
        }
        self.sources.insert(def.path, origin);
        Ok(())
    }

    /// The effective configuration as a TOML document, each key commented with where its value came from.
    pub fn to_toml(&self) -> String {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let source = |path: &str| match self.sources.get(path) {
            Some(origin) => format!("  # {origin}"),
            None => String::new(),
        };
        let hostnames: Vec<String> = self.hostnames.iter().map(|h| quote(h)).collect();
        let mut out = String::new();
        out.push_str(
            "# Effective Redoubt configuration (defaults < config file < REDOUBT_* env < flags)\n\n",
        );
        out.push_str("[node]\n");
        out.push_str(&format!("name = {}{}\n", quote(&self.name), source("node.name")));
        out.push_str(&format!(
            "data_dir = {}{}\n",
            quote(&self.data_dir.to_string_lossy()),
            source("node.data_dir")
        ));
        out.push_str(&format!("hostnames = [{}]{}\n", hostnames.join(", "), source("node.hostnames")));
        out.push_str("\n[server]\n");
        out.push_str(&format!("listen = {}{}\n", quote(&self.listen.to_string()), source("server.listen")));
        out.push_str(&format!(
            "shutdown_grace_secs = {}{}\n",
            self.shutdown_grace.as_secs(),
            source("server.shutdown_grace_secs")
        ));
        out.push_str(&format!(
            "max_connections = {}{}\n",
            self.max_connections,
            source("server.max_connections")
        ));
        out.push_str("\n[log]\n");
        out.push_str(&format!("format = {}{}\n", quote(self.log_format.as_str()), source("log.format")));
        out.push_str(&format!("level = {}{}\n", quote(&self.log_level), source("log.level")));
        let opt = |v: Option<String>, key: &str| match v {
            Some(v) => format!("{} = {}{}\n", key.trim_start_matches("oidc."), quote(&v), source(key)),
            None => format!("# {} is not set (OIDC tokens are refused)\n", key.trim_start_matches("oidc.")),
        };
        out.push_str("\n[oidc]\n");
        out.push_str(&opt(self.oidc_issuer.clone(), "oidc.issuer"));
        out.push_str(&opt(self.oidc_audience.clone(), "oidc.audience"));
        out.push_str(&opt(
            self.oidc_jwks_file.as_ref().map(|p| p.to_string_lossy().into_owned()),
            "oidc.jwks_file",
        ));
        out.push_str("\n[keys]\n");
        out.push_str(&format!("custody = {}{}\n", quote(self.custody.as_str()), source("keys.custody")));
        let path_opt = |v: &Option<PathBuf>, key: &str, absent: &str| match v {
            Some(p) => format!(
                "{} = {}{}\n",
                key.trim_start_matches("keys."),
                quote(&p.to_string_lossy()),
                source(key)
            ),
            None => format!("# {} is not set{absent}\n", key.trim_start_matches("keys.")),
        };
        out.push_str(&path_opt(&self.pkcs11_module, "keys.pkcs11_module", ""));
        match &self.pkcs11_token {
            Some(t) => out.push_str(&format!("pkcs11_token = {}{}\n", quote(t), source("keys.pkcs11_token"))),
            None => out.push_str("# pkcs11_token is not set\n"),
        }
        out.push_str(&path_opt(
            &self.pkcs11_pin_file,
            "keys.pkcs11_pin_file",
            " (REDOUBT_PKCS11_PIN is read)",
        ));
        out.push_str("\n[kas]\n");
        match &self.kas_url {
            Some(u) => out.push_str(&format!("url = {}{}\n", quote(u), source("kas.url"))),
            None => out.push_str("# url is not set (https://<node.name>:<port>/kas)\n"),
        }
        if self.fmv_streams.is_empty() {
            out.push_str("\n# no [[fmv.streams]] configured\n");
        }
        for stream in &self.fmv_streams {
            out.push_str(&format!("\n[[fmv.streams]]{}\n", source("fmv.streams")));
            out.push_str(&format!("id = {}\n", quote(&stream.id)));
            out.push_str(&format!("listen = {}\n", quote(&stream.listen.to_string())));
            match &stream.label {
                crate::fmv::config::LabelSource::Classification(c) => {
                    out.push_str(&format!("classification = {}\n", quote(c)));
                }
                crate::fmv::config::LabelSource::File(p) => {
                    out.push_str(&format!("label_file = {}\n", quote(&p.to_string_lossy())));
                }
            }
            if let Some(r) = &stream.record {
                out.push_str(&format!(
                    "record = {{ bucket = {}, segment_seconds = {} }}\n",
                    quote(&r.bucket),
                    r.segment_seconds
                ));
            }
        }
        out
    }
}

fn unknown(origin: Origin, key: String) -> ConfigError {
    ConfigError::UnknownKey {
        origin,
        key,
        known: KEYS.iter().map(|k| format!("`{}`", k.path)).collect::<Vec<_>>().join(", "),
    }
}

fn integer(raw: &RawValue) -> Option<i64> {
    match raw {
        RawValue::Int(i) => Some(*i),
        RawValue::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn valid_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn valid_hostname(s: &str) -> bool {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    (1..=253).contains(&s.len())
        && s.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        c.apply_toml(Path::new("/etc/redoubt/node.toml"), text)?;
        Ok(c)
    }

    #[test]
    fn file_values_apply_and_relative_data_dir_follows_the_file() {
        let c = load_text(
            "[node]\nname = \"fob-1\"\ndata_dir = \"state\"\nhostnames = [\"fob1.example.int\", \"10.0.0.5\"]\n\
             [server]\nlisten = \"[::1]:9443\"\nshutdown_grace_secs = 5\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        assert_eq!(c.name, "fob-1");
        assert_eq!(c.data_dir, PathBuf::from("/etc/redoubt/state"));
        assert_eq!(c.hostnames, ["fob1.example.int", "10.0.0.5"]);
        assert_eq!(c.listen.to_string(), "[::1]:9443");
        assert_eq!(c.shutdown_grace, Duration::from_secs(5));
        assert_eq!(c.log_format, LogFormat::Json);
        assert_eq!(
            c.sources["server.listen"],
            Origin::File { path: "/etc/redoubt/node.toml".into(), line: 6 }
        );
    }

    #[test]
    fn unknown_key_names_key_file_and_line() {
        let err = load_text("[server]\nlisten = \"127.0.0.1:1\"\nlistn = \"x\"\n").unwrap_err().to_string();
        assert!(err.contains("unknown key `server.listn`"), "{err}");
        assert!(err.contains("config file `/etc/redoubt/node.toml` line 3"), "{err}");
        assert!(err.contains("`server.listen`"), "{err}");
    }

    #[test]
    fn bad_value_names_key_found_and_expected_form() {
        let err = load_text("[server]\nlisten = \"localhost\"\n").unwrap_err().to_string();
        assert!(err.contains("key `server.listen` has `localhost`, expected an ADDRESS:PORT"), "{err}");
        let err = load_text("[server]\nshutdown_grace_secs = -1\n").unwrap_err().to_string();
        assert!(err.contains("`server.shutdown_grace_secs` has `-1`"), "{err}");
        let err = load_text("[node]\nhostnames = [\"bad host\"]\n").unwrap_err().to_string();
        assert!(err.contains("has `bad host`"), "{err}");
        let err = load_text("[log]\nformat = 3\n").unwrap_err().to_string();
        assert!(err.contains("key `log.format` has `3`, expected \"text\" or \"json\""), "{err}");
    }

    #[test]
    fn syntax_errors_and_top_level_keys_name_the_line() {
        let err = load_text("[server]\nlisten = \n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = load_text("listen = \"127.0.0.1:1\"\n").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("sections"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_unknown_env_is_refused() {
        let mut c = load_text("[server]\nlisten = \"127.0.0.1:1000\"\n").unwrap();
        c.apply_env([
            ("REDOUBT_SERVER_LISTEN".to_owned(), "127.0.0.1:2000".to_owned()),
            ("REDOUBT_NODE_HOSTNAMES".to_owned(), "a.example, b.example".to_owned()),
            ("REDOUBT_CONFIG".to_owned(), "/ignored/here".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ])
        .unwrap();
        assert_eq!(c.listen.port(), 2000);
        assert_eq!(c.hostnames, ["a.example", "b.example"]);
        assert_eq!(c.sources["server.listen"], Origin::Env("REDOUBT_SERVER_LISTEN".into()));
        let err = c.apply_env([("REDOUBT_SERVER_LISTN".to_owned(), "x".to_owned())]).unwrap_err().to_string();
        assert!(err.contains("environment variable `REDOUBT_SERVER_LISTN`: unknown key"), "{err}");
        let err = c.apply_env([("REDOUBT_LOG_FORMAT".to_owned(), "xml".to_owned())]).unwrap_err().to_string();
        assert!(err.contains("`REDOUBT_LOG_FORMAT`: key `log.format` has `xml`"), "{err}");
    }

    #[test]
    fn fmv_streams_come_from_the_file_and_show_round_trips() {
        let c = load_text(
            "[[fmv.streams]]\nid = \"uav1\"\nlisten = \"udp://127.0.0.1:5000\"\nclassification = \"SECRET\"\n\
             record = { bucket = \"fmv-rec\", segment_seconds = 10 }\n",
        )
        .unwrap();
        assert_eq!(c.fmv_streams.len(), 1);
        assert!(c.fmv_streams[0].record.is_some());
        let mut back = Config::default();
        back.apply_toml(Path::new("/abs/redoubt.toml"), &c.to_toml()).unwrap();
        assert_eq!(back.fmv_streams, c.fmv_streams);
        let err = load_text(
            "[[fmv.streams]]\nid = \"a\"\nlisten = \"udp://10.1.1.1:5000\"\nclassification = \"S\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 1") && err.contains("not a loopback address"), "{err}");
    }

    #[test]
    fn show_round_trips_through_the_parser() {
        let c = Config { hostnames: vec!["x.example".into()], ..Config::default() };
        let text = c.to_toml();
        let mut back = Config::default();
        back.apply_toml(Path::new("/abs/redoubt.toml"), &text).unwrap();
        assert_eq!(back.hostnames, c.hostnames);
        assert_eq!(back.listen, c.listen);
        assert!(text.contains("# default"), "{text}");
    }
}
