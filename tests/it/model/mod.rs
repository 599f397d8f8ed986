mod decoder;
mod transformer_xl;
