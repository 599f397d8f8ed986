use sha2::{Digest, Sha256};
use std::fmt;

/// The 90/5/5 train/valid/test split, a pure function of the song id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl Split {
    pub fn of(song_id: &str) -> Split {
        let d = Sha256::digest(song_id.as_bytes());
        let bucket = u64::from_le_bytes(d[..8].try_into().expect("32-byte digest")) % 100;
        match bucket {
            0..90 => Split::Train,
            90..95 => Split::Valid,
            _ => Split::Test,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Split> {
        match s {
            "train" => Some(Split::Train),
            "valid" => Some(Split::Valid),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_deterministic_and_near_90_5_5() {
        let mut counts = [0usize; 3];
        for i in 0..20_000 {
            let id = format!("src_{:03}/{i}", i % 4);
            let s = Split::of(&id);
            assert_eq!(s, Split::of(&id));
            counts[s as usize] += 1;
        }
        assert!((17_600..18_400).contains(&counts[0]), "{counts:?}");
        assert!((800..1_200).contains(&counts[1]), "{counts:?}");
        assert!((800..1_200).contains(&counts[2]), "{counts:?}");
    }
}
