//! Generation: samplers, tasks, batched cached grammar-constrained decoding, the artifact store.

mod attend;
mod config;
pub mod decode;
mod grammar;
pub mod pieces;
pub mod prompts;
mod run;
pub mod sampler;
pub mod store;
pub mod unigram;

pub use config::{GenerateConfig, SamplerConfig, Task, default_samplers};
pub use decode::{
    DecodeOptions, Decoded, NextToken, Request, Specials, TokenGrammar, decode_batch,
};
pub use grammar::remi_specials;
pub use pieces::{PieceRow, read_pieces, write_pieces};
pub use prompts::{Prompt, cut_bars, dir_prompts, test_prompts};
pub use run::{
    GenerateSummary, PartitionPlan, generate_pieces, generate_store, partition_fingerprint,
    piece_seed, song_bars,
};
mod entry;
pub mod kv;
pub mod xl;
pub use entry::{checkpoint_path, generate_adhoc, generate_with, prompts_for};
pub use kv::KvXl;
pub use xl::{CachedXl, LoadedModel, NaiveXl, load_checkpoint};
mod bench;
pub use bench::{bench_generate, bench_with};
