//! The result of a sweep: states and violations per fault class, and each violation with
//! the command that replays it.

use std::fmt::Write as _;

use serde::Serialize;

use super::case::Class;

/// States explored and violations found in one class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    /// The class.
    pub class: Class,
    /// Distinct states checked (for `workload`: runs recorded).
    pub states: u64,
    /// States the oracle rejected.
    pub violations: u64,
}

/// One rejected state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The case text (`SEED:FAULT`).
    pub case: String,
    /// Its class.
    pub class: Class,
    /// The workload's seed.
    pub seed: u64,
    /// The fault, in words.
    pub fault: String,
    /// Where the crash fell in the workload.
    pub crash_point: String,
    /// What the oracle accepted.
    pub expected: String,
    /// What recovery produced.
    pub observed: String,
    /// Why it is wrong.
    pub reason: String,
    /// A command that replays exactly this case.
    pub replay: String,
}

/// The result of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The sweep's seed.
    pub seed: u64,
    /// The states asked for.
    pub budget: u64,
    /// Per class, in summary order.
    pub classes: Vec<ClassRow>,
    /// Distinct crash states checked, all classes.
    pub states: u64,
    /// Violations, all classes.
    pub violation_count: u64,
    /// The first violations in detail (at most [`Report::MAX_DETAILED`]).
    pub violations: Vec<Violation>,
    /// Explorer problems (a trace that does not explain the disk); none in a sound run.
    pub problems: Vec<String>,
    /// Wall-clock time of the sweep, in seconds.
    pub elapsed_secs: f64,
}

impl Report {
    /// How many violations are kept in detail.
    pub const MAX_DETAILED: usize = 20;

    /// An empty report for a sweep with `seed` over `budget` states.
    pub fn new(seed: u64, budget: u64, classes: &[Class]) -> Self {
        Self {
            seed,
            budget,
            classes: classes
                .iter()
                .map(|&class| ClassRow {
                    class,
                    states: 0,
                    violations: 0,
                })
                .collect(),
            states: 0,
            violation_count: 0,
            violations: Vec::new(),
            problems: Vec::new(),
            elapsed_secs: 0.0,
        }
    }

    /// The row of `class`.
    pub fn row(&self, class: Class) -> Option<&ClassRow> {
        self.classes.iter().find(|r| r.class == class)
    }

    fn row_mut(&mut self, class: Class) -> &mut ClassRow {
        if let Some(i) = self.classes.iter().position(|r| r.class == class) {
            return &mut self.classes[i];
        }
        self.classes.push(ClassRow {
            class,
            states: 0,
            violations: 0,
        });
        self.classes.last_mut().expect("just pushed")
    }

    /// Counts one checked state of `class`, with its violation if it had one.
    pub fn count(&mut self, class: Class, violation: Option<Violation>) {
        let row = self.row_mut(class);
        row.states += 1;
        if class != Class::Workload {
            self.states += 1;
        }
        if let Some(v) = violation {
            self.row_mut(class).violations += 1;
            self.violation_count += 1;
            if self.violations.len() < Self::MAX_DETAILED {
                self.violations.push(v);
            }
        }
    }

    /// Whether nothing was wrong.
    pub fn passed(&self) -> bool {
        self.violation_count == 0 && self.problems.is_empty()
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<16} {:>8} {:>11}", "class", "states", "violations");
        for row in &self.classes {
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>11}",
                row.class.name(),
                row.states,
                row.violations
            );
        }
        let _ = writeln!(
            out,
            "{:<16} {:>8} {:>11}",
            "total states", self.states, self.violation_count
        );
        out
    }

    /// The summary, the violations and the problems, for a terminal.
    pub fn text(&self) -> String {
        let mut out = self.table();
        let rate = self.states as f64 / self.elapsed_secs.max(1e-9);
        let _ = writeln!(
            out,
            "\nseed {}: {} distinct crash states in {:.1} s ({rate:.0}/s)",
            self.seed, self.states, self.elapsed_secs
        );
        for v in &self.violations {
            let _ = write!(
                out,
                "\nVIOLATION [{}] {}\n  fault:    {}\n  point:    {}\n  expected: {}\n  observed: {}\n  why:      {}\n  replay:   {}\n",
                v.class, v.case, v.fault, v.crash_point, v.expected, v.observed, v.reason, v.replay
            );
        }
        if self.violation_count as usize > self.violations.len() {
            let more = self.violation_count as usize - self.violations.len();
            let _ = writeln!(out, "\n... and {more} more violations");
        }
        for p in &self.problems {
            let _ = writeln!(out, "\nPROBLEM: {p}");
        }
        out
    }
}
