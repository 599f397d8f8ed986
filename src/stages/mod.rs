//! Stage glue: each stage reads its inputs, calls down into the domain modules, writes outputs.

use crate::pipeline::stage::Stage;

pub mod evaluate;
pub mod generate;
pub mod report;
pub mod tokenize;
pub mod train;

/// The implementation of a stage named in the graph.
pub fn by_name(name: &str) -> Option<Box<dyn Stage>> {
    match name {
        "tokenize" => Some(Box::new(tokenize::Tokenize)),
        "train" => Some(Box::new(train::TrainStage)),
        "generate" => Some(Box::new(generate::Generate)),
        "evaluate" => Some(Box::new(evaluate::Evaluate)),
        "report" => Some(Box::new(report::Report)),
        _ => None,
    }
}
