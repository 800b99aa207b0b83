//! Comparing two normalized reflections (`reference_db::reflect`): one readable line per
//! difference, naming the table, the column or constraint, and the field, so a failing
//! conformance test says what differs at which revision instead of dumping two documents.
//!
//! Entries of the reflection's lists (columns, constraints, indexes, triggers...) are matched
//! by name, or, for what a database left unnamed, by their columns or text; only columns
//! have an order that counts.

#![allow(dead_code)] // each test crate uses its own subset of these helpers

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Panic, one line per difference, unless the two reflections are equal.
pub fn assert_same_schema(expected: &Value, actual: &Value, context: &str) {
    let differences = schema_differences(expected, actual);
    if !differences.is_empty() {
        panic!(
            "schema differs from the reference ({context}), {} difference(s):\n  {}",
            differences.len(),
            differences.join("\n  ")
        );
    }
}

/// The differences between two reflections, one readable line each, e.g.
/// `table runs, column status, nullable: expected true, got false`.
pub fn schema_differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_value("", None, expected, actual, &mut out);
    out
}

fn diff_value(
    path: &str,
    key: Option<&str>,
    expected: &Value,
    actual: &Value,
    out: &mut Vec<String>,
) {
    if expected == actual {
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) if key == Some("tables") => {
            for name in union(e.keys(), a.keys()) {
                let here = join(path, &format!("table {name}"));
                match (e.get(name), a.get(name)) {
                    (Some(_), None) => out.push(format!("{here}: missing")),
                    (None, Some(_)) => out.push(format!("{here}: unexpected")),
                    (Some(e), Some(a)) => diff_value(&here, None, e, a, out),
                    (None, None) => {}
                }
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            for k in union(e.keys(), a.keys()) {
                // A collection's entries name themselves ("table runs", "column status").
                let here = if ENTRY_KINDS.iter().any(|(key, _)| key == k) || k == "tables" {
                    path.to_string()
                } else {
                    join(path, k)
                };
                match (e.get(k), a.get(k)) {
                    (Some(e), None) => {
                        out.push(format!("{here}: expected {}, got nothing", brief(e)))
                    }
                    (None, Some(a)) => {
                        out.push(format!("{here}: expected nothing, got {}", brief(a)))
                    }
                    (Some(e), Some(a)) => diff_value(&here, Some(k), e, a, out),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(e), Value::Array(a))
            if ENTRY_KINDS.iter().any(|(k, _)| Some(*k) == key)
                && is_entry_list(e)
                && is_entry_list(a) =>
        {
            diff_entries(path, key.unwrap_or(""), e, a, out)
        }
        _ => out.push(format!(
            "{path}: expected {}, got {}",
            brief(expected),
            brief(actual)
        )),
    }
}

/// Lists of named things (columns, constraints, indexes, triggers...) are matched entry by
/// entry, so one changed entry is one line, not the whole list.
fn diff_entries(
    path: &str,
    key: &str,
    expected: &[Value],
    actual: &[Value],
    out: &mut Vec<String>,
) {
    let kind = ENTRY_KINDS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, kind)| kind);
    let e_ids = identities(expected);
    let a_ids = identities(actual);
    let by_id = |ids: &[String], items: &[Value]| -> BTreeMap<String, Value> {
        ids.iter().cloned().zip(items.iter().cloned()).collect()
    };
    let (e_map, a_map) = (by_id(&e_ids, expected), by_id(&a_ids, actual));
    for id in &e_ids {
        let here = join(path, &format!("{kind} {id}"));
        match a_map.get(id) {
            None => out.push(format!("{here}: missing (expected {})", brief(&e_map[id]))),
            Some(a) => diff_value(&here, None, &e_map[id], a, out),
        }
    }
    for id in a_ids.iter().filter(|id| !e_map.contains_key(*id)) {
        out.push(format!(
            "{}: unexpected ({})",
            join(path, &format!("{kind} {id}")),
            brief(&a_map[id])
        ));
    }
    if key == "columns" {
        // Ordinal order matters for columns only; compare the order of those in both.
        let common_e: Vec<&String> = e_ids.iter().filter(|id| a_map.contains_key(*id)).collect();
        let common_a: Vec<&String> = a_ids.iter().filter(|id| e_map.contains_key(*id)).collect();
        if common_e != common_a {
            out.push(format!(
                "{}: expected [{}], got [{}]",
                join(path, "column order"),
                join_ids(&common_e),
                join_ids(&common_a)
            ));
        }
    }
}

/// The reflection's lists of named things, and what one entry is called in a diff line.
const ENTRY_KINDS: &[(&str, &str)] = &[
    ("columns", "column"),
    ("foreign_keys", "foreign key"),
    ("unique_constraints", "unique constraint"),
    ("check_constraints", "check constraint"),
    ("indexes", "index"),
    ("triggers", "trigger"),
    ("enums", "enum"),
    ("sequences", "sequence"),
    ("functions", "function"),
    ("views", "view"),
];

fn is_entry_list(items: &[Value]) -> bool {
    items.iter().all(Value::is_object)
}

/// What names an entry in a diff line: its name, else (for the constraints a database left
/// unnamed) its columns or its text; a repeated identity gets `#2`, `#3`...
fn identities(items: &[Value]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    items
        .iter()
        .map(|item| {
            let id = identity(item);
            let n = seen.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                id
            } else {
                format!("{id} #{n}")
            }
        })
        .collect()
}

fn identity(item: &Value) -> String {
    if let Some(name) = item.get("name").and_then(Value::as_str) {
        return name.to_string();
    }
    let list = |key: &str| -> Option<String> {
        let items = item.get(key)?.as_array()?;
        Some(
            items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect::<Vec<_>>()
                .join(", "),
        )
    };
    if let (Some(cols), Some(table)) = (
        list("columns"),
        item.get("referred_table").and_then(Value::as_str),
    ) {
        return format!(
            "(unnamed) ({cols}) -> {table}({})",
            list("referred_columns").unwrap_or_default()
        );
    }
    if let Some(cols) = list("columns") {
        return format!("(unnamed) ({cols})");
    }
    if let Some(sql) = item.get("sqltext").and_then(Value::as_str) {
        return format!("(unnamed) CHECK ({sql})");
    }
    format!("(unnamed) {item}")
}

fn union<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String>,
) -> BTreeSet<&'a String> {
    a.chain(b).collect()
}

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_string()
    } else {
        format!("{path}, {part}")
    }
}

fn join_ids(ids: &[&String]) -> String {
    ids.iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compact JSON, cut short: a diff line stays one line.
fn brief(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 240 {
        return text;
    }
    let cut: String = text.chars().take(240).collect();
    format!("{cut}…")
}
