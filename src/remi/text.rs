//! Token sequences as text, for `pipeline tokenize FILE` and `pipeline decode`: names (one bar
//! a line), ids, or JSON; and back, accepting any of the three.

use super::vocab::{BAR, Vocab};

/// How a token sequence is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TokenFormat {
    /// Token names, space-separated, a new line at each Bar.
    Names,
    /// Token ids, space-separated, a new line at each Bar.
    Ids,
    /// `{"tokens": [ids…], "names": [names…]}`.
    Json,
}

/// `tokens` in `format`, ending with a newline.
pub fn format_tokens(tokens: &[u16], format: TokenFormat) -> String {
    if format == TokenFormat::Json {
        let names: Vec<String> = tokens.iter().map(|&t| Vocab::name(t)).collect();
        let v = serde_json::json!({ "tokens": tokens, "names": names });
        return serde_json::to_string(&v).expect("a JSON value serialises") + "\n";
    }
    let mut out = String::new();
    for (i, &t) in tokens.iter().enumerate() {
        if i > 0 {
            out.push(if t == BAR { '\n' } else { ' ' });
        }
        match format {
            TokenFormat::Names => out.push_str(&Vocab::name(t)),
            _ => out.push_str(&t.to_string()),
        }
    }
    out.push('\n');
    out
}

/// A token sequence from text: a JSON array of ids or names, a JSON object with a `tokens`
/// array, or ids and names separated by spaces, commas or newlines (mixed is fine). The error
/// names the first word that is no token and its position.
pub fn parse_tokens(text: &str) -> Result<Vec<u16>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let items = match &v {
            serde_json::Value::Array(a) => a,
            serde_json::Value::Object(o) => o
                .get("tokens")
                .and_then(|t| t.as_array())
                .ok_or("a JSON object needs a \"tokens\" array")?,
            _ => unreachable!("starts with [ or {{"),
        };
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                serde_json::Value::String(s) => word(s, i),
                other => word(&other.to_string(), i),
            })
            .collect();
    }
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(i, w)| word(w, i))
        .collect()
}

/// One token, written as its id or its name.
fn word(w: &str, i: usize) -> Result<u16, String> {
    let id = match w.parse::<u16>() {
        Ok(id) => Vocab::token(id).map(|_| id),
        Err(_) => Vocab::parse(w).map(|t| Vocab::id(&t)),
    };
    id.ok_or_else(|| {
        format!(
            "token {} ({w:?}) is neither a token name nor an id below {}",
            i + 1,
            Vocab::SIZE
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every format reads back to the same ids; a bad word is named with its position.
    #[test]
    fn every_format_parses_back() {
        let tokens: Vec<u16> = vec![1, 3, 4, 202 + 39, 290 + 20, 322 + 7, 3, 2];
        for f in [TokenFormat::Names, TokenFormat::Ids, TokenFormat::Json] {
            let text = format_tokens(&tokens, f);
            assert_eq!(parse_tokens(&text).unwrap(), tokens, "{f:?}: {text}");
        }
        assert_eq!(
            parse_tokens("[\"Bos\", 3, \"Eos\"]").unwrap(),
            vec![1, 3, 2]
        );
        assert_eq!(parse_tokens("Bos,Bar\nEos").unwrap(), vec![1, 3, 2]);
        let e = parse_tokens("Bos Bar Pitch_7 Eos").unwrap_err();
        assert!(e.contains("token 3") && e.contains("Pitch_7"), "{e}");
        assert!(parse_tokens("1 3 9999").unwrap_err().contains("9999"));
    }
}
