// Placeholder until the reader lands (helper midi-remi replaces this file).
use super::{MidiError, Song};
use std::path::Path;

pub fn read_bytes(_bytes: &[u8]) -> Result<Song, MidiError> {
    Err(MidiError::Malformed("reader not implemented yet".into()))
}

pub fn read_file(path: &Path) -> Result<Song, MidiError> {
    let bytes = std::fs::read(path).map_err(|e| MidiError::Io(e.to_string()))?;
    read_bytes(&bytes)
}
