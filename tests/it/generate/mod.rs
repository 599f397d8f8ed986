mod adhoc;
mod config;
mod decode;
mod sampler;
mod store;
