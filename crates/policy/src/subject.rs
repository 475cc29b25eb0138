//! Who asks: the subject of a request (identity, role, clearance, device posture) and the seven roles.
//!
//! A subject is built by the node from an authenticated identity for each request; this crate never looks one up.

use std::fmt;
use std::str::FromStr;

use redoubt_label::Clearance;

use crate::error::PolicyError;

/// How far in the future a posture report's time may be (clock skew between device and node), in seconds.
pub const POSTURE_CLOCK_SKEW_SECS: i64 = 300;

/// The role of an identity: what kind of work it does. Separation of duties is written in the Cedar policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads labelled data it is cleared for.
    Reader,
    /// Reads and writes labelled data it is cleared for.
    Writer,
    /// Security officer: labels, policies, clearances; may learn any object's label.
    Officer,
    /// Runs the system (buckets, nodes); never reads or writes data.
    Operator,
    /// Reads the audit trail.
    Auditor,
    /// Manages identities and buckets; never reads data.
    Administrator,
    /// A device: its certificate signs the device's posture reports; permitted nothing on its own.
    Device,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 7] = [
        Role::Reader,
        Role::Writer,
        Role::Officer,
        Role::Operator,
        Role::Auditor,
        Role::Administrator,
        Role::Device,
    ];

    /// The lower-case name, as the Cedar policies and configuration files spell it. Do not change: policies
    /// compare `principal.role` with it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Officer => "officer",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
            Role::Device => "device",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| PolicyError::UnknownRole(s.to_owned()))
    }
}

/// The last posture report of the device a request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Posture {
    /// The device's patch level as reported (opaque to this crate).
    pub patch_level: String,
    /// Whether the device reported full-disk encryption.
    pub disk_encrypted: bool,
    /// When the posture was checked (Unix seconds).
    pub checked_at_unix: i64,
    /// The device id.
    pub device: String,
}

impl Posture {
    /// True when the report is at most `max_age_secs` old at `now_unix` and not from further in the future than
    /// [`POSTURE_CLOCK_SKEW_SECS`] (a report dated ahead is a wrong clock or a forgery: not fresh).
    pub fn is_fresh(&self, now_unix: i64, max_age_secs: i64) -> bool {
        now_unix.saturating_sub(self.checked_at_unix) <= max_age_secs
            && self.checked_at_unix <= now_unix.saturating_add(POSTURE_CLOCK_SKEW_SECS)
    }
}

/// Who asks: an authenticated identity with its role, clearance and device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The identity's name (the Cedar principal id).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// ISO 3166 alpha-3 nationality, e.g. `FRA`.
    pub nationality: Option<String>,
    /// Communities of interest (SPIF category value names).
    pub cois: Vec<String>,
    /// Its label clearance (see [`crate::clearance_for`]).
    pub clearance: Clearance,
    /// The posture of the device the request comes from, if reported.
    pub posture: Option<Posture>,
    /// How it authenticated: `mtls`, `sigv4` or `jwt`.
    pub authn: String,
}
