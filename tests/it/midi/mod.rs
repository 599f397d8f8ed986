mod fuzz;
mod read;
mod write;
