//! Reading the report page back as HTML: attributes, links, cards, well-formedness.

use std::path::Path;

/// The value of attribute `name` in the first tag of `tag`.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let head = &tag[..tag.find('>').unwrap_or(tag.len())];
    let key = format!(" {name}=\"");
    let i = head.find(&key)? + key.len();
    let j = head[i..].find('"')? + i;
    Some(unescape(&head[i..j]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every `src="…"` and `href="…"` value in the page.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(key) {
            let tail = &rest[i + key.len()..];
            let j = tail.find('"').unwrap();
            out.push(unescape(&tail[..j]));
            rest = &tail[j..];
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The `<article …>` elements (cards), as their text.
pub fn cards(html: &str) -> Vec<&str> {
    html.split("<article ")
        .skip(1)
        .map(|s| &s[..s.find("</article>").unwrap()])
        .collect()
}

/// Checks that every element is closed in order (void elements aside) and that ids are unique:
/// the page is well-formed, not just a bag of strings.
pub fn assert_well_formed(html: &str) {
    const VOID: [&str; 8] = [
        "meta", "img", "br", "input", "link", "source", "hr", "!doctype",
    ];
    let mut stack: Vec<String> = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        let tail = &rest[i + 1..];
        let end = tail.find('>').expect("unclosed tag");
        let tag = &tail[..end];
        rest = &tail[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> closes nothing"));
            assert_eq!(open, name, "</{name}> closes <{open}>");
            continue;
        }
        let name = tag.split_whitespace().next().unwrap().to_ascii_lowercase();
        if let Some(id) = attr(&format!("<{tag}>"), "id") {
            assert!(ids.insert(id.clone()), "duplicate id {id}");
        }
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        if name == "script" || name == "style" {
            // Raw text up to the closing tag.
            let close = format!("</{name}>");
            rest = &rest[rest.find(&close).expect("unclosed raw-text element") + close.len()..];
            continue;
        }
        stack.push(name);
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
}

pub fn assert_links_resolve(report: &Path) {
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    let all = links(&html);
    assert!(all.len() > 10, "too few links: {all:?}");
    for l in all {
        assert!(
            !l.contains("://") && !l.starts_with('/'),
            "link {l} is not relative"
        );
        // A media fragment (`#t=…`) names a time in the file, not another file.
        let file = l.split('#').next().unwrap();
        let path = report.join(percent_decode(file));
        assert!(
            path.is_file(),
            "link {l} -> {} does not exist",
            path.display()
        );
    }
}
