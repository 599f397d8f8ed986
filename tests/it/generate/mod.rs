mod adhoc;
mod beam;
mod config;
mod decode;
mod prompts;
mod sampler;
mod store;
