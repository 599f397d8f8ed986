pub mod brute;
mod known;
mod random;
