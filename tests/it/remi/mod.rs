mod cli;
mod encode;
mod grammar;
mod roundtrip;
mod transpose;
mod vocab;
