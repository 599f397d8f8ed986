mod bf16;
mod burn_path;
mod decoder;
mod export;
mod transformer_xl;
#[cfg(feature = "wgpu")]
mod wgpu;
