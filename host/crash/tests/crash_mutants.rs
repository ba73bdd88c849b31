//! The explorer has teeth: each mutant guest — the engine with one durability rule broken
//! by a test-only cfg switch — is flagged, in the fault class that exposes it, at a case
//! the real guest passes.

use walogs_crash::{Case, Class, ExploreOptions, Report, Verdict, Violation, explore, replay};
use walogs_host::{Runtime, RuntimeOptions};
use walogs_testkit::mutants::{self, Mutant};

/// The fault classes that expose `mutant`.
fn exposed_by(mutant: Mutant) -> &'static [Class] {
    match mutant {
        Mutant::SkipFdatasync => &[Class::PowerLoss, Class::TornWrite],
        Mutant::SkipDirFsync => &[Class::PowerLoss],
        Mutant::TruncateAtFirstBadFrame => &[Class::Damage],
        Mutant::IgnoreFsyncErrors => &[Class::IoError],
        Mutant::IgnoreDurablePoint => &[Class::OutOfOrder],
    }
}

fn options() -> RuntimeOptions {
    RuntimeOptions {
        fuel: true,
        ..RuntimeOptions::default()
    }
}

/// Sweeps `mutant` in the classes that expose it; returns the report and one violation
/// whose case the real guest passes.
fn assert_flagged(mutant: Mutant) -> (Report, Violation) {
    let wasm = mutants::build(&mutants::workspace_root(), mutant).expect("the mutant builds");
    let rt = Runtime::from_file_with_options(&wasm, options()).expect("the mutant loads");
    let sweep = ExploreOptions {
        seed: 99,
        states: 1_500,
        classes: exposed_by(mutant).to_vec(),
        stop_after: Some(20),
        ..ExploreOptions::default()
    };
    let report = explore(&rt, &sweep, &mut |_| {}).unwrap();
    eprintln!("{}: {}", mutant.name(), report.table());
    assert!(
        report.violation_count > 0,
        "{} was not flagged:\n{}",
        mutant.name(),
        report.text()
    );
    // The flagged case is the mutant's fault, not the engine's: the real guest passes it.
    let witness = report
        .violations
        .iter()
        .find(|v| passes_on_the_real_guest(&v.case));
    let witness = witness.unwrap_or_else(|| {
        panic!(
            "every case that flags {} fails on the real guest too:\n{}",
            mutant.name(),
            report.text()
        )
    });
    assert!(exposed_by(mutant).contains(&witness.class), "{witness:?}");
    eprintln!(
        "{} flagged: {} — {}",
        mutant.name(),
        witness.case,
        witness.reason
    );
    let witness = witness.clone();
    (report, witness)
}

fn passes_on_the_real_guest(case: &str) -> bool {
    let case: Case = case.parse().expect("a case text");
    let replayed =
        replay(walogs_testkit::fueled_runtime(), &case, None).expect("the real guest replays");
    matches!(replayed.verdict, Some(Verdict::Pass(_)))
}

#[test]
fn skipping_the_fdatasync_is_flagged() {
    assert_flagged(Mutant::SkipFdatasync);
}

#[test]
fn skipping_the_directory_fsync_is_flagged() {
    assert_flagged(Mutant::SkipDirFsync);
}

#[test]
fn truncating_at_the_first_bad_frame_is_flagged() {
    assert_flagged(Mutant::TruncateAtFirstBadFrame);
}

#[test]
fn ignoring_fsync_errors_is_flagged() {
    assert_flagged(Mutant::IgnoreFsyncErrors);
}

/// Recovery as it was before the durable point: an interrupted write that persisted out of
/// order (a later page kept, an earlier one lost) makes the log refuse to open. The
/// out-of-order class finds that, and every state it flags opens on the real guest.
#[test]
fn ignoring_the_durable_point_is_flagged_by_out_of_order_persistence() {
    let (report, witness) = assert_flagged(Mutant::IgnoreDurablePoint);
    let refused: Vec<&Violation> = report
        .violations
        .iter()
        .filter(|v| v.reason.starts_with("recovery (open) failed") && v.reason.contains("corrupt"))
        .collect();
    assert!(
        !refused.is_empty(),
        "no Corrupt-on-open violation:\n{}",
        report.text()
    );
    eprintln!("{}", report.text());
    for v in &report.violations {
        assert_eq!(v.class, Class::OutOfOrder, "{v:?}");
        assert!(
            passes_on_the_real_guest(&v.case),
            "the real guest fails {}",
            v.case
        );
    }
    assert!(witness.case.contains(":ooo@"), "{witness:?}");
}
