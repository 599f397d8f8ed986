mod evaluate;
mod generate;
mod train;
