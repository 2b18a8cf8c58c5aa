//! The docs name only what exists: every crate in the README's and
//! ARCHITECTURE's crate tables is the package in the folder it names, and
//! every Rust-looking name the README puts in backticks (`AckQueue`,
//! `Error::CommitUnknown`, `to_async()`) is defined somewhere in the
//! workspace's sources. (The README's code blocks are doctests already.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs`, `.js` and `.ts` file under `dir`, outside build output.
fn sources(dir: &Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with("target") && name != "node_modules" && !name.starts_with('.') {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") || name.ends_with(".js") || name.ends_with(".ts") {
            out.push_str(&read(&path));
            out.push('\n');
        }
    }
}

/// Backticked spans of `text`.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `word` occurs in `src` as a whole word.
fn defined(src: &str, word: &str) -> bool {
    src.match_indices(word).any(|(i, _)| {
        let before = src[..i].chars().next_back().is_none_or(|c| !is_word_char(c));
        let after = src[i + word.len()..].chars().next().is_none_or(|c| !is_word_char(c));
        before && after
    })
}

#[test]
fn the_crate_tables_name_real_packages_in_their_folders() {
    for doc in ["README.md", "docs/ARCHITECTURE.md"] {
        let text = read(&root().join(doc));
        let mut rows = 0;
        for line in text.lines().filter(|l| l.starts_with("| `persist-queue")) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (name, folder) = (cells[1].trim_matches('`'), cells[2].trim_matches('`'));
            let manifest = read(&root().join(folder).join("Cargo.toml"));
            assert!(
                manifest.contains(&format!("name = \"{name}\"")),
                "{doc}: {name} is not the package in {folder}"
            );
            rows += 1;
        }
        assert!(rows >= 10, "{doc}: the crate table has {rows} rows");
    }
}

#[test]
fn every_name_the_readme_uses_exists() {
    let mut src = String::new();
    for dir in ["core", "adapters", "host-native", "wasm", "tests"] {
        sources(&root().join(dir), &mut src);
    }
    let readme = read(&root().join("README.md"));
    // Names of the Python system we re-implement, quoted in its column.
    let python = ["ValueError"];
    let mut missing = Vec::new();
    for span in backticked(&readme).into_iter().filter(|s| !python.contains(s)) {
        // Rust paths and calls: `Type`, `Type::item`, `method()`.
        let span = span.trim_end_matches("()");
        if span.is_empty() || !span.chars().all(|c| is_word_char(c) || c == ':') || span.contains(":::") {
            continue;
        }
        let parts: Vec<&str> = span.split("::").collect();
        let rusty = parts.iter().all(|p| !p.is_empty())
            && (parts.len() > 1 || parts[0].chars().next().is_some_and(char::is_uppercase));
        if rusty && parts.iter().any(|p| !defined(&src, p)) {
            missing.push(span.to_string());
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "README names what no source defines: {missing:?}");
}
