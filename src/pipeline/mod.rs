//! Stage runner: graph, manifests, fingerprints, freshness, locks, atomic outputs.

pub mod stage;
