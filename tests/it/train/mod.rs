mod decay;
mod events;
mod trainer;
