//! The actions a subject asks for, with their wire names (the Cedar action ids and the audit's spelling).

use std::fmt;
use std::str::FromStr;

use crate::error::PolicyError;

/// What a subject asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read an object's data.
    Read,
    /// Write an object (the resource label is the label being written).
    Write,
    /// Delete an object.
    Delete,
    /// Learn an object's label and marking without its data (HEAD).
    ReadLabel,
    /// List buckets or keys.
    List,
    /// Create a bucket.
    CreateBucket,
    /// Delete a bucket.
    DeleteBucket,
    /// Read the audit trail.
    ReadAudit,
    /// Create, change or revoke identities.
    ManageIdentities,
    /// List and rotate the KAS keys, and ask for a key version to be destroyed.
    ManageKeys,
    /// Approve the destruction (crypto-shredding) of a key version someone else asked for.
    ApproveKeyDestruction,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 11] = [
        Action::Read,
        Action::Write,
        Action::Delete,
        Action::ReadLabel,
        Action::List,
        Action::CreateBucket,
        Action::DeleteBucket,
        Action::ReadAudit,
        Action::ManageIdentities,
        Action::ManageKeys,
        Action::ApproveKeyDestruction,
    ];

    /// The action's name: the Cedar action id (`Redoubt::Action::"<name>"`) and the audit spelling.
    /// Do not change: policies and audit records name actions by it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Delete => "delete",
            Action::ReadLabel => "read_label",
            Action::List => "list",
            Action::CreateBucket => "create_bucket",
            Action::DeleteBucket => "delete_bucket",
            Action::ReadAudit => "read_audit",
            Action::ManageIdentities => "manage_identities",
            Action::ManageKeys => "manage_keys",
            Action::ApproveKeyDestruction => "approve_key_destruction",
        }
    }

    /// True for the actions that are about one labelled object and deny without a label.
    pub fn needs_label(self) -> bool {
        matches!(self, Action::Read | Action::Write | Action::ReadLabel)
    }

    /// True for the actions that require an ACDF permit whatever the Cedar policies say (fail closed: nobody
    /// reads data, or labels data, above what their clearance covers).
    pub fn needs_acdf_permit(self) -> bool {
        matches!(self, Action::Read | Action::Write)
    }

    /// Position in [`Action::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = PolicyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| PolicyError::UnknownAction(s.to_owned()))
    }
}
