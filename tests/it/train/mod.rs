mod decay;
mod events;
mod finetune;
mod mixed;
mod songs;
mod trainer;
