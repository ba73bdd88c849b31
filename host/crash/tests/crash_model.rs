//! The crash explorer's filesystem model, and the interposer's trace of a real guest.

use std::sync::Arc;

use walogs_crash::{Fill, FsEvent, FsModel, Image, Node, PageBit, PowerLoss, Workload};
use walogs_host::interpose::FaultPlan;
use walogs_host::{OpenOptions, Runtime};

fn write(file: u32, offset: u64, data: &[u8]) -> FsEvent {
    FsEvent::Write {
        file,
        offset: Some(offset),
        data: Arc::from(data),
    }
}

fn create(name: &str, file: u32) -> FsEvent {
    FsEvent::Create {
        dir: String::new(),
        name: name.into(),
        file,
    }
}

fn sync_file(file: u32) -> FsEvent {
    FsEvent::Sync {
        node: Node::File(file),
    }
}

fn sync_dir() -> FsEvent {
    FsEvent::Sync {
        node: Node::Dir(String::new()),
    }
}

fn files(image: &Image) -> Vec<(&str, &[u8])> {
    image
        .files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect()
}

#[test]
fn only_synced_data_and_entries_survive_a_power_loss() {
    let events = [
        create("a", 0),
        write(0, 0, b"hello"),
        sync_file(0),
        write(0, 5, b" world"),
    ];
    let model = FsModel::replay(&Image::default(), &events);
    assert_eq!(files(&model.process_crash()), [("a", &b"hello world"[..])]);
    // The data was synced but the entry was not: the file vanishes.
    assert!(
        model
            .power_loss(&PowerLoss::Durable)
            .unwrap()
            .files
            .is_empty()
    );

    let mut model = model;
    model.apply(&sync_dir());
    let durable = model.power_loss(&PowerLoss::Durable).unwrap();
    assert_eq!(files(&durable), [("a", &b"hello"[..])]);
    // The unsynced write, torn after its first byte, the rest zeros or missing.
    let torn = |cut, fill| PowerLoss::Torn {
        file: 0,
        op: 0,
        cut: Some(cut),
        fill,
    };
    let zero = model.power_loss(&torn(6, Fill::Zero)).unwrap();
    assert_eq!(files(&zero), [("a", &b"hello \0\0\0\0\0"[..])]);
    let absent = model.power_loss(&torn(6, Fill::Absent)).unwrap();
    assert_eq!(files(&absent), [("a", &b"hello "[..])]);
    assert!(
        model.power_loss(&torn(5, Fill::Absent)).is_none(),
        "a cut must fall inside the write"
    );
}

#[test]
fn unsynced_pages_persist_in_any_order_and_the_size_on_its_own() {
    // 100 bytes durable, then an unsynced write of 8,000 bytes after them: pages 0 and 1,
    // and a new size.
    let grown: Vec<u8> = (0..8_000u32).map(|i| (i % 251) as u8 + 1).collect();
    let events = [
        create("a", 0),
        sync_dir(),
        write(0, 0, &[7; 100]),
        sync_file(0),
        write(0, 100, &grown),
    ];
    let model = FsModel::replay(&Image::default(), &events);
    let bits = model.page_bits();
    assert_eq!(
        bits,
        [PageBit::Size(0), PageBit::Page(0, 0), PageBit::Page(0, 1)]
    );
    let file = |mask| model.power_loss(&PowerLoss::Pages { mask }).unwrap().files["a"].clone();
    let mut target = vec![7; 100];
    target.extend(&grown);
    // Nothing kept: the durable file.
    assert_eq!(file(0b000), vec![7; 100]);
    // Both pages but the old size: the pages past it are gone.
    assert_eq!(file(0b110), vec![7; 100]);
    // Everything: what a full flush leaves.
    assert_eq!(file(0b111), target);
    // The later page kept, the earlier one lost: zeros where the file grew, then the
    // kept page; the synced bytes of the lost page are still there.
    let later = file(0b101);
    assert_eq!(later.len(), 8_100);
    assert_eq!(&later[..100], &[7; 100][..]);
    assert!(later[100..4_096].iter().all(|&b| b == 0));
    assert_eq!(&later[4_096..], &target[4_096..]);
    // The earlier page kept, the later lost: zeros to the new size.
    let earlier = file(0b011);
    assert_eq!(&earlier[..4_096], &target[..4_096]);
    assert!(earlier[4_096..].iter().all(|&b| b == 0));
    // A mask naming choices the state does not have.
    assert!(
        model
            .power_loss(&PowerLoss::Pages { mask: 0b1000 })
            .is_none()
    );

    // An overwrite in place of a synced page: a lost page holds its previous bytes.
    let mut model = model;
    model.apply(&sync_file(0));
    model.apply(&write(0, 5_000, b"new"));
    assert_eq!(model.page_bits(), [PageBit::Page(0, 1)]);
    let kept = model.power_loss(&PowerLoss::Pages { mask: 1 }).unwrap();
    let lost = model.power_loss(&PowerLoss::Pages { mask: 0 }).unwrap();
    assert_eq!(&kept.files["a"][5_000..5_003], b"new");
    assert_eq!(lost.files["a"], target);
}

#[test]
fn a_failed_sync_loses_the_unsynced_writes_for_good() {
    let events = [
        create("a", 0),
        sync_dir(),
        write(0, 0, b"lost"),
        FsEvent::SyncFailed {
            node: Node::File(0),
        },
        write(0, 4, b"kept"),
        sync_file(0),
    ];
    let model = FsModel::replay(&Image::default(), &events);
    assert_eq!(files(&model.process_crash()), [("a", &b"lostkept"[..])]);
    let durable = model.power_loss(&PowerLoss::Durable).unwrap();
    assert_eq!(files(&durable), [("a", &b"\0\0\0\0kept"[..])]);
}

#[test]
fn unsynced_directory_changes_are_undone_and_a_rename_is_atomic() {
    let mut image = Image::default();
    image.files.insert("old".into(), b"v1".to_vec());
    image.files.insert("gone".into(), b"x".to_vec());
    let events = [
        FsEvent::Rename {
            from_dir: String::new(),
            from: "old".into(),
            to_dir: String::new(),
            to: "new".into(),
        },
        FsEvent::Unlink {
            dir: String::new(),
            name: "gone".into(),
        },
    ];
    let model = FsModel::replay(&image, &events);
    let names = |i: &Image| i.files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&model.process_crash()), ["new"]);
    assert_eq!(
        names(&model.power_loss(&PowerLoss::Durable).unwrap()),
        ["gone", "old"]
    );
    let prefix = |keep| PowerLoss::DirPrefix {
        dir: String::new(),
        keep,
    };
    assert_eq!(
        names(&model.power_loss(&prefix(1)).unwrap()),
        ["gone", "new"]
    );
    assert_eq!(names(&model.power_loss(&prefix(2)).unwrap()), ["new"]);
    let variants = model.power_loss_variants();
    assert_eq!(variants, [prefix(1), prefix(2)]);
}

#[test]
fn the_trace_of_a_real_run_explains_the_directory() {
    // A workload with rotations, checkpoints and truncations: the driver compares the
    // model's process-crash state at the end with the directory on disk.
    let rt = Runtime::shared();
    let tmp = tempfile::tempdir().unwrap();
    for seed in 0..4 {
        let workload = Workload::generate(seed);
        let dir = tmp.path().join(seed.to_string());
        let run = walogs_crash::run(rt, &dir, &workload, &Default::default()).unwrap();
        assert!(run.problems.is_empty(), "seed {seed}: {:?}", run.problems);
        assert!(!run.events.is_empty());
        assert!(
            run.history.ops.iter().all(|o| o.error.is_none()),
            "seed {seed}"
        );
        let modelled = FsModel::replay(&run.initial, &run.events).process_crash();
        assert_eq!(modelled, run.end, "seed {seed}");
    }
}

#[test]
fn the_interposer_records_creates_writes_and_syncs() {
    let rt = Runtime::shared();
    let tmp = tempfile::tempdir().unwrap();
    let mut initial = Image::default();
    initial.files.insert("LOCK".into(), Vec::new());
    initial.write_to(&tmp.path().join("log")).unwrap();
    let recorder = FsModel::from_image(&initial).recorder();
    let faults = FaultPlan {
        observer: Some(recorder.observer()),
        ..FaultPlan::default()
    };
    let options = OpenOptions { faults, fuel: None };
    let mut wal = rt
        .open_with_options(tmp.path().join("log"), Default::default(), options)
        .unwrap();
    wal.append(b"entry").unwrap();
    drop(wal);
    let events = recorder.events();
    assert!(recorder.problems().is_empty(), "{:?}", recorder.problems());
    let segment = events.iter().find_map(|e| match e {
        FsEvent::Create { name, file, .. } if name == "wal-000001.log" => Some(*file),
        _ => None,
    });
    let segment = segment.expect("the segment's creation is recorded");
    let wrote = events.iter().position(|e| matches!(e, FsEvent::Write { file, offset: Some(0), data } if *file == segment && data.len() == 16 + 5));
    let synced = events.iter().rposition(|e| {
        *e == FsEvent::Sync {
            node: Node::File(segment),
        }
    });
    assert!(wrote.is_some() && synced > wrote, "{events:?}");
    assert!(events.contains(&FsEvent::Sync {
        node: Node::Dir(String::new())
    }));
}
