//! The built-in demo corpus, used when no real corpus can be had.
