mod brute;
mod files;
mod score;
mod stage;
mod tables;
