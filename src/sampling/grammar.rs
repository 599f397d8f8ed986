//! The REMI grammar seen through [`TokenGrammar`], and the REMI special ids.

use anyhow::{Result, anyhow};

use super::decode::{Specials, TokenGrammar};
use crate::remi::{BAR, BOS, EOS, Grammar, PAD};

pub fn remi_specials() -> Specials {
    Specials {
        pad: PAD,
        bos: BOS,
        eos: EOS,
        bar: BAR,
    }
}

impl TokenGrammar for Grammar {
    fn fill_mask(&self, mask: &mut [bool]) {
        Grammar::fill_mask(self, mask)
    }
    fn push(&mut self, id: u16) -> Result<()> {
        Grammar::push(self, id).map_err(|e| anyhow!("{e}"))
    }
    fn bars(&self) -> u32 {
        Grammar::bars(self)
    }
    fn bar_has_note(&self) -> bool {
        Grammar::bar_has_note(self)
    }
}
