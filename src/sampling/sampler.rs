//! A sampler's settings (`[[generate.sampler]]`, `[train.monitor]`) and their validation. The
//! processing itself is in [`distribution`](super::distribution), beam search in
//! [`beam`](super::beam).

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::Task;
use super::prior::PitchPrior;
use crate::check::check;
use crate::remi::vocab::{Kind, kind};

/// A sampler: grammar mask -> pitch prior -> temperature -> top-k -> top-p -> typical-p -> min-p -> draw, or
/// a beam search over the same processed distribution. Settings at their "off" value are left
/// out when serialised (the partition fingerprint), so adding an option keeps older
/// partitions fresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplerConfig {
    /// Folder name of the partition (`sampler=<name>`).
    pub name: String,
    /// The tasks this sampler runs for; empty (the default) = every configured task. Not part
    /// of the pieces' fingerprint: it picks partitions, it does not change them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<Task>,
    #[serde(default = "one")]
    pub temperature: f64,
    /// 0 = off.
    #[serde(default)]
    pub top_k: usize,
    /// 1.0 = off.
    #[serde(default = "one")]
    pub top_p: f64,
    /// Locally typical sampling (Meister et al. 2023): the tokens whose surprisal is closest to
    /// the distribution's entropy, up to this much mass. 1.0 = off.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub typical_p: f64,
    /// Min-p sampling (Nguyen et al. 2024): only tokens with at least `min_p` times the most
    /// likely token's probability. 0.0 = off.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_p: f64,
    /// Per-family temperature, top-k and top-p (`family.pitch = { temperature = 0.9 }`).
    #[serde(default, skip_serializing_if = "Families::is_empty")]
    pub family: Families,
    /// Pitches off the piece's scale, of a new class, or beyond its range so far lose probability
    /// (`pitch_prior = { out_of_scale = 0.7, beyond_range = 0.3 }`; [`PitchPrior`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch_prior: Option<PitchPrior>,
    /// Beam search instead of sampling (`beam = { width = 4 }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beam: Option<BeamConfig>,
}

/// The REMI token families a sampler can treat apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    BarPosition,
    Chord,
    Tempo,
    Pitch,
    Velocity,
    Duration,
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::BarPosition,
        Family::Chord,
        Family::Tempo,
        Family::Pitch,
        Family::Velocity,
        Family::Duration,
    ];

    /// The family of a token id (None for Pad, Bos, Eos).
    pub fn of(id: u16) -> Option<Family> {
        match kind(id) {
            Kind::Bar | Kind::Position => Some(Family::BarPosition),
            Kind::Chord => Some(Family::Chord),
            Kind::Tempo => Some(Family::Tempo),
            Kind::Pitch => Some(Family::Pitch),
            Kind::Velocity => Some(Family::Velocity),
            Kind::Duration => Some(Family::Duration),
            Kind::Pad | Kind::Bos | Kind::Eos | Kind::Unknown => None,
        }
    }

    /// The key under `family.` in the config.
    pub fn key(self) -> &'static str {
        match self {
            Family::BarPosition => "bar_position",
            Family::Chord => "chord",
            Family::Tempo => "tempo",
            Family::Pitch => "pitch",
            Family::Velocity => "velocity",
            Family::Duration => "duration",
        }
    }
}

/// Overrides for one family; unset = the sampler's own setting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilySettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
}

/// `family.<name>` overrides, one optional entry per [`Family`]. An entry that sets nothing
/// (`family.pitch = {}`) is no entry: it changes neither the pieces nor their fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Families {
    #[serde(default, skip_serializing_if = "unset")]
    pub bar_position: Option<FamilySettings>,
    #[serde(default, skip_serializing_if = "unset")]
    pub chord: Option<FamilySettings>,
    #[serde(default, skip_serializing_if = "unset")]
    pub tempo: Option<FamilySettings>,
    #[serde(default, skip_serializing_if = "unset")]
    pub pitch: Option<FamilySettings>,
    #[serde(default, skip_serializing_if = "unset")]
    pub velocity: Option<FamilySettings>,
    #[serde(default, skip_serializing_if = "unset")]
    pub duration: Option<FamilySettings>,
}

impl FamilySettings {
    /// Whether it overrides nothing.
    pub fn is_unset(&self) -> bool {
        self.temperature.is_none() && self.top_k.is_none() && self.top_p.is_none()
    }
}

fn unset(s: &Option<FamilySettings>) -> bool {
    s.is_none_or(|s| s.is_unset())
}

impl Families {
    /// Family `f`'s overrides, when it sets any.
    pub fn get(&self, f: Family) -> Option<&FamilySettings> {
        let entry = match f {
            Family::BarPosition => &self.bar_position,
            Family::Chord => &self.chord,
            Family::Tempo => &self.tempo,
            Family::Pitch => &self.pitch,
            Family::Velocity => &self.velocity,
            Family::Duration => &self.duration,
        };
        entry.as_ref().filter(|s| !s.is_unset())
    }

    pub fn get_mut(&mut self, f: Family) -> &mut Option<FamilySettings> {
        match f {
            Family::BarPosition => &mut self.bar_position,
            Family::Chord => &mut self.chord,
            Family::Tempo => &mut self.tempo,
            Family::Pitch => &mut self.pitch,
            Family::Velocity => &mut self.velocity,
            Family::Duration => &mut self.duration,
        }
    }

    pub fn is_empty(&self) -> bool {
        Family::ALL.iter().all(|&f| self.get(f).is_none())
    }
}

/// Beam search: `width` hypotheses per piece, ranked by the sum of log-probabilities of the
/// processed distribution; finished ones by that sum over (generated tokens)^`length_penalty`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeamConfig {
    pub width: usize,
    /// Stochastic beam search (Kool et al. 2019): each step keeps `width` children drawn
    /// without replacement (Gumbel top-k) instead of the `width` most likely.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stochastic: bool,
    /// 0 = raw sum (favours short pieces), 1 = mean log-probability per token.
    #[serde(default = "one")]
    pub length_penalty: f64,
}

/// The widest beam allowed: every beam is a row of the decoding batch.
pub const MAX_BEAM: usize = 64;

fn one() -> f64 {
    1.0
}

fn is_one(x: &f64) -> bool {
    *x == 1.0
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_false(x: &bool) -> bool {
    !*x
}

/// Temperature, top-k and top-p for one family (or for all tokens).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shaping {
    pub temperature: f64,
    pub top_k: usize,
    pub top_p: f64,
}

impl SamplerConfig {
    pub fn new(name: &str, temperature: f64, top_k: usize, top_p: f64) -> SamplerConfig {
        SamplerConfig {
            name: name.into(),
            tasks: Vec::new(),
            temperature,
            top_k,
            top_p,
            typical_p: 1.0,
            min_p: 0.0,
            family: Families::default(),
            pitch_prior: None,
            beam: None,
        }
    }

    /// Whether this sampler runs for `task`.
    pub fn runs_for(&self, task: Task) -> bool {
        self.tasks.is_empty() || self.tasks.contains(&task)
    }

    /// The sampler's own temperature, top-k and top-p.
    pub fn shaping(&self) -> Shaping {
        Shaping {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
        }
    }

    /// Family `f`'s settings: its overrides over the sampler's own.
    pub fn family_shaping(&self, f: Family) -> Shaping {
        let own = self.shaping();
        let Some(o) = self.family.get(f) else {
            return own;
        };
        Shaping {
            temperature: o.temperature.unwrap_or(own.temperature),
            top_k: o.top_k.unwrap_or(own.top_k),
            top_p: o.top_p.unwrap_or(own.top_p),
        }
    }

    /// Refuses a setting out of its range, naming it by `key(field)`.
    pub fn validate_settings(&self, key: &dyn Fn(&str) -> String) -> Result<()> {
        validate_shaping(Some(self.temperature), Some(self.top_p), &|k: &str| key(k))?;
        for f in Family::ALL {
            if let Some(o) = self.family.get(f) {
                let fkey = |k: &str| key(&format!("family.{}.{k}", f.key()));
                validate_shaping(o.temperature, o.top_p, &fkey)?;
            }
        }
        check(
            self.typical_p.is_finite() && self.typical_p > 0.0 && self.typical_p <= 1.0,
            &key("typical_p"),
            "must be in (0, 1] (1 = off)",
        )?;
        check(
            self.min_p.is_finite() && (0.0..1.0).contains(&self.min_p),
            &key("min_p"),
            "must be in [0, 1) (0 = off)",
        )?;
        if let Some(c) = &self.pitch_prior {
            c.validate(key)?;
        }
        if let Some(b) = &self.beam {
            check(
                (1..=MAX_BEAM).contains(&b.width),
                &key("beam.width"),
                format!("must be in 1..={MAX_BEAM}"),
            )?;
            check(
                b.length_penalty.is_finite() && b.length_penalty >= 0.0,
                &key("beam.length_penalty"),
                "must be >= 0",
            )?;
        }
        Ok(())
    }
}

fn validate_shaping(
    temperature: Option<f64>,
    top_p: Option<f64>,
    key: &dyn Fn(&str) -> String,
) -> Result<()> {
    if let Some(t) = temperature {
        check(t.is_finite() && t > 0.0, &key("temperature"), "must be > 0")?;
    }
    if let Some(p) = top_p {
        check(
            p.is_finite() && p > 0.0 && p <= 1.0,
            &key("top_p"),
            "must be in (0, 1]",
        )?;
    }
    Ok(())
}
