//! The stage runner: the graph (ordered by the upstream stages each stage declares),
//! manifests, fingerprints, freshness and locks. Generic over the context its stages read, it
//! knows no stage by name; the stages themselves are in `crate::stages`.

pub mod graph;
pub mod manifest;
pub mod runner;
pub mod stage;

pub use graph::Graph;
pub use manifest::Manifest;
pub use runner::{RunOptions, StageRun, State, run, status};
pub use stage::{Counts, Inputs, Job, ShardSpec, Stage, StageOutput, Upstream};
