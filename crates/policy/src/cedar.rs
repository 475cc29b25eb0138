//! The Cedar half of the decision: loading and validating the policy set against the schema at startup, and
//! evaluating one request against it.
//!
//! Deny by default, forbid overrides permit (Cedar's semantics). Entities are built per request (the principal
//! and the resource only; no entity store), so the number of identities costs nothing. Requests and entities are
//! built without the schema on the hot path: the policy set was validated against the schema at startup
//! (strict mode), and the shape of what [`Engine::evaluate`] builds is checked against the schema by a test.
//! Any evaluation error denies (Cedar skips an erroring policy, which for a forbid would permit: fail closed).

use std::collections::BTreeMap;
use std::str::FromStr;

use cedar_policy::{
    ActionConstraint, Authorizer, Context, Effect, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    ParseErrors, Policy, PolicyId, PolicySet, Request, RestrictedExpression, Schema, ValidationMode,
    Validator,
};

use crate::action::Action;
use crate::error::PolicyError;
use crate::subject::Subject;

/// The Cedar schema the policies are validated against (`policies/schema.cedarschema`).
pub const SCHEMA: &str = include_str!("../../../policies/schema.cedarschema");

/// The annotation naming a policy; it becomes the policy id used in decisions and the audit.
const ID: &str = "id";
/// The annotation explaining a policy in one line; it goes into decision reasons.
const REASON: &str = "reason";

/// What the Cedar evaluation of one request needs, computed by the caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    pub subject: &'a Subject,
    pub action: Action,
    pub bucket: &'a str,
    pub key: &'a str,
    /// The SPIF spelling of the label's classification, `""` without a label.
    pub classification: &'a str,
    /// Its rank, 0 without a label.
    pub classification_rank: i64,
    pub secret_rank: i64,
    pub acdf_permit: bool,
    pub has_label: bool,
    pub posture_fresh: bool,
}

/// The outcome of the Cedar evaluation.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// Cedar said allow and nothing erred.
    pub allow: bool,
    /// The policies that determined the decision (the permits that allowed, or the forbids that denied), sorted
    /// by id: `(effect, id, reason)`.
    pub determining: Vec<(Effect, String, String)>,
    /// Evaluation errors (each one denies).
    pub errors: Vec<String>,
}

/// A loaded, validated policy set and what evaluation needs, built once.
#[derive(Debug)]
pub(crate) struct Engine {
    /// Per action (indexed by [`Action::index`]): the policies whose action scope can match it, specialised to
    /// it (see [`specialise`]). Cedar evaluates every policy of a set (it has no index), and a policy whose scope
    /// excludes the action can neither be satisfied nor err, so the subsets decide exactly as the whole set
    /// does (a test compares them), with fewer evaluations.
    by_action: Vec<PolicySet>,
    /// Effect and `@reason` of every policy by id (looking an annotation up in Cedar parses its key each time).
    reasons: BTreeMap<String, (Effect, String)>,
    authorizer: Authorizer,
    user_type: EntityTypeName,
    object_type: EntityTypeName,
    /// INVARIANT: indexed by [`Action::index`], same order as [`Action::ALL`].
    actions: Vec<EntityUid>,
}

impl Engine {
    /// Loads `text` (see [`load`]), validates it against [`SCHEMA`] (strict) and splits it per action.
    pub fn new(text: &str) -> Result<Engine, PolicyError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| PolicyError::Schema(e.to_string()))?;
        let policies = load(text)?;
        let result = Validator::new(schema).validate(&policies, ValidationMode::Strict);
        if let Some(e) = result.validation_errors().next() {
            use miette::Diagnostic as _;
            let offset = e.labels().and_then(|mut l| l.next()).map(|l| l.offset());
            let mut detail = e.to_string();
            if let Some(help) = e.help() {
                detail.push_str(&format!(" ({help})"));
            }
            return Err(PolicyError::Invalid {
                policy: e.policy_id().to_string(),
                line: offset.map_or(0, |o| line_col(text, o).0),
                detail,
            });
        }
        let ty = |s: &str| EntityTypeName::from_str(s).map_err(|e| PolicyError::Schema(e.to_string()));
        let action_type = ty("Redoubt::Action")?;
        let actions: Vec<EntityUid> = Action::ALL
            .iter()
            .map(|a| EntityUid::from_type_name_and_id(action_type.clone(), EntityId::new(a.as_str())))
            .collect();
        let mut by_action = Vec::with_capacity(actions.len());
        for action in &actions {
            let mut set = PolicySet::new();
            for p in policies.policies() {
                let Some(p) = specialise(p, action, &actions) else { continue };
                let id = p.id().to_string();
                set.add(p).map_err(|e| PolicyError::Annotation {
                    policy: format!("`{id}`"),
                    problem: e.to_string(),
                })?;
            }
            by_action.push(set);
        }
        let reasons = policies
            .policies()
            .map(|p| (p.id().to_string(), (p.effect(), p.annotation(REASON).unwrap_or_default().to_owned())))
            .collect();
        Ok(Engine {
            by_action,
            reasons,
            authorizer: Authorizer::new(),
            user_type: ty("Redoubt::User")?,
            object_type: ty("Redoubt::Object")?,
            actions,
        })
    }

    /// Evaluates one request. Never fails: a request that cannot be built denies, with the error as a reason.
    pub fn evaluate(&self, input: &Input<'_>) -> Outcome {
        let Some(policies) = self.by_action.get(input.action.index()) else {
            let e = format!("no cedar action for `{}`", input.action);
            return Outcome { allow: false, determining: Vec::new(), errors: vec![e] };
        };
        match self.build(input, None) {
            Ok((request, entities)) => self.authorize(&request, policies, &entities),
            Err(e) => Outcome { allow: false, determining: Vec::new(), errors: vec![e] },
        }
    }

    fn authorize(&self, request: &Request, policies: &PolicySet, entities: &Entities) -> Outcome {
        let response = self.authorizer.is_authorized(request, policies, entities);
        let diagnostics = response.diagnostics();
        let errors: Vec<String> = diagnostics.errors().map(|e| e.to_string()).collect();
        let mut determining: Vec<(Effect, String, String)> = diagnostics
            .reason()
            .map(|id| {
                let (effect, reason) = self
                    .reasons
                    .get(AsRef::<str>::as_ref(id))
                    .cloned()
                    .unwrap_or((Effect::Forbid, String::new()));
                (effect, id.to_string(), reason)
            })
            .collect();
        determining.sort_by(|a, b| a.1.cmp(&b.1));
        let allow = response.decision() == cedar_policy::Decision::Allow && errors.is_empty();
        Outcome { allow, determining, errors }
    }

    /// The request and its two entities. See `policies/schema.cedarschema` for the shapes. The hot path passes no
    /// schema (the policies were validated at startup); the tests pass it, to prove the shapes conform.
    fn build(&self, input: &Input<'_>, schema: Option<&Schema>) -> Result<(Request, Entities), String> {
        let s = input.subject;
        let principal = EntityUid::from_type_name_and_id(self.user_type.clone(), EntityId::new(&s.name));
        let resource_id = format!("{}/{}", input.bucket, input.key);
        let resource = EntityUid::from_type_name_and_id(self.object_type.clone(), EntityId::new(resource_id));
        let Some(action) = self.actions.get(input.action.index()) else {
            return Err(format!("no cedar action for `{}`", input.action));
        };
        let string = |v: &str| RestrictedExpression::new_string(v.to_owned());
        let user = Entity::new_with_tags(
            principal.clone(),
            [
                ("role".to_owned(), string(s.role.as_str())),
                ("nationality".to_owned(), string(s.nationality.as_deref().unwrap_or(""))),
                ("cois".to_owned(), RestrictedExpression::new_set(s.cois.iter().map(|c| string(c)))),
                ("authn".to_owned(), string(&s.authn)),
                ("has_posture".to_owned(), RestrictedExpression::new_bool(s.posture.is_some())),
                ("posture_fresh".to_owned(), RestrictedExpression::new_bool(input.posture_fresh)),
                (
                    "disk_encrypted".to_owned(),
                    RestrictedExpression::new_bool(s.posture.as_ref().is_some_and(|p| p.disk_encrypted)),
                ),
            ],
            [],
            [],
        )
        .map_err(|e| format!("cedar principal: {e}"))?;
        let object = Entity::new_with_tags(
            resource.clone(),
            [
                ("bucket".to_owned(), string(input.bucket)),
                ("classification".to_owned(), string(input.classification)),
                ("classification_rank".to_owned(), RestrictedExpression::new_long(input.classification_rank)),
            ],
            [],
            [],
        )
        .map_err(|e| format!("cedar resource: {e}"))?;
        let context = Context::from_pairs([
            ("acdf_permit".to_owned(), RestrictedExpression::new_bool(input.acdf_permit)),
            ("has_label".to_owned(), RestrictedExpression::new_bool(input.has_label)),
            ("secret_rank".to_owned(), RestrictedExpression::new_long(input.secret_rank)),
        ])
        .map_err(|e| format!("cedar context: {e}"))?;
        let request = Request::new(principal, action.clone(), resource, context, schema)
            .map_err(|e| format!("cedar request: {e}"))?;
        let entities =
            Entities::from_entities([user, object], schema).map_err(|e| format!("cedar entities: {e}"))?;
        Ok((request, entities))
    }
}

/// Parses `text` and gives every policy its `@id` (required, unique, with a non-empty `@reason`).
fn load(text: &str) -> Result<PolicySet, PolicyError> {
    let parsed = PolicySet::from_str(text).map_err(|e| parse_error(text, &e))?;
    if let Some(t) = parsed.templates().next() {
        return Err(PolicyError::Annotation {
            policy: format!("template `{}`", t.id()),
            problem: "templates are not supported: write static policies".into(),
        });
    }
    let mut policies = PolicySet::new();
    for p in parsed.policies() {
        let where_ = || describe(text, p);
        let Some(id) = p.annotation(ID) else {
            return Err(PolicyError::Annotation {
                policy: where_(),
                problem: "has no `@id(\"…\")` annotation: give every policy a unique id".into(),
            });
        };
        if id.is_empty() || p.annotation(REASON).is_none_or(str::is_empty) {
            return Err(PolicyError::Annotation {
                policy: where_(),
                problem: "needs a non-empty `@id(\"…\")` and `@reason(\"…\")`: the reason explains decisions"
                    .into(),
            });
        }
        if policies.add(p.new_id(PolicyId::new(id))).is_err() {
            return Err(PolicyError::Annotation {
                policy: where_(),
                problem: format!("repeats the id `{id}`: policy ids must be unique"),
            });
        }
    }
    Ok(policies)
}

/// Policy `p` as it applies to requests for `action` alone, or `None` when its action scope excludes `action`.
///
/// The schema declares no action groups, so `action in [..]` is membership; a policy whose list holds `action` is
/// rewritten with an unconstrained action scope, which is the same thing for requests that are all for `action`
/// and spares Cedar building the list as a set on every evaluation (its biggest per-policy cost). A scope naming
/// an action we do not know (impossible after strict validation), or a policy that does not round-trip through
/// its JSON form, is kept as it is, so that no policy is ever dropped or changed by mistake.
fn specialise(p: &Policy, action: &EntityUid, known: &[EntityUid]) -> Option<Policy> {
    match p.action_constraint() {
        ActionConstraint::Any => Some(p.clone()),
        ActionConstraint::Eq(a) => (&a == action || !known.contains(&a)).then(|| p.clone()),
        ActionConstraint::In(list) => {
            if list.iter().any(|a| !known.contains(a)) {
                Some(p.clone())
            } else if list.contains(action) {
                Some(unconstrained_action(p).unwrap_or_else(|| p.clone()))
            } else {
                None
            }
        }
    }
}

/// `p` with `action` in place of its action scope, through the policy's JSON form.
fn unconstrained_action(p: &Policy) -> Option<Policy> {
    let mut json = p.to_json().ok()?;
    *json.get_mut("action")? = serde_json::json!({ "op": "All" });
    let q = Policy::from_json(Some(p.id().clone()), json).ok()?;
    matches!(q.action_constraint(), ActionConstraint::Any).then_some(q)
}

/// A parse error with the line, column and nearest `@id` of its first location.
fn parse_error(text: &str, e: &ParseErrors) -> PolicyError {
    use miette::Diagnostic as _;
    let offset = e.labels().and_then(|mut l| l.next()).map(|l| l.offset());
    let (line, column) = offset.map_or((0, 0), |o| line_col(text, o));
    let mut detail = e.to_string();
    if let Some(help) = e.help() {
        detail.push_str(&format!(" ({help})"));
    }
    PolicyError::Parse {
        policy: offset.and_then(|o| id_before(text, o)).unwrap_or("?").to_owned(),
        line,
        column,
        detail,
    }
}

/// The value of the last `@id("…")` that starts before byte `offset`.
fn id_before(text: &str, offset: usize) -> Option<&str> {
    let head = text.get(..offset)?;
    let start = head.rfind("@id(\"")? + "@id(\"".len();
    let rest = text.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let head = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = head.matches('\n').count() + 1;
    let column = head.rfind('\n').map_or(head.len(), |nl| head.len() - nl - 1) + 1;
    (line, column)
}

/// How to name a policy that has no usable `@id`: its line when its text can be found, else its parser id.
fn describe(text: &str, p: &Policy) -> String {
    let src = p.to_string();
    let first = src.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_owned();
    match text.find(src.trim()) {
        Some(o) => format!("at line {} (`{first}`)", line_col(text, o).0),
        None => format!("`{}` (`{first}`)", p.id()),
    }
}

#[cfg(test)]
mod tests {
    use redoubt_label::{Clearance, PolicyId};

    use super::*;
    use crate::subject::{Posture, Role};

    fn subject(posture: bool) -> Subject {
        Subject {
            name: "alice \"the\" analyst/1".into(),
            role: Role::Reader,
            nationality: Some("FRA".into()),
            cois: vec!["NATO".into(), "EAPC".into()],
            clearance: Clearance::new(PolicyId::default(), vec![], Default::default()),
            posture: posture.then(|| Posture {
                patch_level: "2026-11".into(),
                disk_encrypted: true,
                checked_at_unix: 10,
                device: "dev-1".into(),
            }),
            authn: "mtls".into(),
        }
    }

    /// What the hot path builds without the schema conforms to it, for every action and both label states.
    #[test]
    fn built_requests_conform_to_the_schema() {
        let (schema, _) = Schema::from_cedarschema_str(SCHEMA).unwrap();
        let engine = Engine::new(crate::DEFAULT_POLICIES).unwrap();
        for posture in [false, true] {
            let s = subject(posture);
            for action in Action::ALL {
                for has_label in [false, true] {
                    let input = Input {
                        subject: &s,
                        action,
                        bucket: "b",
                        key: if has_label { "k" } else { "" },
                        classification: if has_label { "SECRET" } else { "" },
                        classification_rank: if has_label { 4 } else { 0 },
                        secret_rank: 4,
                        acdf_permit: has_label,
                        has_label,
                        posture_fresh: posture,
                    };
                    engine.build(&input, Some(&schema)).unwrap();
                    let out = engine.evaluate(&input);
                    assert!(out.errors.is_empty(), "{action}: {:?}", out.errors);
                }
            }
        }
    }

    /// The per-action subsets decide exactly as the whole policy set would.
    #[test]
    fn per_action_subsets_decide_as_the_whole_set() {
        let engine = Engine::new(crate::DEFAULT_POLICIES).unwrap();
        let all = load(crate::DEFAULT_POLICIES).unwrap();
        assert_eq!(all.policies().count(), engine.reasons.len());
        let rewritten = engine.by_action.iter().flat_map(|s| s.policies()).filter(|p| {
            !matches!(all.policy(p.id()).unwrap().action_constraint(), ActionConstraint::Any)
                && matches!(p.action_constraint(), ActionConstraint::Any)
        });
        assert!(rewritten.count() > 0, "the `action in [..]` scopes are specialised");
        let mut s = subject(true);
        for role in Role::ALL {
            s.role = role;
            for action in Action::ALL {
                for bits in 0..8_u8 {
                    for rank in [0, 2, 4, 5] {
                        let input = Input {
                            subject: &s,
                            action,
                            bucket: "b",
                            key: "k",
                            classification: "X",
                            classification_rank: rank,
                            secret_rank: 4,
                            acdf_permit: bits & 1 != 0,
                            has_label: bits & 2 != 0,
                            posture_fresh: bits & 4 != 0,
                        };
                        let (request, entities) = engine.build(&input, None).unwrap();
                        let subset = engine.authorize(&request, &engine.by_action[action.index()], &entities);
                        let whole = engine.authorize(&request, &all, &entities);
                        assert_eq!(subset.allow, whole.allow, "{role} {action} {bits} {rank}");
                        assert_eq!(subset.determining, whole.determining, "{role} {action} {bits} {rank}");
                        assert!(whole.errors.is_empty());
                    }
                }
            }
        }
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
        assert_eq!(id_before("@id(\"x\")\npermit", 10), Some("x"));
        assert_eq!(id_before("permit", 3), None);
    }
}
