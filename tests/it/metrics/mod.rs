mod brute;
mod edges;
mod files;
mod score;
mod stage;
mod tables;
