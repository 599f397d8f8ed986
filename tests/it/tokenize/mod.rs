mod meters;
mod stage;
