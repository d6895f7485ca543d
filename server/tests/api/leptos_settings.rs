use crate::helpers::workspace_root;

fn leptos_block(file: &str) -> toml::Value {
    let text = std::fs::read_to_string(workspace_root().join(file)).unwrap();
    let parsed: toml::Table = text.parse().unwrap();
    let blocks = parsed["workspace"]["metadata"]["leptos"]
        .as_array()
        .unwrap();
    assert_eq!(blocks.len(), 1, "{file} has one Leptos project");
    blocks[0].clone()
}

/// cargo-leptos reads Cargo.toml; people edit Leptos.toml. They must say the same.
#[test]
fn cargo_toml_carries_an_exact_copy_of_leptos_toml() {
    let edited = leptos_block("Leptos.toml");
    let copied = leptos_block("Cargo.toml");
    assert_eq!(
        edited, copied,
        "Leptos.toml and the [[workspace.metadata.leptos]] block of Cargo.toml differ: \
         edit Leptos.toml and copy the block into Cargo.toml"
    );
}
