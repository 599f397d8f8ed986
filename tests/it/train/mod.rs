mod decay;
mod events;
mod songs;
mod trainer;
