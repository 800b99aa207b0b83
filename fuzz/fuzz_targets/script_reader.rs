//! Any bytes as a revision file: reading the header variables and lowering the AST must return
//! a value or an error, never panic (a revision directory is user input).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The same lossy decoding `read_revision` applies to file bytes.
    let src = String::from_utf8_lossy(data);
    let _ = alembic_engine::script::parse_revision(Path::new("fuzz.py"), &src, String::new());
    let _ = alembic_engine::script::pyast::parse_module(&src);
});
