//! Two runs never write one output: 20 real `pipeline run tokenize --force` processes started
//! at once, while the first to take the lock holds it; exactly one runs, the others stop with
//! the "being written by another run" message. Three rounds.

use super::project::Project;
use crate::support::{CHILD_TIMEOUT, spawn, text, wait};

#[test]
fn of_twenty_processes_started_at_once_exactly_one_writes() {
    let p = Project::new();
    // The winner waits inside the stage long enough for every other process to start.
    let fault = [("CADENZA_FAULT", "tokenize:before-commit=sleep:4000")];
    for round in 0..3 {
        let children: Vec<_> = (0..20)
            .map(|_| spawn(p.command(&["run", "tokenize", "--force"], &fault)))
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| wait(c, CHILD_TIMEOUT))
            .collect();
        let wrote = outputs
            .iter()
            .filter(|o| o.status.success() && text(o).contains("tokenize  60 files"))
            .count();
        let refused = outputs
            .iter()
            .filter(|o| !o.status.success() && text(o).contains("being written by another run"))
            .count();
        assert_eq!((wrote, refused), (1, 19), "round {round}");
    }
}
