//! The conformance suite: every body below runs against the native engine
//! (`native::…`) and against the component in the wasmtime host (`component::…`).

mod adversarial;
mod basic;
mod compat;
mod concurrent;
mod durable;
mod features;
mod fuzz;
mod maintenance;
mod model;
mod prealloc;
mod recovery;

walogs_conformance::conformance! {
    basic::round_trip,
    basic::reopen_cycles,
    basic::oversize_entry_is_refused_and_max_size_round_trips,
    basic::manual_rotation,
    basic::automatic_rotation_respects_the_segment_size,
    basic::checkpoint_deletes_applied_segments,
    basic::open_on_a_regular_file_is_refused,
    basic::foreign_files_are_left_alone,
    basic::second_writer_is_locked_out,
    basic::read_only_reports_but_never_modifies,
    basic::segment_numbers_never_outgrow_their_name,
    recovery::torn_tail_at_every_offset_of_the_last_frame,
    recovery::corrupt_sealed_segment_is_reported_not_dropped,
    recovery::segment_number_gap_is_corruption,
    recovery::lsn_discontinuity_across_segments_is_corruption,
    recovery::a_checkpoint_never_lets_lsns_restart,
    recovery::a_sync_failure_poisons_the_handle,
    recovery::damage_followed_by_valid_frames_is_an_error,
    recovery::a_partial_header_is_a_torn_tail,
    recovery::an_lsn_break_inside_a_segment_is_corruption,
    recovery::iteration_yields_an_error_at_damage,
    recovery::pending_truncation_is_finished_or_discarded_on_open,
    features::batch_append_is_dense_and_spans_segments,
    features::each_mode_syncs_exactly_when_it_promises,
    features::explicit_durability_syncs_on_request,
    features::no_durability_still_keeps_the_log_dense,
    features::iter_from_seeks_through_the_segment_index,
    features::truncate_after_removes_the_suffix,
    compat::a_log_written_by_0_1_0_opens_and_continues,
    compat::a_log_written_here_opens_in_0_1_0,
    compat::a_v1_single_file_log_is_migrated,
    model::random_operation_sequences_match_the_model,
    fuzz::arbitrary_segment_bytes_never_panic,
    durable::an_out_of_order_batch_after_an_acknowledged_entry_is_cut,
    durable::out_of_order_unsynced_appends_are_cut,
    durable::damage_before_the_durable_point_is_corruption,
    durable::a_durable_point_older_than_0_1_0_appends_never_cuts_them,
    durable::a_foreign_or_garbage_durable_point_is_ignored,
    durable::a_torn_durable_point_update_falls_back_to_the_other_slot,
    durable::walogs_0_1_0_ignores_the_durable_point,
    adversarial::a_symlinked_segment_is_followed_never_skipped,
    adversarial::an_empty_sealed_segment_is_corruption,
    adversarial::a_marker_that_does_not_match_the_files_deletes_nothing,
    adversarial::a_marker_is_discarded_once_0_1_0_appended_after_it,
    adversarial::a_matching_marker_is_finished_from_every_intermediate_state,
    adversarial::a_read_only_open_reads_what_a_writer_would_recover_with_any_marker,
    adversarial::a_read_only_open_reads_a_v1_log_in_place,
    adversarial::the_largest_lsn_never_panics_or_wraps,
    adversarial::a_cut_last_entry_does_not_restart_lsns,
    maintenance::a_mid_log_bit_flip_is_repaired_into_quarantine,
    maintenance::the_out_of_order_shapes_without_a_durable_point_are_repaired,
    maintenance::damage_in_a_sealed_segment_quarantines_it_and_every_later_segment,
    maintenance::repair_holds_the_write_lock_and_readers_take_none,
    maintenance::the_recovery_report_says_what_the_open_cut,
    prealloc::the_active_segment_is_pre_filled_and_a_clean_close_cuts_it_back,
    prealloc::a_crash_leaves_a_pre_fill_that_both_versions_open,
    prealloc::a_segment_that_outgrows_its_pre_fill_is_filled_again_and_a_crash_keeps_every_entry,
    prealloc::a_crash_mid_append_into_pre_filled_space_keeps_every_acknowledged_entry,
    prealloc::a_pre_fill_without_a_durable_point_is_a_torn_tail,
    prealloc::sealed_segments_hold_frames_only,
    prealloc::truncation_and_checkpoint_work_on_a_pre_filled_log,
    prealloc::a_0_1_0_log_continues_with_pre_allocation,
    prealloc::zeroed_acknowledged_frames_are_never_taken_for_the_pre_fill,
}

walogs_conformance::shared_conformance! {
    native_shared => walogs_conformance::Native;
    concurrent::concurrent_producers_get_dense_unique_lsns_that_survive_reopen,
    concurrent::random_mixes_with_followers_checkpoints_and_reopens,
    concurrent::sync_failure_fails_every_waiting_producer_and_loses_nothing_acknowledged,
    concurrent::followers_see_only_durable_entries_across_rotations,
    concurrent::a_follower_overtaken_by_checkpoint_or_truncation_gets_out_of_range,
    concurrent::an_iterator_overtaken_by_checkpoint_gets_out_of_range,
}

walogs_conformance::shared_conformance! {
    component_shared => walogs_conformance::Component;
    concurrent::concurrent_producers_get_dense_unique_lsns_that_survive_reopen,
    concurrent::random_mixes_with_followers_checkpoints_and_reopens,
    concurrent::sync_failure_fails_every_waiting_producer_and_loses_nothing_acknowledged,
    concurrent::followers_see_only_durable_entries_across_rotations,
    concurrent::a_follower_overtaken_by_checkpoint_or_truncation_gets_out_of_range,
    concurrent::an_iterator_overtaken_by_checkpoint_gets_out_of_range,
}
