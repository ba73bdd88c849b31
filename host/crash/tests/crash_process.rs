//! Process crashes: the host stops the guest with fuel at many points of a run of appends,
//! batches, syncs and rotations. After each stop the log is reopened in a fresh store: every
//! acknowledged entry must be intact, nothing that was never appended may appear, and
//! appending must continue at the next LSN.

use walogs::{Durability, Lsn, WalConfig};
use walogs_host::{ComponentWal, HostError};

/// Entry `i`: distinct, of varied sizes (some span 512-byte sectors and segments).
fn payload(i: u64) -> Vec<u8> {
    let len = [3, 40, 130, 700, 17, 1_500, 64][i as usize % 7];
    let mut data: Vec<u8> = (0..len).map(|j| (i * 31 + j as u64) as u8).collect();
    data[..2].copy_from_slice(&(i as u16).to_le_bytes());
    data
}

/// One step of the run.
enum Step {
    Append(u64),
    Batch(u64, u64),
    Sync,
    Rotate,
}

fn steps() -> Vec<Step> {
    let mut steps = Vec::new();
    let mut next = 1;
    for round in 0..12 {
        steps.push(Step::Append(next));
        next += 1;
        if round % 3 == 1 {
            steps.push(Step::Batch(next, next + 3));
            next += 3;
        }
        if round % 4 == 2 {
            steps.push(Step::Sync);
        }
        if round % 5 == 4 {
            steps.push(Step::Rotate);
        }
    }
    steps
}

/// What a run acknowledged before it stopped: (A, I).
fn run(
    wal: &mut ComponentWal,
    durability: Durability,
) -> Result<(u64, u64), (u64, u64, HostError)> {
    let (mut acked, mut issued) = (0, 0);
    for step in steps() {
        let result = match step {
            Step::Append(i) => {
                issued = i;
                wal.append(&payload(i)).map(|lsn| assert_eq!(lsn, Lsn(i)))
            }
            Step::Batch(from, to) => {
                issued = to - 1;
                let batch: Vec<Vec<u8>> = (from..to).map(payload).collect();
                wal.append_batch(&batch).map(drop)
            }
            Step::Sync => wal.sync().map(drop),
            Step::Rotate => wal.rotate(),
        };
        match result {
            Ok(()) if durability == Durability::Always => acked = issued,
            Ok(()) => acked = wal.durable_lsn().expect("durable-lsn").0,
            Err(e) => return Err((acked, issued, e)),
        }
    }
    Ok((acked, issued))
}

/// Stops the run at `points` fuel budgets spread over its whole length and checks each
/// stop. Returns how many stops kept an unacknowledged entry and how many did not.
fn stop_at_many_points(durability: Durability, points: u64) -> (u64, u64) {
    let config = WalConfig {
        max_segment_size: Some(2_000),
        durability,
        ..WalConfig::default()
    };
    let rt = walogs_testkit::fueled_runtime();
    let probe = tempfile::tempdir().unwrap();
    let mut wal = rt.open_with_config(probe.path(), config.clone()).unwrap();
    let before = wal.fuel().unwrap();
    run(&mut wal, durability).unwrap();
    let total = before - wal.fuel().unwrap();
    let (mut kept_more, mut exact) = (0, 0);
    for k in 1..=points {
        let budget = total * k / (points + 1);
        let dir = tempfile::tempdir().unwrap();
        let mut wal = rt.open_with_config(dir.path(), config.clone()).unwrap();
        wal.set_fuel(budget).unwrap();
        let (acked, issued, e) = run(&mut wal, durability).expect_err("the budget runs out");
        assert!(e.is_trap(), "budget {budget}: {e}");
        drop(wal);

        let mut wal = rt.open_with_config(dir.path(), config.clone()).unwrap();
        let last = wal.next_lsn().unwrap().0 - 1;
        assert!(
            (acked..=issued).contains(&last),
            "budget {budget}: the log ends at {last}, acknowledged {acked}, issued {issued}"
        );
        let entries: Vec<(Lsn, Vec<u8>)> = wal.iter().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(entries.len() as u64, last, "budget {budget}");
        for (lsn, data) in &entries {
            assert_eq!(*data, payload(lsn.0), "budget {budget}: LSN {}", lsn.0);
        }
        wal.verify().unwrap();
        assert_eq!(
            wal.append(b"after").unwrap(),
            Lsn(last + 1),
            "budget {budget}"
        );
        if last > acked {
            kept_more += 1;
        } else {
            exact += 1;
        }
    }
    (kept_more, exact)
}

#[test]
fn fuel_stops_under_always_lose_no_acknowledged_entry() {
    let (kept_more, exact) = stop_at_many_points(Durability::Always, 60);
    // Stops fell both between a write and its sync (an unacknowledged entry survives the
    // process crash) and elsewhere.
    assert!(kept_more > 0 && exact > 0, "{kept_more} / {exact}");
}

#[test]
fn fuel_stops_under_explicit_sync_lose_no_synced_entry() {
    let (kept_more, exact) = stop_at_many_points(Durability::Explicit, 40);
    assert!(kept_more > 0, "{kept_more} / {exact}");
}
