//! The integration tests, as one crate (it links once): a folder per stage or module, shared
//! helpers in `support`.

mod architecture;
mod audio;
mod bench;
mod features;
mod generate;
mod metrics;
mod midi;
mod model;
mod pipeline;
mod remi;
mod report;
mod setup;
mod support;
mod tokenize;
mod train;
