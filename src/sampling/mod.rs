//! Sampling pieces from a next-token model under the REMI grammar: the decode loop, the
//! sampler (temperature, top-k, top-p) and the grammar's view of the tokens. Below `train`
//! (which monitors samples during training) and `generate` (which writes them).

pub mod decode;
mod grammar;
pub mod sampler;

pub use decode::{DecodeOptions, Decoded, Request, Specials, TokenGrammar, decode_batch};
pub use grammar::remi_specials;
pub use sampler::SamplerConfig;
