//! Sampling pieces from a next-token model under the REMI grammar: the decode loop, the
//! sampler's settings and processed distribution, beam search, and the grammar's view of the
//! tokens. Below `train` (which monitors samples during training) and `generate` (which writes
//! them).

mod beam;
pub mod decode;
pub mod distribution;
mod grammar;
pub mod prior;
pub mod sampler;
mod task;

pub use decode::{DecodeOptions, Decoded, Request, Specials, TokenGrammar, decode_batch};
pub use grammar::remi_specials;
pub use prior::{PiecePitches, PitchPrior};
pub use sampler::{BeamConfig, Families, Family, FamilySettings, SamplerConfig};
pub use task::Task;
