//! REMI: vocabulary, encoder, decoder, grammar, transposition.
