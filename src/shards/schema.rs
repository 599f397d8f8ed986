//! Arrow schemas of the shard and rejects tables (docs/design.md, "Token shards").

use arrow_schema::{DataType, Field, Schema};
use std::sync::Arc;

pub fn token_item() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::UInt16, false))
}

pub fn shard_schema() -> Schema {
    Schema::new(vec![
        Field::new("song_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("source_sha256", DataType::Utf8, false),
        Field::new("split", DataType::Utf8, false),
        Field::new("meters", DataType::Utf8, false),
        Field::new("n_bars", DataType::UInt32, false),
        Field::new("n_notes", DataType::UInt32, false),
        Field::new("n_tokens", DataType::UInt32, false),
        Field::new("tokens", DataType::List(token_item()), false),
    ])
}

pub fn rejects_schema() -> Schema {
    Schema::new(vec![
        Field::new("source", DataType::Utf8, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
    ])
}
