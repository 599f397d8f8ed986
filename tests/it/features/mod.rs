pub mod brute;
mod known;
mod random;
mod real;
