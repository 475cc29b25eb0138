//! A set of loaded policies, found by OID or name: what reading a label in any form, translation between
//! policies and the CLI's several `--spif` need.

use crate::clearance::Clearance;
use crate::error::Error;
use crate::format::{
    self, Format, ber, clearance_xml, json, json_structured, nato_xml, spiffing_xml, stanag5636,
};
use crate::label::{Label, PolicyId};
use crate::spif::Spif;
use crate::{Mode, Repair};

/// Policies by OID and name.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    spifs: Vec<Spif>,
}

impl PolicySet {
    /// An empty set.
    pub fn new() -> Self {
        PolicySet::default()
    }

    /// Adds a policy; a second policy with the same OID or name is refused.
    pub fn add(&mut self, spif: Spif) -> Result<(), Error> {
        if self.spifs.iter().any(|s| s.oid == spif.oid || s.name.eq_ignore_ascii_case(&spif.name)) {
            return Err(Error::Spif(format!("policy `{}` ({}) is loaded twice", spif.name, spif.oid)));
        }
        self.spifs.push(spif);
        Ok(())
    }

    /// The loaded policies, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Spif> {
        self.spifs.iter()
    }

    /// The policy with this OID (or `urn:oid:` URI) or name (ignoring ASCII case).
    pub fn get(&self, id: &str) -> Option<&Spif> {
        let oid = id.strip_prefix("urn:oid:").unwrap_or(id);
        self.spifs
            .iter()
            .find(|s| s.oid == oid)
            .or_else(|| self.spifs.iter().find(|s| s.name.eq_ignore_ascii_case(id)))
    }

    /// The policy a label or clearance is under.
    pub fn policy_of(&self, policy: &PolicyId) -> Result<&Spif, Error> {
        self.spifs.iter().find(|s| s.is_policy(policy)).ok_or_else(|| Error::UnknownPolicy {
            id: policy
                .uri
                .as_deref()
                .and_then(|u| u.strip_prefix("urn:oid:"))
                .unwrap_or(&policy.name)
                .to_owned(),
        })
    }

    fn by_oid(&self, oid: &str) -> Result<&Spif, Error> {
        self.spifs.iter().find(|s| s.oid == oid).ok_or_else(|| Error::UnknownPolicy { id: oid.to_owned() })
    }

    /// Reads a label in any supported form (detected), resolving the numeric forms with the loaded policies.
    pub fn read_label(&self, input: &[u8], mode: Mode) -> Result<(Label, Vec<Repair>), Error> {
        let text = || {
            std::str::from_utf8(input).map_err(|_| Error::Json { form: "label", detail: "not UTF-8".into() })
        };
        match format::detect(input)? {
            Format::NatoXml => nato_xml::parse(input, mode),
            Format::SpiffingLabel => {
                let (raw, repairs) = spiffing_xml::parse_label(input, mode)?;
                Ok((self.by_oid(&raw.policy_id)?.label_from_raw(&raw)?, repairs))
            }
            Format::Ber => {
                let raw = ber::parse(input)?;
                Ok((self.by_oid(&raw.policy_id)?.label_from_raw(&raw)?, Vec::new()))
            }
            Format::CompactLabel => Ok((json::parse_label(text()?)?, Vec::new())),
            Format::Stanag5636 => Ok((stanag5636::parse(text()?)?, Vec::new())),
            Format::JsonStructured => Ok((json_structured::parse(text()?)?, Vec::new())),
            Format::NatoClearanceXml | Format::SpiffingClearance | Format::CompactClearance => {
                Err(Error::UnsupportedFormat("this is a clearance, not a label".into()))
            }
        }
    }

    /// Reads a clearance in any supported form (detected).
    pub fn read_clearance(&self, input: &[u8], mode: Mode) -> Result<(Clearance, Vec<Repair>), Error> {
        match format::detect(input)? {
            Format::NatoClearanceXml => clearance_xml::parse(input, mode),
            Format::SpiffingClearance => {
                let (raw, repairs) = spiffing_xml::parse_clearance(input, mode)?;
                Ok((self.by_oid(&raw.policy_id)?.clearance_from_raw(&raw)?, repairs))
            }
            Format::CompactClearance => {
                let text = std::str::from_utf8(input)
                    .map_err(|_| Error::Json { form: "compact", detail: "not UTF-8".into() })?;
                Ok((json::parse_clearance(text)?, Vec::new()))
            }
            _ => Err(Error::UnsupportedFormat("this is a label, not a clearance".into())),
        }
    }

    /// Translates `label` into the policy `to` (OID or name).
    pub fn translate(&self, label: &Label, to: &str) -> Result<Label, Error> {
        let source = self.policy_of(&label.policy)?;
        let target = self.get(to).ok_or_else(|| Error::UnknownPolicy { id: to.to_owned() })?;
        source.translate(label, target)
    }
}
