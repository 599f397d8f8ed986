//! Learning-rate schedule: linear warmup to `lr`, then cosine decay to `min_lr`.

use std::f64::consts::PI;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrSchedule {
    pub lr: f64,
    pub min_lr: f64,
    pub warmup_steps: usize,
    pub max_steps: usize,
}

impl LrSchedule {
    /// Learning rate for the update made at `step` (0-based). Warmup: `lr * (step + 1) / warmup`,
    /// so step `warmup - 1` is the first at full `lr`; from `warmup` the cosine goes from `lr`
    /// (at `warmup`) to `min_lr` (at `max_steps`); past `max_steps` it stays at `min_lr`.
    pub fn at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = self.max_steps.saturating_sub(self.warmup_steps).max(1);
        let progress = ((step - self.warmup_steps) as f64 / span as f64).min(1.0);
        self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + (PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_is_linear_and_decay_is_monotone() {
        let s = LrSchedule {
            lr: 1.0,
            min_lr: 0.1,
            warmup_steps: 4,
            max_steps: 12,
        };
        assert_eq!(s.at(0), 0.25);
        assert_eq!(s.at(1), 0.5);
        let mut prev = s.at(4);
        for step in 5..=12 {
            let lr = s.at(step);
            assert!(lr < prev, "step {step}: {lr} >= {prev}");
            prev = lr;
        }
        // Half-way through the decay the cosine is at its mid-point.
        assert!((s.at(8) - 0.55).abs() < 1e-12);
    }
}
