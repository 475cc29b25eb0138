//! Label engine throughput on one core, with the NATO SPIF loaded: ACDF decisions per second (goal ≥ 2 million/s)
//! and label parse + validate per second (goal ≥ 100 000/s). There is no comparable peer to run side by side, so
//! each figure is printed with its goal and the ratio to it.
//!
//! Run: `cargo bench -p redoubt-label --bench label` (add `-- --quick` for a short run).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark program reports on stdout"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use redoubt_label::{Category, CategoryType, Clearance, Label, Levels, Mode, PolicyId, Spif};

const LABEL: &str = include_str!("../tests/data/bench-label.xml");

/// Runs `f` in batches until `budget` has elapsed; returns operations per second.
fn rate(budget: Duration, mut f: impl FnMut() -> bool) -> f64 {
    let start = Instant::now();
    let mut n: u64 = 0;
    let mut ok = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            ok += u64::from(black_box(f()));
        }
        n += 1000;
    }
    black_box(ok);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Tokenises the input and touches every event: the cost floor of any XML label reader built on quick-xml.
fn scan(input: &[u8]) -> bool {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut n = 0usize;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return n > 0,
            Ok(e) => n += black_box(e.len()),
            Err(_) => return false,
        }
    }
}

fn report(what: &str, per_sec: f64, goal: f64) {
    let verdict = if per_sec >= goal { "meets" } else { "BELOW" };
    println!("{what:<44} {per_sec:>14.0}/s   goal {goal:>10.0}/s   x{:.1} ({verdict})", per_sec / goal);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 2000 });
    let spif = Spif::from_xml(include_bytes!("../tests/data/nato-4774-policy.xml"), Mode::Strict).unwrap();
    let label = Label::from_xml(LABEL.as_bytes(), Mode::Strict).unwrap();
    assert!(spif.validate(&label).is_empty());
    let mut clearance =
        Clearance::new(PolicyId { name: "NATO".into(), uri: None }, vec!["SECRET".into()], Levels::Dominance);
    clearance.categories = vec![
        Category {
            tag_name: "Context".into(),
            kind: CategoryType::Permissive,
            uri: None,
            values: vec!["Releasable".into()],
        },
        Category {
            tag_name: "Releasable To".into(),
            kind: CategoryType::Permissive,
            uri: None,
            values: vec!["FRA".into(), "DEU".into()],
        },
        Category {
            tag_name: "Additional Sensitivity".into(),
            kind: CategoryType::Restrictive,
            uri: None,
            values: vec!["ATOMAL".into()],
        },
    ];
    let bl = spif.bind_label(&label).unwrap();
    let bc = spif.bind_clearance(&clearance).unwrap();
    assert!(spif.decide_bound(&bl, &bc).is_permit());
    let mut denied = clearance.clone();
    denied.categories.truncate(2);
    let bd = spif.bind_clearance(&denied).unwrap();
    assert!(!spif.decide_bound(&bl, &bd).is_permit());

    println!(
        "redoubt-label benchmark: NATO SPIF ({} bytes), label of {} bytes, one core",
        87323,
        LABEL.len()
    );
    report(
        "ACDF decide_bound (permit)",
        rate(budget, || spif.decide_bound(black_box(&bl), black_box(&bc)).is_permit()),
        2e6,
    );
    report(
        "ACDF decide_bound (deny, rule 4)",
        rate(budget, || spif.decide_bound(black_box(&bl), black_box(&bd)).is_permit()),
        2e6,
    );
    report(
        "ACDF decide (bind label + clearance each time)",
        rate(budget, || spif.decide(black_box(&label), black_box(&clearance)).is_permit()),
        2e6,
    );
    report(
        "label parse (4774 XML, strict) + validate",
        rate(budget, || {
            Label::from_xml(black_box(LABEL.as_bytes()), Mode::Strict)
                .is_ok_and(|l| spif.validate(&l).is_empty())
        }),
        1e5,
    );
    let floor = rate(budget, || scan(black_box(LABEL.as_bytes())));
    println!(
        "{:<44} {floor:>14.0}/s   (floor: tokenising the same bytes with quick-xml, no tree)",
        "quick-xml event scan"
    );
    report(
        "label parse only (4774 XML, strict)",
        rate(budget, || Label::from_xml(black_box(LABEL.as_bytes()), Mode::Strict).is_ok()),
        1e5,
    );
    report(
        "display marking",
        rate(budget, || !spif.marking(black_box(&label), "").unwrap_or_default().is_empty()),
        1e5,
    );
}
