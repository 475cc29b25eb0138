//! Decision latency with 10 000 identities: decides 100 000 requests over random subjects, actions and labels
//! (NATO SPIF, labels from the label crate's test data plus built ones) and prints p50/p99/max in µs, with the
//! ACDF alone measured side by side (the machine is shared: the ratio is the stable figure).
//!
//! Run: `cargo bench -p redoubt-policy --bench decide`

#![allow(clippy::print_stdout)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, reason = "a benchmark program")]

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use redoubt_label::{Category, CategoryType, Label, Mode, PolicySet, Spif};
use redoubt_policy::{Action, Pdp, Posture, Request, Resource, Role, Subject, clearance_for};

const IDENTITIES: usize = 10_000;
const REQUESTS: usize = 100_000;
const NOW: i64 = 1_700_000_000;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn labels(spif: &Spif) -> Vec<Label> {
    let data = root().join("crates/label/tests/data");
    let mut set = PolicySet::new();
    set.add(spif.clone()).unwrap();
    let mut out = Vec::new();
    for i in 1..=6 {
        // spiffing's XML form (needs the SPIF) and the 4774 XML form of the same conformance labels.
        let spiffing = std::fs::read(data.join(format!("nato-4774-17-{i}.xml"))).unwrap();
        out.push(set.read_label(&spiffing, Mode::Lenient).unwrap().0);
        let nato = std::fs::read(data.join(format!("nato-4774-17-{i}.nato"))).unwrap();
        out.push(Label::from_xml(&nato, Mode::Lenient).unwrap());
    }
    for class in ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"] {
        for nations in [&["FRA"][..], &["FRA", "DEU", "ITA", "GBR"], &["USA", "CAN"]] {
            let mut l = Label::new(spif.policy_id(), class);
            l.categories.push(Category {
                tag_name: "Releasable To".into(),
                kind: CategoryType::Permissive,
                uri: None,
                values: nations.iter().map(|n| n.to_string()).collect(),
            });
            l.categories.push(Category {
                tag_name: "Context".into(),
                kind: CategoryType::Permissive,
                uri: None,
                values: vec!["NATO".into()],
            });
            out.push(l);
        }
    }
    out
}

fn subjects(spif: &Spif, rng: &mut Rng) -> Vec<Subject> {
    let levels = spif.classifications();
    let nations = ["FRA", "DEU", "ITA", "GBR", "USA", "CAN", "NLD", "POL"];
    let cois = ["NATO", "EAPC", "ISAF", "KFOR"];
    (0..IDENTITIES)
        .map(|i| {
            let role = *rng.pick(&Role::ALL);
            let nationality = rng.pick(&nations).to_string();
            let coi: Vec<String> =
                cois.iter().filter(|_| rng.next().is_multiple_of(2)).map(|c| c.to_string()).collect();
            let level = rng.pick(&levels);
            let posture = match rng.next() % 4 {
                0 => None,
                1 => Some(NOW - 3 * 86_400),
                _ => Some(NOW - 600),
            }
            .map(|at| Posture {
                patch_level: "2023-11".into(),
                disk_encrypted: true,
                checked_at_unix: at,
                device: format!("device-{i}"),
            });
            Subject {
                name: format!("user-{i:05}@example.int"),
                role,
                clearance: clearance_for(spif, level, Some(&nationality), &coi).unwrap(),
                nationality: Some(nationality),
                cois: coi,
                posture,
                authn: "mtls".into(),
            }
        })
        .collect()
}

fn percentiles(mut ns: Vec<u64>) -> (f64, f64, f64) {
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() as f64 * q) as usize).min(ns.len() - 1)] as f64 / 1000.0;
    (at(0.50), at(0.99), *ns.last().unwrap() as f64 / 1000.0)
}

fn main() {
    let xml = std::fs::read(root().join("policies/nato-spif.xml")).unwrap();
    let spif = Spif::from_xml(&xml, Mode::Strict).unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let labels = labels(&spif);
    let subjects = subjects(&spif, &mut rng);
    let start = Instant::now();
    let pdp = Pdp::with_defaults(spif).unwrap();
    let load_ms = start.elapsed().as_secs_f64() * 1000.0;
    let actions = [
        Action::Read,
        Action::Read,
        Action::Read,
        Action::ReadLabel,
        Action::Write,
        Action::List,
        Action::Delete,
    ];
    let plan: Vec<(usize, Action, Option<usize>)> = (0..REQUESTS)
        .map(|_| {
            let action = *rng.pick(&actions);
            let label = (action != Action::List).then(|| (rng.next() % labels.len() as u64) as usize);
            ((rng.next() % IDENTITIES as u64) as usize, action, label)
        })
        .collect();

    // Warm up, then measure the full decision and the ACDF alone over the same plan.
    for &(s, action, l) in plan.iter().take(5_000) {
        let req = Request {
            subject: &subjects[s],
            action,
            resource: Resource { bucket: "intel", key: Some("report"), label: l.map(|i| &labels[i]) },
            now_unix: NOW,
        };
        black_box(pdp.decide(&req));
    }
    let mut full = Vec::with_capacity(REQUESTS);
    let mut acdf = Vec::with_capacity(REQUESTS);
    let mut permits = 0;
    let wall = Instant::now();
    for &(s, action, l) in &plan {
        let req = Request {
            subject: &subjects[s],
            action,
            resource: Resource { bucket: "intel", key: Some("report"), label: l.map(|i| &labels[i]) },
            now_unix: NOW,
        };
        let t = Instant::now();
        let d = black_box(pdp.decide(&req));
        full.push(t.elapsed().as_nanos() as u64);
        permits += usize::from(d.permit);
    }
    let wall = wall.elapsed().as_secs_f64();
    for &(s, _, l) in &plan {
        let Some(l) = l else { continue };
        let t = Instant::now();
        black_box(pdp.spif().decide(&labels[l], &subjects[s].clearance));
        acdf.push(t.elapsed().as_nanos() as u64);
    }
    let (p50, p99, max) = percentiles(full);
    let (a50, a99, amax) = percentiles(acdf);
    println!("policy set load + strict validation: {load_ms:.1} ms");
    println!("{IDENTITIES} identities, {REQUESTS} requests ({permits} permits), {} labels", labels.len());
    println!(
        "decide (ACDF + Cedar):  p50 {p50:.1} µs  p99 {p99:.1} µs  max {max:.1} µs  ({:.0} decisions/s)",
        REQUESTS as f64 / wall
    );
    println!("ACDF alone (Spif::decide): p50 {a50:.1} µs  p99 {a99:.1} µs  max {amax:.1} µs");
    println!("ratio decide/ACDF: p50 {:.1}x  p99 {:.1}x", p50 / a50, p99 / a99);
    println!("goal p99 < 50 µs: {}", if p99 < 50.0 { "met" } else { "NOT met" });
}
