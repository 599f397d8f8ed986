//! Dynamic loss scaling for f16 mixed precision (Micikevicius et al. 2018, "Mixed Precision
//! Training"; the policy of PyTorch's `GradScaler`). f16 gradients below about 6e-8 round to
//! zero, so the loss is multiplied by `scale` before the backward pass and the gradients divided
//! by it after (in f32). A step whose gradients are not finite overflowed: it is skipped and the
//! scale halved; after `window` good steps in a row the scale doubles.

use serde::{Deserialize, Serialize};

/// The scaler's state, kept in the checkpoint so a resume continues exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossScale {
    pub scale: f64,
    /// Good steps since the last change of scale.
    good: u32,
    /// Steps skipped so far (overflows).
    pub skipped: u64,
}

/// The smallest scale: halving stops here rather than reach zero.
const MIN_SCALE: f64 = 1.0;

impl LossScale {
    pub fn new(scale: f64) -> Self {
        LossScale {
            scale,
            good: 0,
            skipped: 0,
        }
    }

    /// After a backward pass with the current scale: whether its update may be applied
    /// (`finite` gradients). Halves the scale on an overflow; doubles it after `window` good
    /// steps in a row.
    pub fn update(&mut self, finite: bool, window: u32) -> bool {
        if !finite {
            self.scale = (self.scale / 2.0).max(MIN_SCALE);
            self.good = 0;
            self.skipped += 1;
            return false;
        }
        self.good += 1;
        if self.good >= window {
            self.scale *= 2.0;
            self.good = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_halves_and_a_good_run_doubles() {
        let mut s = LossScale::new(1024.0);
        assert!(s.update(true, 3));
        assert!(!s.update(false, 3));
        assert_eq!((s.scale, s.skipped), (512.0, 1));
        // The run of good steps starts again after an overflow.
        assert!(s.update(true, 3) && s.update(true, 3));
        assert_eq!(s.scale, 512.0);
        assert!(s.update(true, 3));
        assert_eq!(s.scale, 1024.0);
        let mut low = LossScale::new(1.0);
        low.update(false, 3);
        assert_eq!(low.scale, 1.0);
    }
}
