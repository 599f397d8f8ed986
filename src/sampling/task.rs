//! What a piece is decoded for: the task names of the store's `task=` partitions and of a
//! sampler's `tasks`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What is generated: free pieces from Bos, or continuations of 8-bar prompts; `Baseline` is
/// unconditional pieces from the unigram sampler (switched on by `generate.baseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Unconditional,
    Continuation,
    Baseline,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Unconditional => "unconditional",
            Task::Continuation => "continuation",
            Task::Baseline => "baseline",
        }
    }

    pub fn parse(s: &str) -> Option<Task> {
        match s {
            "unconditional" => Some(Task::Unconditional),
            "continuation" => Some(Task::Continuation),
            _ => None,
        }
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
