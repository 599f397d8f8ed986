//! The stage graph (pipelines/pop1k7.toml): which stages exist and what each runs after.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::Path;

pub const DEFAULT_PATH: &str = "pipelines/pop1k7.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageNode {
    pub name: String,
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    #[serde(rename = "stage")]
    pub stages: Vec<StageNode>,
}

impl Graph {
    pub fn load(path: &Path) -> Result<Graph> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the stage graph {}", path.display()))?;
        let g: Graph = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("bad stage graph {}: {e}", path.display()))?;
        g.check()
            .with_context(|| format!("bad stage graph {}", path.display()))?;
        Ok(g)
    }

    fn check(&self) -> Result<()> {
        for (i, s) in self.stages.iter().enumerate() {
            if self.stages[..i].iter().any(|o| o.name == s.name) {
                bail!("stage `{}` is declared twice", s.name);
            }
            for dep in &s.after {
                // Declaring dependencies before use keeps file order a valid run order (no cycles).
                if !self.stages[..i].iter().any(|o| &o.name == dep) {
                    bail!(
                        "stage `{}` runs after `{dep}`, which is not declared above it",
                        s.name
                    );
                }
            }
        }
        Ok(())
    }

    pub fn node(&self, name: &str) -> Option<&StageNode> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The stages to run for `target` ("all" or one stage name), in order.
    pub fn plan(&self, target: &str) -> Result<Vec<&StageNode>> {
        if target == "all" {
            return Ok(self.stages.iter().collect());
        }
        match self.node(target) {
            Some(n) => Ok(vec![n]),
            None => {
                let names: Vec<&str> = self.stages.iter().map(|s| s.name.as_str()).collect();
                bail!(
                    "unknown stage `{target}`; stages are: {}, or `all`",
                    names.join(", ")
                )
            }
        }
    }
}
