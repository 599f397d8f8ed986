//! FLAC encoding of rendered audio (flacenc): the same 16-bit samples as the WAV, lossless, in
//! about half the bytes for solo piano.

use anyhow::{Result, anyhow};
use flacenc::component::BitRepr;
use flacenc::error::Verify;

use super::wav::{Audio, to_i16};

/// The bytes of a FLAC file of `audio` as 16-bit stereo (the samples the WAV would hold).
pub fn flac_bytes(audio: &Audio) -> Result<Vec<u8>> {
    let samples: Vec<i32> = audio
        .left
        .iter()
        .zip(&audio.right)
        .flat_map(|(&l, &r)| [to_i16(l) as i32, to_i16(r) as i32])
        .collect();
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|e| anyhow!("FLAC encoder settings: {e:?}"))?;
    let source =
        flacenc::source::MemSource::from_samples(&samples, 2, 16, audio.sample_rate as usize);
    let block = config.block_size;
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, block)
        .map_err(|e| anyhow!("FLAC encoding: {e:?}"))?;
    // A fixed-block stream says min = max block size (the last block may be shorter); flacenc
    // records the short last block as the minimum, which strict decoders refuse.
    stream
        .stream_info_mut()
        .set_block_sizes(block, block)
        .map_err(|e| anyhow!("FLAC stream info: {e:?}"))?;
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream
        .write(&mut sink)
        .map_err(|e| anyhow!("FLAC encoding: {e:?}"))?;
    Ok(sink.as_slice().to_vec())
}
