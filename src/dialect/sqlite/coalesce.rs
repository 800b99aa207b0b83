//! Consecutive rebuilds of one table made one copy (live runs; offline scripts stay as Alembic
//! writes them). SQLite alters most things by a batch rebuild: create the new shape as
//! `_alembic_tmp_t`, copy the rows, drop `t`, rename. MLflow's path rebuilds `metrics` in
//! 451aebb31d03 (add `step`, swap the key), 181f10493468 (add `is_nan`, swap the key again) and
//! 39d1c3be5f05 (add a CHECK on `is_nan`): three copies of the largest table where one does.
//!
//! A later rebuild folds into an earlier one of the same table when the rows it would copy are
//! the rows the earlier copy leaves, unchanged:
//!
//! - its copy takes every column of the earlier shape as it is (no column dropped, renamed or
//!   CAST) and the definitions of those columns are the same text;
//! - nothing between the two writes the table or changes its schema: statements in between
//!   either do not name it (nor the indexes either rebuild creates) or only read it (an
//!   `INSERT` into another table selecting from it, as MLflow's 89d4b8295536 fills
//!   `latest_metrics` between 181f10493468 and 39d1c3be5f05);
//! - after such a read, the later shape only adds CHECKs to the earlier one: the read then sees
//!   the very rows and columns it saw before; with no read in between, it may also add columns
//!   (filled by their defaults by either copy) and change keys, unique and CHECK constraints;
//!   foreign keys stay as they were (a new one could name a table created in between);
//! - no trigger names the table, and when its foreign keys have `ON DELETE`/`ON UPDATE`
//!   actions, nothing in between writes rows at all (a cascade could reach it).
//!
//! The earlier rebuild then creates the later shape and its indexes; its copy is the earlier
//! one (ordered by the final key afterwards, `copy_order`); the later rebuild's statements go.
//! A constraint the later shape adds is checked against the same rows, one copy earlier: a row
//! that fails it fails either way. The revisions from the first rebuild to the last run as one
//! checkpoint unit (one transaction on SQLite), as the plan fuses them.

use crate::dialect::sqltext::Family;
use crate::plan::{names_table, Joined, Kind, Merge, MergeKind, Statement};

/// One batch rebuild, statements `first..=last` of operation `op`, as the batch renderer
/// writes it: `CREATE TABLE <tmp> (…)`, the copy (absent when nothing is copied),
/// `DROP TABLE <t>`, `ALTER TABLE <tmp> RENAME TO <t>`, then the table's indexes again.
#[derive(Debug, Clone)]
struct Rebuild {
    op: usize,
    first: usize,
    last: usize,
    /// The table as the statements spell it (quoted where it must be).
    table: String,
    /// Column definitions and table-level constraints of the new shape, as written.
    columns: Vec<String>,
    constraints: Vec<String>,
    /// The copy's target columns with their sources; `None` without a copy.
    copied: Option<Vec<(String, String)>>,
    /// The index statements after the rename, and the indexes' names.
    indexes: Vec<Statement>,
    index_names: Vec<String>,
}

/// The items of a `CREATE TABLE name (\n\t…, \n\t…\n)` as `create_table_sql` writes them.
fn created(sql: &str) -> Option<(&str, Vec<&str>)> {
    let rest = sql.strip_prefix("CREATE TABLE ")?;
    let (name, body) = rest.split_once(" (\n\t")?;
    let body = body.strip_suffix("\n)")?;
    Some((name, split_top(body, ", \n\t")?))
}

/// Whether a `CREATE TABLE` item is a table-level constraint rather than a column.
fn is_constraint(item: &str) -> bool {
    [
        "CONSTRAINT ",
        "PRIMARY KEY",
        "FOREIGN KEY",
        "UNIQUE ",
        "UNIQUE(",
        "CHECK ",
    ]
    .iter()
    .any(|k| item.starts_with(k))
}

/// What kind of constraint an item is, past its `CONSTRAINT <name> `.
fn constraint_body(item: &str) -> &str {
    match item.strip_prefix("CONSTRAINT ") {
        Some(named) => {
            let name = column_name(named);
            named.get(name.len() + 1..).unwrap_or(named)
        }
        None => item,
    }
}

/// The name a column definition starts with.
fn column_name(definition: &str) -> &str {
    split_top(definition, " ")
        .and_then(|words| words.first().copied())
        .unwrap_or(definition)
}

/// `text` split at top-level `separator`s (none inside parentheses or quotes); `None` when
/// quotes or parentheses do not balance.
fn split_top<'a>(text: &'a str, separator: &str) -> Option<Vec<&'a str>> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`' | '[') => quote = Some(if c == '[' { ']' } else { c }),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, _) if depth == 0 && text[i..].starts_with(separator) => {
                out.push(&text[start..i]);
                start = i + separator.len();
                while chars.peek().is_some_and(|(k, _)| *k < start) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    (quote.is_none() && depth == 0).then(|| {
        out.push(&text[start..]);
        out
    })
}

/// The rebuild starting at statement `s` of operation `op`, if one does.
fn rebuild_at(statements: &[Statement], op: usize, s: usize) -> Option<Rebuild> {
    let (tmp, items) = created(&statements[s].sql)?;
    if !tmp.trim_matches('"').starts_with("_alembic_tmp_") {
        return None;
    }
    let mut k = s + 1;
    let copy = statements
        .get(k)
        .and_then(|st| st.sql.strip_prefix(&format!("INSERT INTO {tmp} (")));
    if copy.is_some() {
        k += 1;
    }
    let table = statements
        .get(k)?
        .sql
        .strip_prefix("DROP TABLE ")?
        .to_string();
    if statements.get(k + 1)?.sql != format!("ALTER TABLE {tmp} RENAME TO {table}") {
        return None;
    }
    let copied = match copy {
        Some(rest) => {
            let (columns, rest) = rest.split_once(") SELECT ")?;
            let sources = rest.strip_suffix(&format!(" \nFROM {table}"))?;
            let (columns, sources) = (split_top(columns, ", ")?, split_top(sources, ", ")?);
            if columns.len() != sources.len() {
                return None;
            }
            let pairs = columns.iter().zip(&sources);
            Some(pairs.map(|(c, s)| (c.to_string(), s.to_string())).collect())
        }
        None => None,
    };
    let mut last = k + 1;
    let mut indexes = Vec::new();
    let mut index_names = Vec::new();
    let on = format!(" ON {table} ");
    while let Some(st) = statements.get(last + 1) {
        let Some(rest) = st
            .sql
            .strip_prefix("CREATE INDEX ")
            .or_else(|| st.sql.strip_prefix("CREATE UNIQUE INDEX "))
            .filter(|_| st.sql.contains(&on))
        else {
            break;
        };
        index_names.push(rest.split(' ').next().unwrap_or_default().to_string());
        indexes.push(st.clone());
        last += 1;
    }
    let (constraints, columns): (Vec<&str>, Vec<&str>) =
        items.into_iter().partition(|i| is_constraint(i));
    Some(Rebuild {
        op,
        first: s,
        last,
        table,
        columns: columns.into_iter().map(str::to_string).collect(),
        constraints: constraints.into_iter().map(str::to_string).collect(),
        copied,
        indexes,
        index_names,
    })
}

/// Every rebuild in `ops`, in order.
fn rebuilds(ops: &[Vec<Statement>]) -> Vec<Rebuild> {
    let mut out = Vec::new();
    for (o, statements) in ops.iter().enumerate() {
        let mut s = 0;
        while s < statements.len() {
            match rebuild_at(statements, o, s) {
                Some(r) => {
                    s = r.last + 1;
                    out.push(r);
                }
                None => s += 1,
            }
        }
    }
    out
}

fn foreign_keys(r: &Rebuild) -> Vec<&String> {
    let mut fks: Vec<&String> = r
        .constraints
        .iter()
        .filter(|c| constraint_body(c).starts_with("FOREIGN KEY"))
        .collect();
    fks.sort();
    fks
}

/// The merge being built: the first rebuild, in the shape of the last one joined so far.
struct Open<'a> {
    shape: Rebuild,
    /// The first rebuild's CREATE (then the last joined one's).
    create: &'a Statement,
    /// Statements since the first rebuild that name neither the table nor a rebuild.
    between: Vec<&'a Statement>,
    read: bool,
    joined: Vec<&'a Rebuild>,
}

impl Open<'_> {
    /// Whether `later` can fold into this merge, as the module describes.
    fn takes(&self, later: &Rebuild) -> bool {
        let shape = &self.shape;
        let Some(copied) = &later.copied else {
            return false;
        };
        let identity = copied
            .iter()
            .all(|(column, source)| *source == format!("{}.{column}", later.table));
        let definition =
            |r: &Rebuild, name: &str| r.columns.iter().find(|c| column_name(c) == name).cloned();
        let kept = shape.columns.iter().all(|c| {
            let name = column_name(c);
            copied.iter().any(|(k, _)| k == name) && definition(later, name).as_ref() == Some(c)
        });
        let added = later.columns.len() != shape.columns.len();
        let constraints_kept = if self.read {
            shape
                .constraints
                .iter()
                .all(|c| later.constraints.contains(c))
                && later
                    .constraints
                    .iter()
                    .filter(|c| !shape.constraints.contains(c))
                    .all(|c| constraint_body(c).starts_with("CHECK "))
        } else {
            foreign_keys(shape) == foreign_keys(later)
        };
        let cascades = shape
            .constraints
            .iter()
            .chain(&later.constraints)
            .any(|c| c.contains(" ON DELETE ") || c.contains(" ON UPDATE "));
        let names = shape.index_names.iter().chain(&later.index_names);
        let quiet = self.between.iter().all(|st| {
            let touches = names.clone().any(|n| names_table(&st.sql, n));
            let reaches = cascades && st.kind == Kind::Dml;
            !(touches || reaches)
        });
        identity && kept && !(added && self.read) && constraints_kept && quiet
    }

    /// Take `later`'s shape and indexes.
    fn join(&mut self, later: &Rebuild) {
        self.shape.columns = later.columns.clone();
        self.shape.constraints = later.constraints.clone();
        self.shape.indexes = later.indexes.clone();
        self.shape.index_names = later.index_names.clone();
    }
}

/// Fold consecutive rebuilds of one table into the first (`ops`: each operation's statements,
/// in order, over several revisions; `triggers`: the SQL of the schema's triggers). Returns
/// each merge with the operations it drew from.
pub(super) fn coalesce(ops: &mut [Vec<Statement>], triggers: &[&str]) -> Vec<Joined> {
    let found = rebuilds(ops);
    let mut taken = vec![false; found.len()];
    // (operation, statements replaced, what replaces them), applied last to first.
    let mut edits: Vec<(usize, std::ops::Range<usize>, Vec<Statement>)> = Vec::new();
    let mut out = Vec::new();
    for (i, first) in found.iter().enumerate() {
        if taken[i] || triggers.iter().any(|t| names_table(t, &first.table)) {
            continue;
        }
        let mut open = Open {
            shape: first.clone(),
            create: &ops[first.op][first.first],
            between: Vec::new(),
            read: false,
            joined: Vec::new(),
        };
        let mut next = found.iter().enumerate().skip(i + 1).peekable();
        'walk: for (o, statements) in ops.iter().enumerate().skip(first.op) {
            let mut s = if o == first.op { first.last + 1 } else { 0 };
            while s < statements.len() {
                while next.peek().is_some_and(|(_, r)| (r.op, r.first) < (o, s)) {
                    next.next();
                }
                if let Some(&(j, later)) = next.peek().filter(|(_, r)| (r.op, r.first) == (o, s)) {
                    if later.table == first.table {
                        if taken[j] || !open.takes(later) {
                            break 'walk;
                        }
                        taken[j] = true;
                        open.create = &statements[s];
                        open.join(later);
                        open.joined.push(later);
                        s = later.last + 1;
                        continue;
                    }
                }
                let st = &statements[s];
                if names_table(&st.sql, &first.table) {
                    if !st.only_reads(&first.table, Family::Sqlite) {
                        break 'walk;
                    }
                    open.read = true;
                } else {
                    open.between.push(st);
                }
                s += 1;
            }
        }
        let Some(last) = open.joined.last() else {
            continue;
        };
        let index_start = first.last + 1 - first.indexes.len();
        edits.push((
            first.op,
            first.first..first.first + 1,
            vec![open.create.clone()],
        ));
        edits.push((
            first.op,
            index_start..first.last + 1,
            open.shape.indexes.clone(),
        ));
        for r in &open.joined {
            edits.push((r.op, r.first..r.last + 1, Vec::new()));
        }
        out.push(Joined {
            merge: Merge {
                table: first.table.trim_matches('"').to_string(),
                statements: 1 + open.joined.len(),
                kind: MergeKind::Rebuild,
            },
            ops: first.op..=last.op,
        });
    }
    edits.sort_by_key(|(o, range, _)| std::cmp::Reverse((*o, range.start)));
    for (o, range, with) in edits {
        ops[o].splice(range, with);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Database;

    use crate::plan::testing::{sql, untouched};

    /// A rebuild of `t` into `items`, copying `copied` (identity unless a source is given).
    fn rebuild(items: &[&str], copied: &str, indexes: &[&str]) -> Vec<String> {
        let mut out = vec![format!(
            "CREATE TABLE _alembic_tmp_t (\n\t{}\n)",
            items.join(", \n\t")
        )];
        let columns: Vec<&str> = copied
            .split(", ")
            .map(|c| c.split('=').next().unwrap())
            .collect();
        let sources: Vec<String> = copied
            .split(", ")
            .map(|c| match c.split_once('=') {
                Some((_, source)) => source.to_string(),
                None => format!("t.{c}"),
            })
            .collect();
        out.push(format!(
            "INSERT INTO _alembic_tmp_t ({}) SELECT {} \nFROM t",
            columns.join(", "),
            sources.join(", ")
        ));
        out.push("DROP TABLE t".into());
        out.push("ALTER TABLE _alembic_tmp_t RENAME TO t".into());
        out.extend(indexes.iter().map(|i| i.to_string()));
        out
    }

    fn owned(ops: &[Vec<String>]) -> Vec<Vec<Statement>> {
        crate::plan::testing::ops(Database::Sqlite, ops)
    }

    const A: &str = "a INTEGER NOT NULL";
    const B: &str = "b INTEGER DEFAULT '0' NOT NULL";
    const KEY_A: &str = "CONSTRAINT t_pk PRIMARY KEY (a)";
    const KEY_AB: &str = "CONSTRAINT t_pk PRIMARY KEY (a, b)";
    const CHECK_B: &str = "CHECK (b IN (0, 1))";
    const FK: &str = "FOREIGN KEY(a) REFERENCES u (a)";

    #[test]
    fn a_later_rebuild_folds_into_the_first_which_takes_its_shape_and_indexes() {
        let first = rebuild(&[A, KEY_A, FK], "a", &["CREATE INDEX ix_a ON t (a)"]);
        let second = rebuild(
            &[A, B, KEY_AB, FK, CHECK_B],
            "a",
            &["CREATE INDEX ix_a ON t (a)", "CREATE INDEX ix_b ON t (b)"],
        );
        let mut ops = owned(&[
            first.clone(),
            vec!["INSERT INTO u (a) VALUES (1)".into()],
            second.clone(),
        ]);
        let joined = coalesce(&mut ops, &[]);
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].ops, 0..=2);
        assert_eq!(joined[0].merge.statements, 2);
        assert_eq!(joined[0].merge.kind, MergeKind::Rebuild);
        let mut expected: Vec<&str> = vec![&second[0], &first[1], &first[2], &first[3]];
        expected.extend(second[4..].iter().map(String::as_str));
        assert_eq!(
            sql(&ops),
            vec![expected, vec!["INSERT INTO u (a) VALUES (1)"], vec![]]
        );
    }

    #[test]
    fn after_a_read_only_checks_join_and_a_chain_folds_into_its_first() {
        let first = rebuild(&[A, KEY_A], "a", &[]);
        let second = rebuild(&[A, B, KEY_A], "a", &[]);
        let third = rebuild(&[A, B, KEY_A, CHECK_B], "a, b", &[]);
        let read = "INSERT INTO latest (a) SELECT t.a FROM t";
        let mut chain = owned(&[
            first.clone(),
            second.clone(),
            vec![read.into()],
            third.clone(),
        ]);
        let joined = coalesce(&mut chain, &[]);
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].merge.statements, 3);
        assert_eq!(sql(&chain)[0][0], third[0]);
        assert_eq!(sql(&chain)[2], vec![read]);
        // After the read, a new column or a changed key does not join.
        for later in [
            rebuild(&[A, B, KEY_A], "a", &[]),
            rebuild(&[A, KEY_AB], "a", &[]),
        ] {
            let mut ops = owned(&[first.clone(), vec![read.into()], later]);
            assert!(coalesce(&mut ops, &[]).is_empty());
            assert_eq!(ops[2].len(), 4);
        }
    }

    #[test]
    fn writes_changed_columns_casts_foreign_keys_and_triggers_keep_rebuilds_apart() {
        let first = rebuild(&[A, B, KEY_A], "a, b", &["CREATE INDEX ix_a ON t (a)"]);
        let same = rebuild(&[A, B, KEY_A, CHECK_B], "a, b", &[]);
        let apart = |ops: &mut Vec<Vec<Statement>>, triggers: &[&str], what: &str| {
            untouched(ops, |ops| coalesce(ops, triggers), what)
        };
        for between in [
            "INSERT INTO t (a) SELECT a FROM u",
            "UPDATE u SET a = (SELECT MAX(a) FROM t)",
            "CREATE INDEX ix_c ON t (b)",
            "DROP INDEX ix_a",
        ] {
            let mut ops = owned(&[first.clone(), vec![between.into()], same.clone()]);
            apart(&mut ops, &[], between);
        }
        for (later, what) in [
            (rebuild(&[A, KEY_A], "a", &[]), "a column dropped"),
            (
                rebuild(&["a BIGINT NOT NULL", B, KEY_A], "a, b", &[]),
                "a column retyped",
            ),
            (
                rebuild(&[A, B, KEY_A], "a=CAST(t.a AS INTEGER), b", &[]),
                "a cast",
            ),
            (
                rebuild(&[A, B, KEY_A, FK], "a, b", &[]),
                "a foreign key added",
            ),
        ] {
            let mut ops = owned(&[first.clone(), later]);
            apart(&mut ops, &[], what);
        }
        let mut ops = owned(&[first.clone(), same.clone()]);
        apart(
            &mut ops,
            &["CREATE TRIGGER tr AFTER INSERT ON u BEGIN INSERT INTO t VALUES (1, 0); END"],
            "a trigger",
        );
        // A cascade could reach the table through a write of another.
        let cascading = "FOREIGN KEY(a) REFERENCES u (a) ON DELETE CASCADE";
        let mut ops = owned(&[
            rebuild(&[A, B, KEY_A, cascading], "a, b", &[]),
            vec!["DELETE FROM u".into()],
            rebuild(&[A, B, KEY_A, cascading, CHECK_B], "a, b", &[]),
        ]);
        apart(&mut ops, &[], "a cascade");
    }

    #[test]
    fn items_split_at_the_top_level_only() {
        assert_eq!(
            split_top("a, CAST(b AS NUMERIC(10, 2)), 'x, y'", ", "),
            Some(vec!["a", "CAST(b AS NUMERIC(10, 2))", "'x, y'"])
        );
        assert_eq!(split_top("a, (b", ", "), None);
        assert_eq!(
            constraint_body("CONSTRAINT \"my pk\" PRIMARY KEY (a)"),
            "PRIMARY KEY (a)"
        );
        assert_eq!(column_name("\"key\" VARCHAR(250) NOT NULL"), "\"key\"");
    }
}
