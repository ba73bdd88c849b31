//! openraft's own storage conformance suite (`openraft::testing::Suite`, 35 cases) against
//! walogs, natively and through the component. Every case runs on a fresh store in its own
//! temp dir; `test_all` runs the suite's own list, the per-case tests name each case.

mod common;

use common::{Builder, Component, Native, Shared};
use openraft::testing::Suite;
use tempfile::TempDir;
use walogs_openraft::LogStore;
use walogs_openraft::kv::{KvConfig, KvStateMachine};

type SuiteOn<B> = Suite<KvConfig, LogStore<KvConfig, B>, KvStateMachine, Builder<B>, TempDir>;

#[test]
fn openraft_suite_test_all_passes_on_the_native_engine() {
    SuiteOn::<Native>::test_all(Builder::default()).expect("suite");
}

#[test]
fn openraft_suite_test_all_passes_on_the_shared_native_engine() {
    SuiteOn::<Shared>::test_all(Builder::default()).expect("suite");
}

#[test]
fn openraft_suite_test_all_passes_through_the_component() {
    SuiteOn::<Component>::test_all(Builder::default()).expect("suite");
}

/// One `#[test]` per suite case and backend, so the output names each case.
macro_rules! cases {
    ($modname:ident, $backend:ident: $($case:ident),* $(,)?) => {
        mod $modname {
            use super::*;
            use openraft::testing::StoreBuilder;
            $(
                #[test]
                fn $case() {
                    let rt = tokio::runtime::Runtime::new().unwrap();
                    rt.block_on(async {
                        let (_dir, store, sm) = Builder::<$backend>::default().build().await?;
                        SuiteOn::<$backend>::$case(store, sm).await
                    })
                    .expect(stringify!($case));
                }
            )*
            #[test]
            fn transfer_snapshot() {
                let rt = tokio::runtime::Runtime::new().unwrap();
                rt.block_on(SuiteOn::<$backend>::transfer_snapshot(&Builder::default()))
                    .expect("transfer_snapshot");
            }
        }
    };
}

macro_rules! all_cases {
    ($modname:ident, $backend:ident) => {
        cases!($modname, $backend:
            last_membership_in_log_initial, last_membership_in_log,
            last_membership_in_log_multi_step, get_membership_initial,
            get_membership_from_log_and_empty_sm, get_membership_from_empty_log_and_sm,
            get_membership_from_log_le_sm_last_applied,
            get_membership_from_log_gt_sm_last_applied_1,
            get_membership_from_log_gt_sm_last_applied_2, get_initial_state_without_init,
            get_initial_state_membership_from_log_and_sm, get_initial_state_with_state,
            get_initial_state_last_log_gt_sm, get_initial_state_last_log_lt_sm,
            get_initial_state_log_ids, get_initial_state_re_apply_committed, save_vote,
            get_log_entries, limited_get_log_entries, try_get_log_entry, initial_logs,
            get_log_state, get_log_id, last_id_in_log, last_applied_state, purge_logs_upto_0,
            purge_logs_upto_5, purge_logs_upto_20, delete_logs_since_11, delete_logs_since_0,
            append_to_log, snapshot_meta, apply_single, apply_multiple,
        );
    };
}

all_cases!(native, Native);
all_cases!(component, Component);
all_cases!(shared, Shared);
