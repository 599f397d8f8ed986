mod decay;
mod events;
mod mixed;
mod songs;
mod trainer;
