//! The module graph flows one way (docs/design.md, "Code layout"): read from the
//! sources, every top-level module's `crate::…` references form no cycle, the domain modules
//! use only those before them, nothing but the glue sees the whole config, and the runner is
//! never imported by the domain, and no stage's work calls into another stage's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The domain modules in data-flow order: each may use only the ones before it.
const DOMAIN: [&str; 13] = [
    "midi", "remi", "features", "shards", "samples", "tokenize", "audio", "model", "sampling",
    "train", "generate", "metrics", "report",
];
/// Helpers any module may use.
const SHARED: [&str; 5] = ["check", "fsio", "hash", "progress", "rng"];

/// Top-level module -> the top-level modules its non-test code names as `crate::…`.
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            let names = graph.entry(module.clone()).or_default();
            for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let group = rest.strip_prefix('{').map(|g| g.split('}').next().unwrap());
                    let used: Vec<&str> = match group {
                        Some(g) => g
                            .split(',')
                            .map(|n| n.trim().split("::").next().unwrap())
                            .collect(),
                        None => vec![
                            rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                                .next()
                                .unwrap(),
                        ],
                    };
                    names.extend(
                        used.into_iter()
                            .filter(|n| !n.is_empty() && *n != "self" && **n != *module)
                            .map(String::from),
                    );
                }
            }
        }
    }
    graph
}

#[test]
fn the_module_graph_flows_one_way() {
    let graph = module_graph();
    assert!(
        graph.contains_key("generate") && graph.len() > 15,
        "{graph:?}"
    );
    // No cycle: a depth-first search never meets a module on its own path.
    fn visit(m: &str, g: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>) {
        assert!(!path.iter().any(|p| p == m), "cycle: {path:?} -> {m}");
        path.push(m.to_string());
        for n in g.get(m).into_iter().flatten() {
            visit(n, g, path);
        }
        path.pop();
    }
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new());
    }
    for (i, m) in DOMAIN.iter().enumerate() {
        for used in &graph[*m] {
            let earlier = DOMAIN[..i].contains(&used.as_str());
            assert!(
                earlier || SHARED.contains(&used.as_str()),
                "`{m}` uses `{used}`, which is not before it in the data flow"
            );
        }
    }
    for (m, uses) in &graph {
        if uses.contains("config") {
            assert!(
                ["stages", "commands", "layout"].contains(&m.as_str()),
                "`{m}` sees the whole config"
            );
        }
        if uses.contains("pipeline") {
            assert!(
                ["stages", "commands", "cli"].contains(&m.as_str()),
                "`{m}` imports the runner"
            );
        }
    }
    assert!(graph["fsio"].is_empty(), "fsio imports {:?}", graph["fsio"]);
    // No stage's work calls sideways into another's: what two stages share (the generated
    // store's table, the token shards) lives below both. The report is the one reader of the
    // evaluate tables' module.
    for m in STAGE_WORK {
        for other in STAGE_WORK.iter().filter(|o| **o != m) {
            assert!(
                !graph[m].contains(*other),
                "`{m}` calls into the stage `{other}`"
            );
        }
    }
    assert!(
        !graph["report"].contains("generate"),
        "`report` calls into `generate`"
    );
}

/// The modules that do one stage's work.
const STAGE_WORK: [&str; 4] = ["tokenize", "train", "generate", "metrics"];
