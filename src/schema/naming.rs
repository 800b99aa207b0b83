//! SQLAlchemy's naming-convention templates (`"fk": "fk_%(table_name)s_%(column_0_name)s"`):
//! the name a template gives a constraint or an index. One implementation for the conventions
//! a batch is given (SQLite, naming reflected constraints) and the one a project's
//! `target_metadata` sets (every operation, `compile::naming`).

use crate::ir::{Constraint, ConstraintKind, Index, IndexPart};

/// The convention key of a constraint kind.
pub fn key(kind: ConstraintKind) -> &'static str {
    match kind {
        ConstraintKind::PrimaryKey => "pk",
        ConstraintKind::ForeignKey => "fk",
        ConstraintKind::Unique => "uq",
        ConstraintKind::Check => "ck",
    }
}

/// The template `key` has in `convention`.
pub fn template<'a>(convention: &'a [(String, String)], key: &str) -> Option<&'a str> {
    convention
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The name `template` gives constraint `c` of `table` (its current name, if any, fills
/// `%(constraint_name)s`); `None` when a token has no value for it.
pub fn constraint_name(template: &str, table: &str, c: &Constraint) -> Option<String> {
    let (referred_table, referred_columns) = match c {
        Constraint::ForeignKey(fk) => (Some(fk.ref_table.as_str()), fk.ref_columns.clone()),
        _ => (None, Vec::new()),
    };
    let tokens = Tokens {
        table,
        name: c.name(),
        columns: c.columns().to_vec(),
        referred_table,
        referred_columns,
    };
    fill(template, &tokens)
}

/// A name SQLAlchemy holds as final (its `conv`: given through `op.f()`, or made by a naming
/// convention) cut to fit `max` characters as its DDL compiler cuts one: the first `max - 8`
/// characters, `_`, and the last four hex digits of the name's MD5. Other names are never cut
/// (a script's own too-long name is refused where it is rendered).
pub fn fit_final(name: &str, max: Option<usize>) -> String {
    use md5::Digest;
    match max {
        Some(max) if name.chars().count() > max => {
            let digest = md5::Md5::digest(name.as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            let head: String = name.chars().take(max - 8).collect();
            format!("{head}_{}", &hex[hex.len() - 4..])
        }
        _ => name.to_string(),
    }
}

/// The name `template` gives `index` (its column parts fill the column tokens).
pub fn index_name(template: &str, index: &Index) -> Option<String> {
    let columns = index
        .parts
        .iter()
        .filter_map(|p| match p {
            IndexPart::Column(c) => Some(c.clone()),
            IndexPart::Expression(_) => None,
        })
        .collect();
    let tokens = Tokens {
        table: &index.table,
        name: None,
        columns,
        referred_table: None,
        referred_columns: Vec::new(),
    };
    fill(template, &tokens)
}

/// What a template's tokens are filled from.
struct Tokens<'a> {
    table: &'a str,
    name: Option<&'a str>,
    columns: Vec<String>,
    referred_table: Option<&'a str>,
    referred_columns: Vec<String>,
}

/// The template with its `%(token)s`s filled, or `None` when a token has no value here (a
/// constraint without a name for `%(constraint_name)s`, a column past the last): the
/// constraint then keeps the name it has.
fn fill(template: &str, t: &Tokens<'_>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find(")s")?;
        out.push_str(&token(&after[..end], t)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

fn token(key: &str, t: &Tokens<'_>) -> Option<String> {
    match key {
        "table_name" => return Some(t.table.to_string()),
        "constraint_name" => return t.name.map(str::to_string),
        "referred_table_name" => return t.referred_table.map(str::to_string),
        _ => {}
    }
    let (columns, rest, label_table) = match key.strip_prefix("referred_column_") {
        Some(r) => (&t.referred_columns, r, t.referred_table.unwrap_or_default()),
        None => (&t.columns, key.strip_prefix("column_")?, t.table),
    };
    // `0_N_x` joins every column's x with `_`, `0N_x` without a separator, `k_x` is column k.
    let (which, kind, separator) = if let Some(kind) = rest.strip_prefix("0_N_") {
        (None, kind, "_")
    } else if let Some(kind) = rest.strip_prefix("0N_") {
        (None, kind, "")
    } else {
        let (n, kind) = rest.split_once('_')?;
        (Some(n.parse::<usize>().ok()?), kind, "")
    };
    let render = |c: &String| match kind {
        "name" | "key" => Some(c.clone()),
        "label" => Some(format!("{label_table}_{c}")),
        _ => None,
    };
    match which {
        Some(n) => columns.get(n).and_then(render),
        None if columns.is_empty() => None,
        None => columns
            .iter()
            .map(render)
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(separator)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens<'static> {
        Tokens {
            table: "task_map",
            name: Some("length_not_negative"),
            columns: vec!["dag_id".into(), "run_id".into()],
            referred_table: Some("dag_run"),
            referred_columns: vec!["dag_id".into(), "id".into()],
        }
    }

    #[test]
    fn templates_fill_as_sqlalchemy_names_them() {
        let t = tokens();
        let cases = [
            ("%(table_name)s_pkey", "task_map_pkey"),
            (
                "ck_%(table_name)s_%(constraint_name)s",
                "ck_task_map_length_not_negative",
            ),
            (
                "idx_%(column_0_N_label)s",
                "idx_task_map_dag_id_task_map_run_id",
            ),
            (
                "%(table_name)s_%(column_0_N_name)s_uq",
                "task_map_dag_id_run_id_uq",
            ),
            (
                "%(table_name)s_%(column_0_name)s_fkey",
                "task_map_dag_id_fkey",
            ),
            ("uq_%(column_0N_name)s", "uq_dag_idrun_id"),
            (
                "fk_%(referred_table_name)s_%(referred_column_1_name)s",
                "fk_dag_run_id",
            ),
            ("ix_%(column_0_label)s", "ix_task_map_dag_id"),
        ];
        for (template, expected) in cases {
            assert_eq!(fill(template, &t).as_deref(), Some(expected), "{template}");
        }
        let unnamed = Tokens {
            name: None,
            ..tokens()
        };
        assert_eq!(fill("ck_%(constraint_name)s", &unnamed), None);
        assert_eq!(fill("x_%(column_5_name)s", &t), None);
    }

    #[test]
    fn final_names_are_cut_as_sqlalchemy_cuts_them() {
        // SQLAlchemy 2.1.9's PostgreSQL DDL for `op.f(...)` of this 66-character name.
        let long = "fk_block_schema_reference__reference_block_schema_id__block_schema";
        assert_eq!(
            fit_final(long, Some(63)),
            "fk_block_schema_reference__reference_block_schema_id__b_6e5d"
        );
        assert_eq!(fit_final(long, Some(66)), long);
        assert_eq!(fit_final(long, None), long);
    }
}
