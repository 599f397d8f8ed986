mod burn_path;
mod decoder;
mod transformer_xl;
