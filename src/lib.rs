//! cadenza: Pop1K7 MIDI -> REMI token shards -> Transformer-XL -> generated MIDI/WAV -> metrics tables.
//!
//! Data flows one way: midi -> remi -> shards -> train -> generate -> metrics. The stage glue in
//! `stages/` calls down into those modules; `pipeline/` runs stages (manifests, freshness, locks).

pub mod audio;
pub mod bench;
pub mod config;
pub mod demo;
pub mod generate;
pub mod hash;
pub mod metrics;
pub mod midi;
pub mod model;
pub mod pipeline;
pub mod remi;
pub mod report;
pub mod rng;
pub mod shards;
pub mod stages;
pub mod train;
