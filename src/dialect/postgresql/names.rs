//! The names PostgreSQL gives what a statement leaves unnamed, so that the schema model (and
//! through it the inspector and later `drop_constraint` calls) knows them as the server does.
//!
//! PostgreSQL builds a name as `<table>[_<columns>]_<label>` (labels `pkey`, `key`, `fkey`,
//! `check`, `seq`), cutting the longer of the two name parts until it fits in 63 bytes, and
//! appends a number to the label (`fkey1`, `fkey2`...) while the name is taken: by any
//! constraint of the schema, and, for names that also name an index or a sequence, by any
//! relation. What this module cannot see: objects the model does not hold (views, types), and
//! an identity column's sequence after a rename of its table or column.

use std::collections::BTreeSet;

use super::quote;
use crate::ir::{Constraint, ConstraintKind, ServerDefault, Table};
use crate::schema::SchemaModel;

/// PostgreSQL's `NAMEDATALEN`: names are at most 63 bytes.
const NAMEDATALEN: usize = 64;

/// `name1[_name2]_label`, the longer of `name1` and `name2` shortened first until the whole
/// fits in 63 bytes, never splitting a character (PostgreSQL's `makeObjectName`).
pub(crate) fn object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    let overhead = label.len() + 1 + usize::from(name2.is_some());
    let available = (NAMEDATALEN - 1).saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let mut out = clip(name1, n1).to_string();
    if let Some(n) = name2 {
        out.push('_');
        out.push_str(clip(n, n2));
    }
    out.push('_');
    out.push_str(label);
    out
}

/// The longest prefix of `s` of at most `len` bytes that ends on a character boundary.
fn clip(s: &str, len: usize) -> &str {
    let mut end = len.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The column part of a generated name: the columns joined by `_`, cut once it reaches 64
/// bytes (PostgreSQL's `ChooseIndexNameAddition`; the final cut is `object_name`'s).
fn columns_part(columns: &[String]) -> String {
    let mut out = String::new();
    for c in columns {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(clip(c, NAMEDATALEN - 1));
        if out.len() >= NAMEDATALEN {
            break;
        }
    }
    out
}

/// The names taken in the schema: relations (tables, indexes, sequences, and the indexes of
/// primary keys and unique constraints) and constraints.
#[derive(Debug, Default)]
pub(crate) struct Namespace {
    relations: BTreeSet<String>,
    constraints: BTreeSet<String>,
}

/// Whether a default draws from a sequence (`nextval('<seq>'::regclass)`).
pub(crate) fn is_nextval(default: &ServerDefault) -> bool {
    sequence_of(default).is_some()
}

/// The sequence a `nextval('<seq>'::regclass)` default draws from.
fn sequence_of(default: &ServerDefault) -> Option<String> {
    let ServerDefault::Sql(text) = default else {
        return None;
    };
    let inner = text
        .strip_prefix("nextval('")?
        .strip_suffix("'::regclass)")?;
    Some(
        match inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            Some(quoted) => quoted.replace("\"\"", "\""),
            None => inner.to_string(),
        },
    )
}

impl Namespace {
    pub(crate) fn of(model: &SchemaModel) -> Namespace {
        let mut ns = Namespace::default();
        for t in &model.tables {
            ns.relations.insert(t.name.clone());
            ns.relations
                .extend(t.indexes.iter().map(|i| i.name.clone()));
            for c in &t.columns {
                if let Some(seq) = c.server_default.as_ref().and_then(sequence_of) {
                    ns.relations.insert(seq);
                } else if c.identity.is_some() {
                    ns.relations
                        .insert(object_name(&t.name, Some(&c.name), "seq"));
                }
            }
            for c in &t.constraints {
                if let Some(name) = c.name() {
                    ns.constraints.insert(name.to_string());
                    if matches!(
                        c.kind(),
                        ConstraintKind::PrimaryKey | ConstraintKind::Unique
                    ) {
                        ns.relations.insert(name.to_string());
                    }
                }
            }
        }
        ns
    }

    /// A free name for a constraint that has no index (`ChooseConstraintName`).
    fn constraint(&mut self, name1: &str, name2: Option<&str>, label: &str) -> String {
        let name = self.first_free(name1, name2, label, |ns, n| ns.constraints.contains(n));
        self.constraints.insert(name.clone());
        name
    }

    /// A free name for a relation (`ChooseRelationName`); one that also names a constraint
    /// must be free among constraints too.
    fn relation(
        &mut self,
        name1: &str,
        name2: Option<&str>,
        label: &str,
        is_constraint: bool,
    ) -> String {
        let name = self.first_free(name1, name2, label, |ns, n| {
            ns.relations.contains(n) || (is_constraint && ns.constraints.contains(n))
        });
        self.relations.insert(name.clone());
        if is_constraint {
            self.constraints.insert(name.clone());
        }
        name
    }

    fn first_free(
        &self,
        name1: &str,
        name2: Option<&str>,
        label: &str,
        taken: impl Fn(&Namespace, &str) -> bool,
    ) -> String {
        let mut pass = 0;
        loop {
            let label = if pass == 0 {
                label.to_string()
            } else {
                format!("{label}{pass}")
            };
            let name = object_name(name1, name2, &label);
            if !taken(self, &name) {
                return name;
            }
            pass += 1;
        }
    }

    /// The sequence a SERIAL column of `table` gets.
    pub(crate) fn sequence(&mut self, table: &str, column: &str) -> String {
        self.relation(table, Some(column), "seq", false)
    }

    /// The name PostgreSQL gives an unnamed constraint of `table`.
    fn name_for(&mut self, table: &Table, c: &Constraint) -> String {
        let t = &table.name;
        match c {
            Constraint::PrimaryKey { .. } => self.relation(t, None, "pkey", true),
            Constraint::Unique { columns, .. } => {
                self.relation(t, Some(&columns_part(columns)), "key", true)
            }
            Constraint::ForeignKey(fk) => {
                self.constraint(t, Some(&columns_part(&fk.columns)), "fkey")
            }
            Constraint::Check { sqltext, .. } => {
                let column = check_column(sqltext, table);
                self.constraint(t, column.as_deref(), "check")
            }
        }
    }
}

/// The `nextval` default PostgreSQL reports for a SERIAL column drawing from `sequence`.
pub(crate) fn nextval_default(sequence: &str) -> ServerDefault {
    ServerDefault::Sql(format!(
        "nextval('{}'::regclass)",
        quote(sequence).replace('\'', "''")
    ))
}

/// Name the unnamed constraints of `table` as PostgreSQL does for one statement: checks
/// first (they are made with the table), then the primary key, unique constraints (each
/// with its index), then foreign keys.
pub(crate) fn name_constraints(model: &mut SchemaModel, table: &str) {
    let mut ns = Namespace::of(model);
    let Some(t) = model.tables.iter_mut().find(|t| t.name == table) else {
        return;
    };
    let order = [
        ConstraintKind::Check,
        ConstraintKind::PrimaryKey,
        ConstraintKind::Unique,
        ConstraintKind::ForeignKey,
    ];
    for kind in order {
        for i in 0..t.constraints.len() {
            if t.constraints[i].kind() == kind && t.constraints[i].name().is_none() {
                let name = ns.name_for(t, &t.constraints[i]);
                t.constraints[i].set_name(Some(name));
            }
        }
    }
}

/// In one CREATE TABLE, PostgreSQL makes one index for key constraints on the same columns:
/// a unique constraint that repeats the primary key or an earlier unique constraint is not
/// created, and lends its name to an unnamed earlier one.
pub(crate) fn merge_duplicate_keys(table: &mut Table) {
    let cs = &mut table.constraints;
    let is_key = |c: &Constraint| c.kind() == ConstraintKind::Unique;
    // PostgreSQL compares each unique constraint with the primary key first, then with the
    // unique constraints before it.
    let pk = cs
        .iter()
        .position(|c| c.kind() == ConstraintKind::PrimaryKey);
    let mut dropped = vec![false; cs.len()];
    for i in 0..cs.len() {
        if !is_key(&cs[i]) {
            continue;
        }
        let earlier = (0..i).filter(|&j| is_key(&cs[j]) && !dropped[j]);
        let prior = pk
            .into_iter()
            .chain(earlier)
            .find(|&j| cs[j].columns() == cs[i].columns());
        if let Some(j) = prior {
            if cs[j].name().is_none() {
                let name = cs[i].name().map(str::to_string);
                cs[j].set_name(name);
            }
            dropped[i] = true;
        }
    }
    let mut i = 0;
    cs.retain(|_| {
        i += 1;
        !dropped[i - 1]
    });
}

/// The one column a CHECK expression refers to, if it refers to exactly one: PostgreSQL names
/// such a check `<table>_<column>_check`, any other `<table>_check`. Identifiers are read
/// outside string literals; function names (before `(`) and type names (after `::`) are not
/// column references.
pub(crate) fn check_column(sqltext: &str, table: &Table) -> Option<String> {
    let mut found: Vec<String> = Vec::new();
    for ident in column_refs(sqltext) {
        if table.column(&ident).is_some() && !found.contains(&ident) {
            found.push(ident);
        }
    }
    match found.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// Whether a CHECK expression refers to `column`.
pub(crate) fn check_refers_to(sqltext: &str, column: &str) -> bool {
    column_refs(sqltext).iter().any(|c| c == column)
}

/// Identifiers of an SQL expression that may name columns, folded as PostgreSQL folds them.
fn column_refs(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_cast = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            after_cast = false;
            continue;
        }
        let ident = if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' {
                    if chars.get(i + 1) == Some(&'"') {
                        s.push('"');
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            Some(s)
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            Some(chars[start..i].iter().collect::<String>().to_lowercase())
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            None
        } else {
            let cast = c == ':' && chars.get(i + 1) == Some(&':');
            if !c.is_whitespace() {
                after_cast = cast;
            }
            i += if cast { 2 } else { 1 };
            continue;
        };
        let mut next = i;
        while next < chars.len() && chars[next].is_whitespace() {
            next += 1;
        }
        let is_call = chars.get(next) == Some(&'(');
        if let Some(id) = ident {
            if !after_cast && !is_call {
                out.push(id);
            }
        }
        after_cast = false;
    }
    out
}

/// Rewrite references to column `old` in a CHECK expression after a rename, as PostgreSQL
/// (which stores the expression parsed) reports it afterwards.
pub(crate) fn rename_in_check(sqltext: &str, old: &str, new: &str) -> String {
    let chars: Vec<char> = sqltext.chars().collect();
    let mut out = String::with_capacity(sqltext.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c == '\'' || c == '"' {
            // A string literal is copied; a quoted identifier may be the column.
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += 1;
            }
            i = (i + 1).min(chars.len());
            let token: String = chars[start..i].iter().collect();
            let inner = token.trim_matches('"').replace("\"\"", "\"");
            if c == '"' && inner == old {
                out.push_str(&quote(new));
            } else {
                out.push_str(&token);
            }
        } else if c.is_alphabetic() || c == '_' {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.to_lowercase() == old {
                out.push_str(&quote(new));
            } else {
                out.push_str(&word);
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Column, ForeignKey, SqlType};

    fn table(name: &str, cols: &[&str]) -> Table {
        let mut t = Table::new(name);
        t.columns = cols
            .iter()
            .map(|c| Column::new(c, SqlType::Integer))
            .collect();
        t
    }

    #[test]
    fn generated_names_fit_in_63_bytes_cutting_the_longer_part_first() {
        assert_eq!(object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            object_name("datasets", Some("experiment_id"), "fkey"),
            "datasets_experiment_id_fkey"
        );
        let long_table = "t".repeat(60);
        let name = object_name(&long_table, Some("col"), "key");
        assert_eq!(name.len(), 63);
        assert_eq!(name, format!("{}_col_key", "t".repeat(55)));
        // From PostgreSQL 15: with equal lengths the second part is cut first.
        let name = object_name(&"a".repeat(40), Some(&"b".repeat(40)), "fkey");
        assert_eq!(name, format!("{}_{}_fkey", "a".repeat(29), "b".repeat(28)));
        assert_eq!(
            object_name(&"t".repeat(60), Some("id"), "seq"),
            format!("{}_id_seq", "t".repeat(56))
        );
        assert_eq!(
            object_name(&"t".repeat(60), None, "pkey"),
            format!("{}_pkey", "t".repeat(58))
        );
        assert_eq!(object_name("Name", Some("Col"), "key"), "Name_Col_key");
    }

    #[test]
    fn a_taken_name_gets_a_number_after_its_label() {
        let mut model = SchemaModel::default();
        let mut t = table("t", &["a"]);
        for _ in 0..3 {
            t.constraints.push(Constraint::ForeignKey(ForeignKey {
                name: None,
                columns: vec!["a".into()],
                ref_table: "o".into(),
                ref_columns: vec!["id".into()],
                ondelete: None,
                onupdate: None,
                deferrable: None,
                initially: None,
            }));
        }
        model.tables.push(t);
        name_constraints(&mut model, "t");
        let names: Vec<_> = model.tables[0]
            .constraints
            .iter()
            .map(|c| c.name().unwrap().to_string())
            .collect();
        assert_eq!(names, ["t_a_fkey", "t_a_fkey1", "t_a_fkey2"]);
    }

    #[test]
    fn checks_are_named_after_their_one_column_else_the_table() {
        let t = table("runs", &["status", "lifecycle_stage", "a", "b"]);
        assert_eq!(
            check_column("status IN ('SCHEDULED', 'a b')", &t).as_deref(),
            Some("status")
        );
        assert_eq!(check_column("a > 0 and b > 0", &t), None);
        assert_eq!(
            check_column("lower(a) = 'x' AND a::text <> ''", &t).as_deref(),
            Some("a")
        );
        assert_eq!(
            check_column("\"status\" IS NOT NULL", &t).as_deref(),
            Some("status")
        );
        assert_eq!(check_column("a :: text <> 'b'", &t).as_deref(), Some("a"));
        assert_eq!(
            rename_in_check(
                "status IN ('status') AND \"status\" <> ''",
                "status",
                "state"
            ),
            "state IN ('status') AND state <> ''"
        );
    }

    #[test]
    fn a_unique_constraint_repeating_the_primary_key_is_not_created() {
        let mut t = table("registered_models", &["name"]);
        t.constraints = vec![
            Constraint::PrimaryKey {
                name: Some("registered_model_pk".into()),
                columns: vec!["name".into()],
            },
            Constraint::Unique {
                name: None,
                columns: vec!["name".into()],
            },
        ];
        merge_duplicate_keys(&mut t);
        assert_eq!(t.constraints.len(), 1);

        let mut t = table("t", &["a"]);
        t.constraints = vec![
            Constraint::PrimaryKey {
                name: None,
                columns: vec!["a".into()],
            },
            Constraint::Unique {
                name: Some("uq_a".into()),
                columns: vec!["a".into()],
            },
        ];
        merge_duplicate_keys(&mut t);
        assert_eq!(t.constraints.len(), 1);
        assert_eq!(t.constraints[0].name(), Some("uq_a"));

        // PostgreSQL 15: `primary key (a), unique (a), unique (b), unique (b)` leaves u_pkey
        // and u_b_key.
        let mut t = table("u", &["a", "b"]);
        let key = |kind: ConstraintKind, c: &str| match kind {
            ConstraintKind::PrimaryKey => Constraint::PrimaryKey {
                name: None,
                columns: vec![c.into()],
            },
            _ => Constraint::Unique {
                name: None,
                columns: vec![c.into()],
            },
        };
        t.constraints = vec![
            key(ConstraintKind::PrimaryKey, "a"),
            key(ConstraintKind::Unique, "a"),
            key(ConstraintKind::Unique, "b"),
            key(ConstraintKind::Unique, "b"),
        ];
        merge_duplicate_keys(&mut t);
        let mut model = SchemaModel::default();
        model.tables.push(t);
        name_constraints(&mut model, "u");
        let names: Vec<_> = model.tables[0]
            .constraints
            .iter()
            .map(|c| c.name().unwrap())
            .collect();
        assert_eq!(names, ["u_pkey", "u_b_key"]);
    }

    #[test]
    fn serial_sequences_are_read_back_from_their_defaults() {
        assert_eq!(
            sequence_of(&nextval_default("users_id_seq")).as_deref(),
            Some("users_id_seq")
        );
    }
}
