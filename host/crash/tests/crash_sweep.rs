//! The bounded crash sweep CI runs: at least 2,000 distinct crash states of seeded
//! workloads, across every fault class, with zero violations on the real guest.

use std::time::Instant;

use walogs_crash::{Class, ExploreOptions, explore};

#[test]
fn the_real_guest_survives_every_crash_state_of_the_ci_sweep() {
    let states: u64 = std::env::var("WALOGS_CRASH_STATES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_400);
    let options = ExploreOptions {
        seed: 20_240_601,
        states,
        ..ExploreOptions::default()
    };
    let started = Instant::now();
    let report = explore(walogs_testkit::fueled_runtime(), &options, &mut |_| {}).unwrap();
    eprintln!("{}", report.text());
    eprintln!("sweep took {:.1?}", started.elapsed());
    assert!(report.passed(), "{}", report.text());
    assert!(
        report.states >= states * 9 / 10,
        "only {} states",
        report.states
    );
    for class in Class::ALL {
        let row = report.row(class).unwrap();
        assert!(row.states > 0, "no {class} states");
    }
}
