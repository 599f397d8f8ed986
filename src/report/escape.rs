//! Text into HTML, paths into relative URLs.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative URL from `/`-separated path segments: each segment percent-encoded (the
/// unreserved characters and `=`, which hive folder names use, stay as they are).
pub fn url(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|seg| {
            let mut out = String::new();
            for b in seg.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~=".contains(&b) {
                    out.push(b as char);
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A name safe as one file-name component: letters, digits, `-`, `_`, `.` kept, others `_`;
/// never empty, `.` or `..`.
pub fn file_component(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        format!("_{out}")
    } else {
        out
    }
}

/// A number for display: `-` when missing or not finite.
pub fn num(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "–".to_string(),
    }
}

/// A number for a `data-value` attribute: the shortest text that reads back as the same f64,
/// empty when missing.
pub fn exact(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_urls() {
        assert_eq!(
            html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            url(&["..", "generated", "task=a b", "x#1.mid"]),
            "../generated/task=a%20b/x%231.mid"
        );
        assert_eq!(file_component(".."), "_..");
        assert_eq!(file_component("a/b c"), "a_b_c");
        assert_eq!(exact(Some(0.1 + 0.2)).parse::<f64>().unwrap(), 0.1 + 0.2);
    }
}
