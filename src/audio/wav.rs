//! Rendered audio and its files: 16-bit stereo PCM as WAV or FLAC.

/// Stereo samples in [-1, 1] at `sample_rate`.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub sample_rate: u32,
    pub left: Vec<f32>,
    pub right: Vec<f32>,
}

impl Audio {
    pub fn seconds(&self) -> f64 {
        self.left.len() as f64 / self.sample_rate as f64
    }

    /// The largest absolute sample of either channel.
    pub fn peak(&self) -> f32 {
        self.left
            .iter()
            .chain(&self.right)
            .fold(0f32, |m, &x| m.max(x.abs()))
    }

    /// Scales both channels so the peak is `level` (silence stays silent).
    pub fn scale_peak_to(&mut self, level: f32) {
        let peak = self.peak();
        if peak > 0.0 && peak.is_finite() {
            let gain = level / peak;
            for x in self.left.iter_mut().chain(self.right.iter_mut()) {
                *x *= gain;
            }
        }
    }

    /// Root mean square over both channels.
    pub fn rms(&self) -> f64 {
        let n = (self.left.len() + self.right.len()).max(1) as f64;
        let sum: f64 = self
            .left
            .iter()
            .chain(&self.right)
            .map(|&x| (x as f64) * (x as f64))
            .sum();
        (sum / n).sqrt()
    }
}

pub(super) fn to_i16(x: f32) -> i16 {
    // Clip rather than wrap: a loud chord must not turn into noise.
    (x.clamp(-1.0, 1.0) * i16::MAX as f32).round() as i16
}

/// The bytes of a canonical 44-byte-header RIFF/WAVE file, PCM 16-bit, 2 channels.
pub fn wav_bytes(audio: &Audio) -> Vec<u8> {
    const CHANNELS: u16 = 2;
    const BITS: u16 = 16;
    let frames = audio.left.len().min(audio.right.len());
    let block_align = CHANNELS * BITS / 8;
    let data_len = (frames * block_align as usize) as u32;
    let byte_rate = audio.sample_rate * block_align as u32;

    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&CHANNELS.to_le_bytes());
    out.extend_from_slice(&audio.sample_rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&BITS.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        out.extend_from_slice(&to_i16(audio.left[i]).to_le_bytes());
        out.extend_from_slice(&to_i16(audio.right[i]).to_le_bytes());
    }
    out
}
