//! The core's layers depend in one direction: a module of `src/<layer>/` names no item of a
//! layer declared after its own in `src/lib.rs` (doc comments and test modules aside), so no
//! import loop can form between layers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::Path;

/// The layers in the order `src/lib.rs` declares them.
fn layers() -> Vec<String> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_string())
        .collect()
}

/// The code of a file, without comments and without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_layer_depends_only_on_the_layers_before_it() {
    let layers = layers();
    assert_eq!(
        layers,
        [
            "diagnostics",
            "io",
            "text",
            "model",
            "policy",
            "engine",
            "authoring",
            "project",
            "log"
        ],
        "src/lib.rs declares the layers in this order"
    );
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for (rank, layer) in layers.iter().enumerate() {
        let folder = src.join(layer);
        let files: Vec<_> = if folder.is_dir() {
            walk(&folder)
        } else {
            vec![src.join(format!("{layer}.rs"))]
        };
        for file in files {
            let code = code(&file);
            for later in &layers[rank + 1..] {
                let needle = format!("crate::{later}::");
                let import = format!("crate::{{{later}");
                if code.contains(&needle) || code.contains(&import) {
                    wrong.push(format!("{} names `{later}`", file.display()));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "a layer names a later one:\n{}",
        wrong.join("\n")
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push(path);
        }
    }
    files
}
