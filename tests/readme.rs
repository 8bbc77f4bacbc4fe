//! The README's dependency line is what a host can really write: a path (or git) dependency
//! on this repository's facade package with features that exist, and the same line as the
//! host crate CI builds and runs (`tests/host`, outside the workspace). The crates.io name
//! `cartograph` belongs to an unrelated crate, so a bare version must never come back.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use toml::Table;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `cartograph = ...` dependency of a TOML text, as a table.
fn dependency(toml_text: &str, what: &str) -> Table {
    let doc: Table = toml_text
        .parse()
        .unwrap_or_else(|e| panic!("{what}: not TOML: {e}"));
    let deps = doc
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .unwrap_or_else(|| panic!("{what}: no [dependencies]"));
    match deps.get("cartograph") {
        Some(toml::Value::Table(t)) => t.clone(),
        Some(other) => {
            panic!("{what}: `cartograph = {other:?}` is not a path or git dependency")
        }
        None => panic!("{what}: no `cartograph` dependency"),
    }
}

/// The TOML block of the README's "Using it" section.
fn readme_block() -> String {
    let readme = read("README.md");
    let section = readme
        .split_once("## Using it")
        .expect("README has a \"## Using it\" section")
        .1;
    let block = section
        .split_once("```toml\n")
        .expect("\"Using it\" starts with a ```toml block")
        .1;
    block
        .split_once("```")
        .expect("the block is closed")
        .0
        .to_owned()
}

fn features(dep: &Table) -> Vec<String> {
    dep.get("features")
        .and_then(toml::Value::as_array)
        .map(|a| a.iter().map(|f| f.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn readme_dependency_line_is_a_path_dependency_on_the_facade_with_real_features() {
    let readme = dependency(&readme_block(), "README");
    assert!(
        readme.contains_key("path") || readme.contains_key("git"),
        "README: the dependency must say where the facade is (path or git): {readme:?}"
    );
    assert!(
        !readme.contains_key("version") && !readme.contains_key("registry"),
        "README: a version would resolve to the unrelated crates.io crate: {readme:?}"
    );
    let root: Table = read("Cargo.toml").parse().unwrap();
    let package = root["package"].as_table().unwrap();
    assert_eq!(
        package["name"].as_str(),
        Some("cartograph"),
        "the repository root is the facade"
    );
    let known = root["features"].as_table().unwrap();
    let wanted = features(&readme);
    assert!(!wanted.is_empty(), "README: name the connectors' features");
    for feature in &wanted {
        assert!(
            known.contains_key(feature),
            "README: feature {feature:?} does not exist in the facade"
        );
    }
}

#[test]
fn host_crate_depends_on_the_facade_exactly_as_the_readme_shows() {
    let readme = dependency(&readme_block(), "README");
    let host = dependency(&read("tests/host/Cargo.toml"), "tests/host/Cargo.toml");
    // Same keys and values, except where the checkout is.
    let strip = |t: &Table| {
        let mut t = t.clone();
        t.remove("path");
        t.remove("git");
        t
    };
    assert_eq!(
        strip(&host),
        strip(&readme),
        "tests/host/Cargo.toml and the README's dependency line differ"
    );
    let path = host["path"]
        .as_str()
        .expect("the host uses a path dependency");
    let facade = Path::new(ROOT).join("tests/host").join(path);
    assert_eq!(
        facade.canonicalize().unwrap(),
        Path::new(ROOT).canonicalize().unwrap(),
        "tests/host's path must point at this checkout"
    );
    // The host is its own workspace, so it builds as an outside application would.
    let manifest: Table = read("tests/host/Cargo.toml").parse().unwrap();
    assert!(
        manifest.contains_key("workspace"),
        "tests/host must stay outside the repository's workspace"
    );
}
