//! Stage runner: graph, manifests, fingerprints, freshness, locks, atomic outputs.

pub mod atomic;
pub mod fault;
pub mod graph;
pub mod lock;
pub mod manifest;
pub mod runner;
pub mod stage;

pub use manifest::{upstream_fingerprint, upstream_manifest};
