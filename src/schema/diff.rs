//! A readable difference between two schema models: one line per table, column, constraint or
//! index that is missing, extra, or different.

use std::fmt;

use super::SchemaModel;
use crate::ir::Table;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SchemaDiff {
    pub lines: Vec<String>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Differences from `expected` to `actual`.
    pub fn between(expected: &SchemaModel, actual: &SchemaModel) -> SchemaDiff {
        let mut lines = Vec::new();
        for t in &expected.tables {
            match actual.table(&t.name) {
                None => lines.push(format!("- table {}", t.name)),
                Some(a) => diff_table(t, a, &mut lines),
            }
        }
        for t in &actual.tables {
            if expected.table(&t.name).is_none() {
                lines.push(format!("+ table {}", t.name));
            }
        }
        for tr in &expected.triggers {
            if !actual.triggers.iter().any(|a| a.name == tr.name) {
                lines.push(format!("- trigger {} on {}", tr.name, tr.table));
            }
        }
        for tr in &actual.triggers {
            if !expected.triggers.iter().any(|e| e.name == tr.name) {
                lines.push(format!("+ trigger {} on {}", tr.name, tr.table));
            }
        }
        SchemaDiff { lines }
    }
}

fn diff_table(e: &Table, a: &Table, lines: &mut Vec<String>) {
    let name = &e.name;
    for c in &e.columns {
        match a.column(&c.name) {
            None => lines.push(format!("- column {name}.{}", c.name)),
            Some(ac) if ac != c => lines.push(format!(
                "~ column {name}.{}: expected {}, found {}",
                c.name,
                serde_json::to_string(c).unwrap_or_default(),
                serde_json::to_string(ac).unwrap_or_default()
            )),
            Some(_) => {}
        }
    }
    for c in &a.columns {
        if e.column(&c.name).is_none() {
            lines.push(format!("+ column {name}.{}", c.name));
        }
    }
    for c in &e.constraints {
        if !a.constraints.contains(c) {
            lines.push(format!(
                "- constraint on {name}: {}",
                serde_json::to_string(c).unwrap_or_default()
            ));
        }
    }
    for c in &a.constraints {
        if !e.constraints.contains(c) {
            lines.push(format!(
                "+ constraint on {name}: {}",
                serde_json::to_string(c).unwrap_or_default()
            ));
        }
    }
    for i in &e.indexes {
        if !a.indexes.contains(i) {
            lines.push(format!(
                "- index {}: {}",
                i.name,
                serde_json::to_string(i).unwrap_or_default()
            ));
        }
    }
    for i in &a.indexes {
        if !e.indexes.contains(i) {
            lines.push(format!(
                "+ index {}: {}",
                i.name,
                serde_json::to_string(i).unwrap_or_default()
            ));
        }
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
