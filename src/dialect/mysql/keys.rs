//! What MySQL and MariaDB do to a table's keys on their own, mirrored in the schema model so
//! that later `drop_constraint` calls by those names and the inspector see the table as the
//! server holds it. Checked against MariaDB 10.11:
//!
//! - names for constraints declared without one: foreign keys `<table>_ibfk_N` (one more than
//!   the highest N in use), CHECKs `CONSTRAINT_N` on MariaDB (the lowest free N) and
//!   `<table>_chk_N` on MySQL, unique keys after their first column (`col`, `col_2`, ...), and
//!   the primary key always `PRIMARY`;
//! - a foreign key no key starts with gets an index of its own, named after the constraint when
//!   it has a name, else after its first column; a key created later that starts with the same
//!   columns replaces that index (even after the foreign key is gone);
//! - a unique constraint *is* a unique index: the model holds both, as SQLAlchemy's reflection
//!   reports both, and drops them together;
//! - dropping a column shrinks the indexes and the primary key it is part of and drops the
//!   CHECKs that use only it; the server refuses it when a foreign key, a multi-column unique
//!   key or a CHECK on other columns too still needs the column;
//! - renaming a table renames its foreign keys named `<old>_ibfk_N`.
//!
//! Refused here as the server refuses them: dropping a key a foreign key of the same table still
//! needs (the referencing side in other tables is left to the server), and a foreign key name
//! another table already uses — InnoDB names foreign keys per database, not per table (MySQL
//! 8 does the same for CHECK names).

use crate::dialect::RenderError;
use crate::ir::{Constraint, ConstraintKind, DialectOption, ForeignKey, Index, IndexPart, Table};
use crate::schema::{SchemaError, SchemaModel};

/// The dialect option marking an index the server created for a foreign key.
const FOR_FOREIGN_KEY: &str = "mysql_foreign_key_index";

fn refused(message: String) -> RenderError {
    RenderError::Unsupported(message)
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether the server made this index for a foreign key (and a covering key replaces it).
pub fn is_for_foreign_key(index: &Index) -> bool {
    matches!(
        index.option(FOR_FOREIGN_KEY),
        Some(DialectOption::Bool(true))
    )
}

/// The leading columns of an index that can serve a foreign key (none for a prefix index).
fn usable_columns(index: &Index) -> Vec<String> {
    if index.option("mysql_length").is_some() {
        return Vec::new();
    }
    index
        .parts
        .iter()
        .map_while(|p| match p {
            IndexPart::Column(c) => Some(c.clone()),
            IndexPart::Expression(_) => None,
        })
        .collect()
}

fn starts_with(key: &[String], cols: &[String]) -> bool {
    !cols.is_empty() && key.len() >= cols.len() && key.iter().zip(cols).all(|(k, c)| same(k, c))
}

/// Whether some key of the table (the primary key or an index) starts with `cols`.
fn served(t: &Table, cols: &[String]) -> bool {
    t.primary_key()
        .is_some_and(|pk| starts_with(pk.columns(), cols))
        || t.indexes
            .iter()
            .any(|i| starts_with(&usable_columns(i), cols))
}

/// `base`, or `base_2`, `base_3`... : the first name no key of the table has.
fn key_name(t: &Table, base: &str) -> String {
    let taken = |n: &str| same(n, "PRIMARY") || t.indexes.iter().any(|i| same(&i.name, n));
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}_{i}"))
        .find(|n| !taken(n))
        .unwrap_or_default()
}

/// The highest N of the names `<prefix>N` among a table's constraints of one kind.
fn highest(t: &Table, kind: ConstraintKind, prefix: &str) -> u64 {
    t.constraints
        .iter()
        .filter(|c| c.kind() == kind)
        .filter_map(|c| {
            let name = c.name()?;
            let rest = name.get(prefix.len()..)?;
            same(&name[..prefix.len()], prefix)
                .then(|| rest.parse::<u64>().ok())
                .flatten()
        })
        .max()
        .unwrap_or(0)
}

fn check_name(t: &Table, mariadb: bool) -> String {
    if mariadb {
        let taken = |n: &str| {
            t.constraints
                .iter()
                .any(|c| c.kind() == ConstraintKind::Check && c.name().is_some_and(|x| same(x, n)))
        };
        (1..)
            .map(|i| format!("CONSTRAINT_{i}"))
            .find(|n| !taken(n))
            .unwrap_or_default()
    } else {
        let prefix = format!("{}_chk_", t.name);
        format!("{prefix}{}", highest(t, ConstraintKind::Check, &prefix) + 1)
    }
}

/// A new key replaces the indexes the server made for foreign keys it starts with.
fn replace_served(t: &mut Table, key: &[String]) {
    t.indexes
        .retain(|i| !(is_for_foreign_key(i) && starts_with(key, &usable_columns(i))));
}

fn exists(t: &Table, name: &str, kind: ConstraintKind) -> bool {
    t.constraints
        .iter()
        .any(|c| c.kind() == kind && c.name().is_some_and(|n| same(n, name)))
}

/// Add a constraint as `ALTER TABLE ... ADD` (or CREATE TABLE) does on the server.
pub(super) fn add_constraint(
    t: &mut Table,
    c: Constraint,
    mariadb: bool,
) -> Result<(), RenderError> {
    add_constraint_with(t, c, mariadb, None)
}

/// `own_index`: whether a foreign key gets an index of its own (CREATE TABLE decides that
/// over the whole statement); `None` asks the table as it is.
fn add_constraint_with(
    t: &mut Table,
    mut c: Constraint,
    mariadb: bool,
    own_index: Option<bool>,
) -> Result<(), RenderError> {
    let table = t.name.clone();
    let duplicate = |name: &str| {
        SchemaError::Unsupported(format!(
            "table '{table}' already has a constraint named '{name}'"
        ))
    };
    match &mut c {
        Constraint::PrimaryKey { name, columns } => {
            *name = Some("PRIMARY".into());
            t.constraints
                .retain(|x| x.kind() != ConstraintKind::PrimaryKey);
            for col in &mut t.columns {
                col.primary_key = columns.iter().any(|n| same(n, &col.name));
                if col.primary_key {
                    col.nullable = false;
                }
            }
            let cols = columns.clone();
            replace_served(t, &cols);
            t.constraints.insert(0, c);
        }
        Constraint::Unique { name, columns } => {
            let cols = columns.clone();
            replace_served(t, &cols);
            let first = cols.first().cloned().unwrap_or_default();
            let n = name.get_or_insert_with(|| key_name(t, &first)).clone();
            if t.indexes.iter().any(|i| same(&i.name, &n)) {
                return Err(SchemaError::IndexExists(n).into());
            }
            t.indexes.push(Index {
                name: n,
                table: t.name.clone(),
                parts: cols.into_iter().map(IndexPart::Column).collect(),
                unique: true,
                dialect_options: Vec::new(),
            });
            t.constraints.push(c);
        }
        Constraint::ForeignKey(fk) => {
            let index_base = fk
                .name
                .clone()
                .or_else(|| fk.columns.first().cloned())
                .unwrap_or_default();
            let prefix = format!("{}_ibfk_", t.name);
            let next = highest(t, ConstraintKind::ForeignKey, &prefix) + 1;
            let n = fk
                .name
                .get_or_insert_with(|| format!("{prefix}{next}"))
                .clone();
            if exists(t, &n, ConstraintKind::ForeignKey) {
                return Err(duplicate(&n).into());
            }
            let cols = fk.columns.clone();
            if own_index.unwrap_or_else(|| !served(t, &cols)) {
                let name = key_name(t, &index_base);
                t.indexes.push(Index {
                    name,
                    table: t.name.clone(),
                    parts: cols.into_iter().map(IndexPart::Column).collect(),
                    unique: false,
                    dialect_options: vec![(FOR_FOREIGN_KEY.into(), DialectOption::Bool(true))],
                });
            }
            t.constraints.push(c);
        }
        Constraint::Check { name, .. } => {
            let n = match name {
                Some(n) => n.clone(),
                None => check_name(t, mariadb),
            };
            if exists(t, &n, ConstraintKind::Check) {
                return Err(duplicate(&n).into());
            }
            *name = Some(n);
            t.constraints.push(c);
        }
    }
    Ok(())
}

/// After CREATE TABLE (and its CREATE INDEX statements): names and implicit indexes.
///
/// The server first drops the index a foreign key would get when another key of the statement
/// (the primary key, a unique key, or a longer foreign key index) starts with its columns,
/// then names the keys left in declaration order; the CREATE INDEX statements come after.
pub(super) fn settle_new_table(t: &mut Table, mariadb: bool) -> Result<(), RenderError> {
    let constraints = std::mem::take(&mut t.constraints);
    let indexes = std::mem::take(&mut t.indexes);
    let declared: Vec<&[String]> = constraints
        .iter()
        .filter(|c| {
            matches!(
                c.kind(),
                ConstraintKind::PrimaryKey | ConstraintKind::Unique
            )
        })
        .map(|c| c.columns())
        .collect();
    let candidates: Vec<(usize, &[String])> = constraints
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind() == ConstraintKind::ForeignKey)
        .map(|(i, c)| (i, c.columns()))
        .filter(|(_, cols)| !declared.iter().any(|k| starts_with(k, cols)))
        .collect();
    let own_index: Vec<usize> = candidates
        .iter()
        .filter(|(i, cols)| {
            !candidates.iter().any(|(j, other)| {
                j != i && starts_with(other, cols) && (other.len() > cols.len() || j < i)
            })
        })
        .map(|(i, _)| *i)
        .collect();
    for (i, c) in constraints.into_iter().enumerate() {
        let own = (c.kind() == ConstraintKind::ForeignKey).then(|| own_index.contains(&i));
        add_constraint_with(t, c, mariadb, own)?;
    }
    for i in indexes {
        add_index(t, i)?;
    }
    Ok(())
}

/// A table as it was declared: without the indexes the server keeps for its unique keys and
/// foreign keys (creating the table makes them again).
///
/// A foreign key with a server-given name (`<table>_ibfk_N`) whose index is named after its
/// column, not after it, was declared without a name: declared so again, the server names both
/// the same way (the caller checks the result against the table it wants).
pub(super) fn declared(mut t: Table) -> Table {
    let prefix = format!("{}_ibfk_", t.name);
    // The server-made index of each foreign key: (its name, its columns).
    let made: Vec<(String, Vec<String>)> = t
        .indexes
        .iter()
        .filter(|i| is_for_foreign_key(i))
        .map(|i| (i.name.clone(), usable_columns(i)))
        .collect();
    for c in &mut t.constraints {
        let Constraint::ForeignKey(fk) = c else {
            continue;
        };
        let Some(name) = fk.name.as_deref() else {
            continue;
        };
        let server_given = name.len() > prefix.len()
            && name[..prefix.len()].eq_ignore_ascii_case(&prefix)
            && name[prefix.len()..].bytes().all(|b| b.is_ascii_digit());
        let index_after_column = made.iter().any(|(_, cols)| *cols == fk.columns)
            && !made.iter().any(|(index, _)| same(index, name));
        if server_given && index_after_column {
            fk.name = None;
        }
    }
    let unique: Vec<String> = t
        .constraints
        .iter()
        .filter(|c| c.kind() == ConstraintKind::Unique)
        .filter_map(|c| c.name().map(str::to_string))
        .collect();
    let foreign_keys: Vec<Vec<String>> = t
        .constraints
        .iter()
        .filter(|c| c.kind() == ConstraintKind::ForeignKey)
        .map(|c| c.columns().to_vec())
        .collect();
    // An index made for a foreign key that is gone stays as the server keeps it.
    let orphan = |i: &Index| !foreign_keys.contains(&usable_columns(i));
    t.indexes.retain(|i| {
        (!is_for_foreign_key(i) || orphan(i))
            && !(i.unique && unique.iter().any(|u| same(u, &i.name)))
    });
    t
}

/// `CREATE [UNIQUE] INDEX`.
pub(super) fn add_index(t: &mut Table, index: Index) -> Result<(), RenderError> {
    if same(&index.name, "PRIMARY") || t.indexes.iter().any(|i| same(&i.name, &index.name)) {
        return Err(SchemaError::IndexExists(index.name).into());
    }
    replace_served(t, &usable_columns(&index));
    if index.unique {
        t.constraints.push(Constraint::Unique {
            name: Some(index.name.clone()),
            columns: index.column_names().map(str::to_string).collect(),
        });
    }
    t.indexes.push(index);
    Ok(())
}

/// Refuse a change that leaves a foreign key of the table without a key starting with its
/// columns (MariaDB: "needed in a foreign key constraint").
fn foreign_keys_still_served(t: &Table, what: &str) -> Result<(), RenderError> {
    for c in &t.constraints {
        if let Constraint::ForeignKey(ForeignKey { name, columns, .. }) = c {
            if !served(t, columns) {
                return Err(refused(format!(
                    "cannot drop {what} on '{}': foreign key '{}' needs it (MySQL refuses this)",
                    t.name,
                    name.as_deref().unwrap_or("?")
                )));
            }
        }
    }
    Ok(())
}

pub(super) fn drop_primary_key(t: &mut Table) -> Result<(), RenderError> {
    let before = t.clone();
    if t.primary_key().is_none() {
        return Err(SchemaError::NoConstraint {
            table: t.name.clone(),
            name: "PRIMARY".into(),
        }
        .into());
    }
    t.constraints
        .retain(|c| c.kind() != ConstraintKind::PrimaryKey);
    for col in &mut t.columns {
        col.primary_key = false;
    }
    foreign_keys_still_served(t, "the primary key").inspect_err(|_| *t = before)
}

/// Drop a foreign key or a CHECK by name (a foreign key's index stays).
pub(super) fn drop_named(
    t: &mut Table,
    name: &str,
    kind: ConstraintKind,
) -> Result<(), RenderError> {
    let pos = t
        .constraints
        .iter()
        .position(|c| c.kind() == kind && c.name().is_some_and(|n| same(n, name)))
        .ok_or_else(|| SchemaError::NoConstraint {
            table: t.name.clone(),
            name: name.to_string(),
        })?;
    t.constraints.remove(pos);
    Ok(())
}

/// `DROP INDEX` of a unique constraint: the constraint and its index go together.
pub(super) fn drop_unique(t: &mut Table, name: &str) -> Result<(), RenderError> {
    drop_named(t, name, ConstraintKind::Unique)?;
    drop_index(t, name)
}

pub(super) fn drop_index(t: &mut Table, name: &str) -> Result<(), RenderError> {
    let before = t.clone();
    let pos = t
        .indexes
        .iter()
        .position(|i| same(&i.name, name))
        .ok_or_else(|| SchemaError::NoIndex(name.to_string()))?;
    let index = t.indexes.remove(pos);
    if index.unique {
        t.constraints.retain(|c| {
            !(c.kind() == ConstraintKind::Unique && c.name().is_some_and(|n| same(n, name)))
        });
    }
    foreign_keys_still_served(t, &format!("index '{name}'")).inspect_err(|_| *t = before)
}

/// The identifiers a CHECK's text names (outside string literals), lower-cased.
fn identifiers(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                while let Some(x) = chars.next() {
                    if x == c && chars.peek() != Some(&c) {
                        break;
                    }
                    if x == c {
                        chars.next();
                    }
                }
            }
            '`' => {
                let word: String = chars.by_ref().take_while(|x| *x != '`').collect();
                out.push(word.to_lowercase());
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut word = c.to_string();
                while let Some(x) = chars.next_if(|x| x.is_alphanumeric() || *x == '_' || *x == '$')
                {
                    word.push(x);
                }
                out.push(word.to_lowercase());
            }
            _ => {}
        }
    }
    out
}

/// `ALTER TABLE ... DROP COLUMN` as the server does it to the table's keys and CHECKs.
pub(super) fn drop_column(t: &mut Table, column: &str) -> Result<(), RenderError> {
    let name = t.name.clone();
    let refuse = |why: String| {
        Err(refused(format!(
            "cannot drop column '{name}.{column}': {why} (MySQL refuses this)"
        )))
    };
    if t.column(column).is_none() {
        return Err(SchemaError::NoColumn {
            table: name.clone(),
            column: column.to_string(),
        }
        .into());
    }
    for c in &t.constraints {
        let uses = c.columns().iter().any(|n| same(n, column));
        match c {
            Constraint::ForeignKey(fk) if uses => {
                return refuse(format!(
                    "foreign key '{}' uses it",
                    fk.name.as_deref().unwrap_or("?")
                ))
            }
            Constraint::Unique { name: n, columns } if uses && columns.len() > 1 => {
                return refuse(format!(
                    "the unique key '{}' spans it and other columns",
                    n.as_deref().unwrap_or("?")
                ))
            }
            Constraint::Check { name: n, sqltext } => {
                let names = identifiers(sqltext);
                let others = t.columns.iter().any(|col| {
                    !same(&col.name, column) && names.contains(&col.name.to_lowercase())
                });
                if names.contains(&column.to_lowercase()) && others {
                    return refuse(format!(
                        "the CHECK '{}' uses it and other columns",
                        n.as_deref().unwrap_or("?")
                    ));
                }
            }
            _ => {}
        }
    }
    let col_lower = column.to_lowercase();
    t.constraints.retain_mut(|c| match c {
        Constraint::PrimaryKey { columns, .. } | Constraint::Unique { columns, .. } => {
            columns.retain(|n| !same(n, column));
            !columns.is_empty()
        }
        Constraint::Check { sqltext, .. } => !identifiers(sqltext).contains(&col_lower),
        Constraint::ForeignKey(_) => true,
    });
    for i in &mut t.indexes {
        i.parts
            .retain(|p| !matches!(p, IndexPart::Column(c) if same(c, column)));
    }
    t.indexes.retain(|i| !i.parts.is_empty());
    t.columns.retain(|c| !same(&c.name, column));
    Ok(())
}

/// `ALTER TABLE old RENAME TO new`: foreign keys named `<old>_ibfk_N` (and, on MySQL, CHECKs
/// named `<old>_chk_N`) follow the table's name.
pub(super) fn renamed_table(t: &mut Table, old: &str, mariadb: bool) {
    let new = t.name.clone();
    for c in &mut t.constraints {
        let infix = match c.kind() {
            ConstraintKind::ForeignKey => "_ibfk_",
            ConstraintKind::Check if !mariadb => "_chk_",
            _ => continue,
        };
        let prefix = format!("{old}{infix}");
        let renamed = c.name().and_then(|n| {
            let head = n.get(..prefix.len())?;
            same(head, &prefix).then(|| format!("{new}{infix}{}", &n[prefix.len()..]))
        });
        if let Some(n) = renamed {
            c.set_name(Some(n));
        }
    }
}

/// InnoDB keeps foreign key names per database (MySQL 8 CHECK names too): a name another table
/// already uses makes the server refuse the statement ("Duplicate key on write or update").
pub(super) fn names_free_in_database(
    model: &SchemaModel,
    table: &str,
    mariadb: bool,
) -> Result<(), RenderError> {
    let Some(t) = model.table(table) else {
        return Ok(());
    };
    let database_wide = |k: ConstraintKind| {
        k == ConstraintKind::ForeignKey || (k == ConstraintKind::Check && !mariadb)
    };
    for c in t.constraints.iter().filter(|c| database_wide(c.kind())) {
        let Some(name) = c.name() else { continue };
        let other = model.tables.iter().find(|o| {
            o.name != t.name
                && o.constraints
                    .iter()
                    .any(|x| x.kind() == c.kind() && x.name().is_some_and(|n| same(n, name)))
        });
        if let Some(other) = other {
            return Err(refused(format!(
                "the {} name '{name}' on table '{table}' is already used by table '{}': MySQL \
                 and MariaDB keep these names per database, so the server refuses it \
                 (errno 121, \"Duplicate key on write or update\"); Python Alembic fails here too",
                if c.kind() == ConstraintKind::ForeignKey {
                    "foreign key"
                } else {
                    "CHECK"
                },
                other.name
            )));
        }
    }
    Ok(())
}
