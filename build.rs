//! Embeds every `policies/*.cedar` file in the binary, so that adding a policy file is all a
//! policy author does: no list of files to keep in step.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=policies");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest).join("policies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// Every bundled policy file: (display name, text).\n");
    out.push_str("pub const BUNDLED_POLICY_FILES: &[(&str, &str)] = &[\n");
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!(
            "    (\"policies/{name}\", include_str!({:?})),\n",
            path.display().to_string()
        ));
    }
    out.push_str("];\n");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    if let Err(e) = std::fs::write(Path::new(&out_dir).join("bundled_policies.rs"), out) {
        println!("cargo:warning=cannot write the bundled policy list: {e}");
        std::process::exit(1);
    }
}
