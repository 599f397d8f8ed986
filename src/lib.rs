//! cadenza: Pop1K7 MIDI -> REMI token shards -> Transformer-XL -> generated MIDI and audio ->
//! metrics tables.
//!
//! Data flows one way, down this list: `midi` -> `remi` -> `features` -> `shards` -> `samples`
//! -> `tokenize` -> `audio` -> `model` -> `sampling` -> `train` -> `generate` -> `metrics` ->
//! `report`; a module calls those before it, never one after it, and no stage's work calls
//! into another's (`samples`, the generated store's table, is below generate and evaluate). Beside them: `pipeline` runs stages (graph, manifests,
//! freshness, locks) without knowing any; `stages` is the thin glue between the two; `commands`
//! is one function per CLI command, `cli` the argument parsing in front of them; `bench`
//! measures the stages beside their peers. `layout` says where every output
//! lives, `fsio` writes outputs atomically, `config` reads the config file.

pub mod audio;
pub mod bench;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod features;
pub mod fsio;
pub mod generate;
pub mod hash;
pub mod layout;
pub mod metrics;
pub mod midi;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod remi;
pub mod report;
pub mod rng;
pub mod samples;
pub mod sampling;
pub mod shards;
pub mod stages;
pub mod tokenize;
pub mod train;
