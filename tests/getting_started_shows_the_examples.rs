//! Guards docs/getting-started.md against rot: every code block marked with an example's path
//! (`<!-- examples/... -->` on the line before it) is that file, whole and unchanged. The
//! examples themselves are compiled by `cargo test`.

use std::path::Path;

#[test]
fn every_marked_block_is_its_file_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/getting-started.md")).unwrap();
    let mut lines = page.lines();
    let mut checked = 0;
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "{path}: no code block after its marker"
        );
        let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        let file = std::fs::read_to_string(root.join(path))
            .unwrap_or_else(|e| panic!("{path} is named in the guide: {e}"));
        let file: Vec<&str> = file.lines().collect();
        assert_eq!(
            block, file,
            "docs/getting-started.md shows {path} otherwise than it is"
        );
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} examples are shown");
}
