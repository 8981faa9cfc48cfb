//! The host's layering, as ARCHITECTURE.md draws it, checked against the
//! code: every top-level module of `src/` is in the doc's layer table, and
//! no module uses one that sits in a layer above its own. Same-layer
//! imports are allowed, but the modules must still not form a cycle (a
//! module and its own children may: they are one module).

// A test may unwrap: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of each top-level module, from the "## Layers" table (top = 0).
fn layers() -> BTreeMap<String, usize> {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md")).unwrap();
    let section = doc.split("\n## Layers").nth(1).expect("ARCHITECTURE.md has a Layers section");
    let section = section.split("\n## ").next().unwrap();
    let mut out = BTreeMap::new();
    let rows = section.lines().filter(|l| l.starts_with('|')).skip(2); // header and separator
    for (layer, row) in rows.enumerate() {
        let modules = row.split('|').nth(2).unwrap();
        for name in modules.split('`').skip(1).step_by(2) {
            let name = name.trim_end_matches('/').trim_end_matches(".rs");
            if !name.contains('.') && !name.contains('/') {
                out.insert(name.to_string(), layer);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/abi/seed.rs` -> `abi`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.trim_end_matches(".rs").to_string();
    (first != "lib").then_some(first)
}

/// The top-level modules named as `crate::<name>` in `text` (comments skipped).
fn uses(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap();
        for part in code.split("crate::").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
            // `crate::{a, b::c}`
            if let Some(group) = part.strip_prefix('{') {
                for item in group.split('}').next().unwrap().split(',') {
                    let item: String =
                        item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !item.is_empty() {
                        out.insert(item);
                    }
                }
            }
        }
    }
    out
}

#[test]
fn no_module_uses_one_above_it_and_there_is_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layers = layers();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for file in &files {
        let Some(module) = top_module(&src, file) else { continue };
        if !layers.contains_key(&module) {
            problems.push(format!("module `{module}` is missing from ARCHITECTURE.md's layer table"));
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for used in uses(&text) {
            if used == module || !layers.contains_key(&used) {
                continue;
            }
            if layers[&used] < layers[&module] {
                problems.push(format!("{} uses `{used}`, which sits in a layer above it", file.display()));
            }
            edges.entry(module.clone()).or_default().insert(used);
        }
    }
    // No cycle: repeatedly remove modules that use no remaining module.
    let mut left: BTreeSet<String> = edges.keys().cloned().collect();
    loop {
        let leaf = left.iter().find(|m| edges[*m].iter().all(|u| !left.contains(u) || !edges.contains_key(u))).cloned();
        match leaf {
            Some(m) => {
                left.remove(&m);
            }
            None => break,
        }
    }
    if !left.is_empty() {
        problems.push(format!("these modules use each other in a cycle: {left:?}"));
    }
    assert!(problems.is_empty(), "layering broken:\n{}", problems.join("\n"));
    assert!(layers.len() > 20, "the layer table names the modules ({})", layers.len());
}
