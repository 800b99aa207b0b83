//! Placeholder: the compile bench is being written.
fn main() {}
