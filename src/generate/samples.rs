//! samples.parquet: one row per generated piece of a partition (seed, tokens, bars, prompt).

use anyhow::{Context, Result, anyhow};
use arrow_array::builder::{ListBuilder, UInt16Builder};
use arrow_array::{
    Array, BooleanArray, Float64Array, ListArray, RecordBatch, StringArray, UInt16Array,
    UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct SampleRow {
    /// Index within the partition (the NNN of NNN.mid).
    pub piece: u32,
    pub seed: u64,
    pub n_tokens: u32,
    /// Last onset bar + 1, as evaluate computes it.
    pub n_bars: u32,
    /// Where the prompt came from (continuation only).
    pub prompt_source: Option<String>,
    /// 0-based bar where generated music starts (0 for unconditional).
    pub start_bar: u32,
    /// Until the last note-off, following the tempo map.
    pub seconds: f64,
    pub has_wav: bool,
    pub tokens: Vec<u16>,
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("piece", DataType::UInt32, false),
        Field::new("seed", DataType::UInt64, false),
        Field::new("n_tokens", DataType::UInt32, false),
        Field::new("n_bars", DataType::UInt32, false),
        Field::new("prompt_source", DataType::Utf8, true),
        Field::new("start_bar", DataType::UInt32, false),
        Field::new("seconds", DataType::Float64, false),
        Field::new("has_wav", DataType::Boolean, false),
        Field::new(
            "tokens",
            DataType::List(Arc::new(Field::new("item", DataType::UInt16, true))),
            false,
        ),
    ])
}

pub fn write_samples(path: &Path, rows: &[SampleRow]) -> Result<()> {
    let schema = Arc::new(schema());
    let mut tokens = ListBuilder::new(UInt16Builder::new());
    for r in rows {
        tokens.values().append_slice(&r.tokens);
        tokens.append(true);
    }
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.piece))),
            Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.seed))),
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|r| r.n_tokens),
            )),
            Arc::new(UInt32Array::from_iter_values(rows.iter().map(|r| r.n_bars))),
            Arc::new(StringArray::from_iter(
                rows.iter().map(|r| r.prompt_source.as_deref()),
            )),
            Arc::new(UInt32Array::from_iter_values(
                rows.iter().map(|r| r.start_bar),
            )),
            Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.seconds),
            )),
            Arc::new(BooleanArray::from_iter(
                rows.iter().map(|r| Some(r.has_wav)),
            )),
            Arc::new(tokens.finish()),
        ],
    )?;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut w = ArrowWriter::try_new(file, schema, Some(props))?;
    w.write(&batch)?;
    w.close()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| anyhow!("samples.parquet: column `{name}` missing or of the wrong type"))
}

pub fn read_samples(path: &Path) -> Result<Vec<SampleRow>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let mut out = Vec::new();
    for batch in reader {
        let b = batch?;
        let (piece, seed) = (
            col::<UInt32Array>(&b, "piece")?,
            col::<UInt64Array>(&b, "seed")?,
        );
        let (n_tokens, n_bars) = (
            col::<UInt32Array>(&b, "n_tokens")?,
            col::<UInt32Array>(&b, "n_bars")?,
        );
        let prompt = col::<StringArray>(&b, "prompt_source")?;
        let start_bar = col::<UInt32Array>(&b, "start_bar")?;
        let seconds = col::<Float64Array>(&b, "seconds")?;
        let has_wav = col::<BooleanArray>(&b, "has_wav")?;
        let tokens = col::<ListArray>(&b, "tokens")?;
        for i in 0..b.num_rows() {
            let t = tokens.value(i);
            let t = t
                .as_any()
                .downcast_ref::<UInt16Array>()
                .ok_or_else(|| anyhow!("tokens: not u16"))?;
            out.push(SampleRow {
                piece: piece.value(i),
                seed: seed.value(i),
                n_tokens: n_tokens.value(i),
                n_bars: n_bars.value(i),
                prompt_source: (!prompt.is_null(i)).then(|| prompt.value(i).to_string()),
                start_bar: start_bar.value(i),
                seconds: seconds.value(i),
                has_wav: has_wav.value(i),
                tokens: t.values().to_vec(),
            });
        }
    }
    Ok(out)
}
