mod config;
mod data_script;
