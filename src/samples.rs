//! The generated store's on-disk names and its table: `<root>/task=<task>/sampler=<name>/`
//! partitions of `NNN.mid` (+ audio) and samples.parquet, one row per piece (seed, tokens, bars,
//! prompt, audio). Generate writes it; evaluate and the report read it, through this module
//! rather than through generate.
//!
//! Schema version 2 (the `cadenza.samples.version` key of the Parquet metadata) names the
//! audio column `has_audio`; version 1 files (no key) called it `has_wav` and still read. A
//! file of a newer version is refused rather than misread.

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
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Each partition's table.
pub const SAMPLES_FILE: &str = "samples.parquet";
/// Each partition's record of what its files depend on (pieces, audio).
pub const FINGERPRINT_FILE: &str = "fingerprint.txt";
/// The sampler name of the real continuations' partition (reserved: no configured sampler may
/// take it).
pub const REAL_SAMPLER: &str = "real";
/// The Parquet metadata key of the table's schema version, and the version written.
pub const VERSION_KEY: &str = "cadenza.samples.version";
pub const VERSION: u32 = 2;

pub fn partition_dir(root: &Path, task: &str, sampler: &str) -> PathBuf {
    root.join(format!("task={task}"))
        .join(format!("sampler={sampler}"))
}

/// The file stem of piece `index` (`NNN` of `NNN.mid`).
pub fn piece_stem(index: u32) -> String {
    format!("{index:03}")
}

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
    /// An audio file (FLAC or WAV) was written beside the MIDI.
    pub has_audio: bool,
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
        Field::new("has_audio", DataType::Boolean, false),
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
                rows.iter().map(|r| Some(r.has_audio)),
            )),
            Arc::new(tokens.finish()),
        ],
    )?;
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            VERSION_KEY.to_string(),
            VERSION.to_string(),
        )]))
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
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let version = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == VERSION_KEY))
        .and_then(|k| k.value.as_deref()?.parse::<u32>().ok())
        .unwrap_or(1);
    if version > VERSION {
        anyhow::bail!(
            "{}: samples table version {version} is newer than this program's ({VERSION})",
            path.display()
        );
    }
    let has_column = |name: &str| builder.schema().fields().iter().any(|f| f.name() == name);
    let audio_column = if has_column("has_audio") {
        "has_audio"
    } else {
        "has_wav"
    };
    let reader = builder.build()?;
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
        let has_audio = col::<BooleanArray>(&b, audio_column)?;
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
                has_audio: has_audio.value(i),
                tokens: t.values().to_vec(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(piece: u32, has_audio: bool) -> SampleRow {
        SampleRow {
            piece,
            seed: 7,
            n_tokens: 3,
            n_bars: 1,
            prompt_source: None,
            start_bar: 0,
            seconds: 2.0,
            has_audio,
            tokens: vec![1, 3, 2],
        }
    }

    /// Rows read back as written, with the version in the metadata; a version-1 file (the
    /// column `has_wav`, no version key) still reads; a newer version is refused.
    #[test]
    fn rows_round_trip_and_version_1_files_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SAMPLES_FILE);
        let rows = vec![row(0, true), row(1, false)];
        write_samples(&path, &rows).unwrap();
        assert_eq!(read_samples(&path).unwrap(), rows);
        let meta =
            parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&path).unwrap())
                .unwrap();
        use parquet::file::reader::FileReader;
        let kv = meta
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap()
            .clone();
        assert!(
            kv.iter()
                .any(|k| k.key == VERSION_KEY && k.value.as_deref() == Some("2"))
        );

        // The same table as version 1 wrote it: `has_wav`, no version key.
        let write_as = |version: Option<&str>, audio_name: &str| {
            let fields: Vec<Field> = schema()
                .fields()
                .iter()
                .map(|f| match f.name().as_str() {
                    "has_audio" => Field::new(audio_name, DataType::Boolean, false),
                    _ => f.as_ref().clone(),
                })
                .collect();
            let schema = Arc::new(Schema::new(fields));
            let file = std::fs::File::open(&path).unwrap();
            let batch = ParquetRecordBatchReaderBuilder::try_new(file)
                .unwrap()
                .build()
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            let batch = RecordBatch::try_new(schema.clone(), batch.columns().to_vec()).unwrap();
            let old = dir
                .path()
                .join(format!("v{}.parquet", version.unwrap_or("1")));
            let props = WriterProperties::builder()
                .set_key_value_metadata(
                    version.map(|v| vec![KeyValue::new(VERSION_KEY.to_string(), v.to_string())]),
                )
                .build();
            let mut w =
                ArrowWriter::try_new(std::fs::File::create(&old).unwrap(), schema, Some(props))
                    .unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            old
        };
        assert_eq!(read_samples(&write_as(None, "has_wav")).unwrap(), rows);
        let newer = read_samples(&write_as(Some("3"), "has_audio")).unwrap_err();
        assert!(format!("{newer:#}").contains("version 3"), "{newer:#}");
    }
}
