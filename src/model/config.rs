//! `[model]`: the config section that picks a Transformer-XL shape (a preset plus overrides).

use serde::{Deserialize, Serialize};

use super::TransformerXlConfig;
use crate::check::check;

/// `[model]` section of the config: a preset plus optional overrides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// "small" (CPU, minutes), "course" (12L/512, GPU) or "tiny" (tests).
    #[serde(default = "default_preset")]
    pub preset: String,
    pub n_layer: Option<usize>,
    pub d_model: Option<usize>,
    pub n_head: Option<usize>,
    pub d_inner: Option<usize>,
    pub tgt_len: Option<usize>,
    pub mem_len: Option<usize>,
    pub dropout: Option<f64>,
    pub dropatt: Option<f64>,
    pub pre_norm: Option<bool>,
}

fn default_preset() -> String {
    "small".into()
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            preset: default_preset(),
            n_layer: None,
            d_model: None,
            n_head: None,
            d_inner: None,
            tgt_len: None,
            mem_len: None,
            dropout: None,
            dropatt: None,
            pre_norm: None,
        }
    }
}

impl ModelConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        let presets = ["small", "course", "tiny"];
        check(
            presets.contains(&self.preset.as_str()),
            "model.preset",
            format!("must be one of {presets:?}, got {:?}", self.preset),
        )?;
        let c = self.resolve(1);
        check(c.n_layer > 0, "model.n_layer", "must be > 0")?;
        check(c.n_head > 0, "model.n_head", "must be > 0")?;
        check(
            c.d_model > 0 && c.d_model % 2 == 0,
            "model.d_model",
            "must be even and > 0 (sinusoidal positions)",
        )?;
        check(
            c.d_model % c.n_head == 0,
            "model.d_model",
            format!("must be divisible by model.n_head ({})", c.n_head),
        )?;
        check(c.d_inner > 0, "model.d_inner", "must be > 0")?;
        check(c.tgt_len > 0, "model.tgt_len", "must be > 0")?;
        check(
            (0.0..1.0).contains(&c.dropout),
            "model.dropout",
            "must be in [0, 1)",
        )?;
        check(
            (0.0..1.0).contains(&c.dropatt),
            "model.dropatt",
            "must be in [0, 1)",
        )?;
        Ok(())
    }

    /// The model shape for a vocabulary: the preset with the overrides applied.
    /// Head width is d_model / n_head.
    pub fn resolve(&self, vocab_size: usize) -> TransformerXlConfig {
        let mut c = match self.preset.as_str() {
            "course" => TransformerXlConfig::course(vocab_size),
            "tiny" => TransformerXlConfig::tiny(vocab_size),
            _ => TransformerXlConfig::small(vocab_size),
        };
        if let Some(v) = self.n_layer {
            c.n_layer = v;
        }
        if let Some(v) = self.d_model {
            c.d_model = v;
        }
        if let Some(v) = self.n_head {
            c.n_head = v;
        }
        if let Some(v) = self.d_inner {
            c.d_inner = v;
        }
        if let Some(v) = self.tgt_len {
            c.tgt_len = v;
        }
        if let Some(v) = self.mem_len {
            c.mem_len = v;
        }
        if let Some(v) = self.dropout {
            c.dropout = v;
        }
        if let Some(v) = self.dropatt {
            c.dropatt = v;
        }
        if let Some(v) = self.pre_norm {
            c.pre_norm = v;
        }
        c.d_head = c.d_model / c.n_head.max(1);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_and_overrides_apply() {
        let small = ModelConfig::default().resolve(100);
        assert_eq!(
            (small.n_layer, small.d_model, small.n_head, small.d_head),
            (4, 256, 4, 64)
        );
        let course = ModelConfig {
            preset: "course".into(),
            ..Default::default()
        }
        .resolve(100);
        assert_eq!(
            (
                course.n_layer,
                course.d_model,
                course.tgt_len,
                course.mem_len
            ),
            (12, 512, 512, 512)
        );
        let c = ModelConfig {
            d_model: Some(128),
            n_head: Some(8),
            ..Default::default()
        };
        assert_eq!(c.resolve(7).d_head, 16);
        assert_eq!(c.resolve(7).vocab_size, 7);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = |c: ModelConfig| c.validate().unwrap_err().to_string();
        assert!(
            err(ModelConfig {
                preset: "huge".into(),
                ..Default::default()
            })
            .contains("model.preset")
        );
        assert!(
            err(ModelConfig {
                d_model: Some(130),
                n_head: Some(4),
                ..Default::default()
            })
            .contains("model.d_model")
        );
        assert!(
            err(ModelConfig {
                dropout: Some(1.5),
                ..Default::default()
            })
            .contains("model.dropout")
        );
        let unknown = toml::from_str::<ModelConfig>("preset = \"small\"\nlayers = 3")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("layers"), "{unknown}");
    }
}
