// Placeholder until the writer lands (helper midi-remi replaces this file).
use super::Song;

pub fn write_bytes(_song: &Song) -> Vec<u8> {
    Vec::new()
}
