//! The stage graph: the stages in an order where each comes after its upstream stages, derived
//! from what each stage declares.

use anyhow::{Result, bail};

use super::stage::Stage;

pub struct Graph<'a, C> {
    /// In run order.
    stages: Vec<&'a dyn Stage<C>>,
}

impl<'a, C> Graph<'a, C> {
    /// Orders `stages` so that every stage follows its upstream stages (ties keep the given
    /// order); refuses duplicate names, unknown upstreams and cycles.
    pub fn new(stages: &[&'a dyn Stage<C>]) -> Result<Self> {
        for (i, s) in stages.iter().enumerate() {
            if stages[..i].iter().any(|o| o.name() == s.name()) {
                bail!("stage `{}` is declared twice", s.name());
            }
            for up in s.upstream() {
                if !stages.iter().any(|o| o.name() == up.stage) {
                    bail!(
                        "stage `{}` reads `{}`, which is not a stage",
                        s.name(),
                        up.stage
                    );
                }
            }
        }
        let mut order: Vec<&'a dyn Stage<C>> = Vec::with_capacity(stages.len());
        while order.len() < stages.len() {
            let ready = stages.iter().find(|s| {
                !order.iter().any(|o| o.name() == s.name())
                    && s.upstream()
                        .iter()
                        .all(|up| order.iter().any(|o| o.name() == up.stage))
            });
            match ready {
                Some(s) => order.push(*s),
                None => bail!("the stages' upstream declarations form a cycle"),
            }
        }
        Ok(Graph { stages: order })
    }

    /// Every stage, in run order.
    pub fn stages(&self) -> &[&'a dyn Stage<C>] {
        &self.stages
    }

    pub fn get(&self, name: &str) -> Option<&'a dyn Stage<C>> {
        self.stages.iter().copied().find(|s| s.name() == name)
    }

    /// The stages to run for `target` ("all" or one stage name), in order.
    pub fn plan(&self, target: &str) -> Result<Vec<&'a dyn Stage<C>>> {
        if target == "all" {
            return Ok(self.stages.clone());
        }
        match self.get(target) {
            Some(s) => Ok(vec![s]),
            None => {
                let names: Vec<&str> = self.stages.iter().map(|s| s.name()).collect();
                bail!(
                    "unknown stage `{target}`; stages are: {}, or `all`",
                    names.join(", ")
                )
            }
        }
    }
}
