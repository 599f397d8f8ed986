mod crash;
mod damage;
mod default_config;
mod durability;
mod e2e;
mod lock;
pub mod project;
mod shards;
mod slurm;
