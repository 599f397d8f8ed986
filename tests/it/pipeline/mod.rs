mod crash;
mod damage;
mod e2e;
mod lock;
pub mod project;
