//! Stage glue: each stage reads its inputs, calls down into the domain modules, writes outputs.
