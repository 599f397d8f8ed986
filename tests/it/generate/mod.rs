mod adhoc;
mod beam;
mod config;
mod decode;
mod sampler;
mod store;
