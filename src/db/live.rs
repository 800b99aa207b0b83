//! The schema objects of a live database, read from its catalog: tables, columns, index and
//! constraint names, primary keys, CHECK clauses and triggers — what a DDL statement creates
//! or drops, so that whether a statement ran can be told from the database itself.

use std::collections::{BTreeMap, BTreeSet};

use super::{Backend, Conn, DbError};
use crate::dialect::sqltext::{self, normalize_check, Effect, Family, Object, Reading, State};

/// What the catalog says, for the object kinds [`Object`] names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveSchema {
    pub tables: BTreeSet<String>,
    pub columns: BTreeSet<(String, String)>,
    /// (table, index name).
    pub indexes: BTreeSet<(String, String)>,
    pub constraints: BTreeSet<(String, String)>,
    pub primary_keys: BTreeMap<String, Vec<String>>,
    pub checks: BTreeSet<(String, String)>,
    pub triggers: BTreeSet<String>,
    /// Whether unnamed CHECK clauses can be compared (not on PostgreSQL, which names them
    /// and rewrites their text).
    pub checks_comparable: bool,
}

fn pairs(rows: Vec<Option<String>>) -> impl Iterator<Item = (String, String)> {
    rows.into_iter().flatten().filter_map(|s| {
        s.split_once('|')
            .map(|(a, b)| (a.to_string(), b.to_string()))
    })
}

impl LiveSchema {
    /// Read the catalog of the connection's current database or schema.
    pub async fn read(conn: &mut Conn) -> Result<LiveSchema, DbError> {
        let mut live = LiveSchema {
            tables: conn.table_names().await?.into_iter().collect(),
            columns: conn.columns().await?.into_iter().collect(),
            checks_comparable: conn.backend() != Backend::Postgres,
            ..Default::default()
        };
        match conn.backend() {
            Backend::Mysql => live.read_mysql(conn).await?,
            Backend::Postgres => live.read_postgres(conn).await?,
            Backend::Sqlite => live.read_sqlite(conn).await?,
        }
        Ok(live)
    }

    async fn read_mysql(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        let indexes = conn
            .strings(
                "SELECT DISTINCT CAST(CONCAT(table_name, '|', index_name) AS CHAR) \
                 FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND index_name <> 'PRIMARY'",
            )
            .await?;
        self.indexes = pairs(indexes).collect();
        let constraints = conn
            .strings(
                "SELECT CAST(CONCAT(table_name, '|', constraint_name) AS CHAR) \
                 FROM information_schema.table_constraints \
                 WHERE constraint_schema = DATABASE() AND constraint_type <> 'PRIMARY KEY'",
            )
            .await?;
        self.constraints = pairs(constraints).collect();
        let pk = conn
            .strings(
                "SELECT CAST(CONCAT(table_name, '|', column_name) AS CHAR) \
                 FROM information_schema.key_column_usage \
                 WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY' \
                 ORDER BY table_name, ordinal_position",
            )
            .await?;
        for (t, c) in pairs(pk) {
            self.primary_keys.entry(t).or_default().push(c);
        }
        // MariaDB names the table in CHECK_CONSTRAINTS; MySQL 8 only in TABLE_CONSTRAINTS.
        let checks = match conn
            .strings(
                "SELECT CAST(CONCAT(table_name, '|', check_clause) AS CHAR) \
                 FROM information_schema.check_constraints WHERE constraint_schema = DATABASE()",
            )
            .await
        {
            Ok(rows) => rows,
            Err(_) => {
                conn.strings(
                    "SELECT CAST(CONCAT(tc.table_name, '|', cc.check_clause) AS CHAR) \
                     FROM information_schema.table_constraints AS tc \
                     JOIN information_schema.check_constraints AS cc \
                       ON cc.constraint_schema = tc.constraint_schema \
                      AND cc.constraint_name = tc.constraint_name \
                     WHERE tc.constraint_schema = DATABASE() AND tc.constraint_type = 'CHECK'",
                )
                .await?
            }
        };
        self.checks = pairs(checks)
            .map(|(t, c)| (t, normalize_check(&c)))
            .collect();
        let triggers = conn
            .strings(
                "SELECT CAST(trigger_name AS CHAR) FROM information_schema.triggers \
                 WHERE trigger_schema = DATABASE()",
            )
            .await?;
        self.triggers = triggers.into_iter().flatten().collect();
        Ok(())
    }

    async fn read_postgres(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        let indexes = conn
            .strings(
                "SELECT tablename::text || '|' || indexname::text FROM pg_indexes \
                 WHERE schemaname = current_schema()",
            )
            .await?;
        self.indexes = pairs(indexes).collect();
        let constraints = conn
            .strings(
                "SELECT cl.relname::text || '|' || co.conname::text FROM pg_constraint AS co \
                 JOIN pg_class AS cl ON cl.oid = co.conrelid \
                 JOIN pg_namespace AS n ON n.oid = cl.relnamespace \
                 WHERE n.nspname = current_schema() AND co.contype <> 'p'",
            )
            .await?;
        self.constraints = pairs(constraints).collect();
        let pk = conn
            .strings(
                "SELECT cl.relname::text || '|' || a.attname::text FROM pg_constraint AS co \
                 JOIN pg_class AS cl ON cl.oid = co.conrelid \
                 JOIN pg_namespace AS n ON n.oid = cl.relnamespace \
                 CROSS JOIN LATERAL unnest(co.conkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute AS a ON a.attrelid = co.conrelid AND a.attnum = k.attnum \
                 WHERE n.nspname = current_schema() AND co.contype = 'p' \
                 ORDER BY cl.relname, k.ord",
            )
            .await?;
        for (t, c) in pairs(pk) {
            self.primary_keys.entry(t).or_default().push(c);
        }
        let triggers = conn
            .strings(
                "SELECT t.tgname::text FROM pg_trigger AS t \
                 JOIN pg_class AS cl ON cl.oid = t.tgrelid \
                 JOIN pg_namespace AS n ON n.oid = cl.relnamespace \
                 WHERE n.nspname = current_schema() AND NOT t.tgisinternal",
            )
            .await?;
        self.triggers = triggers.into_iter().flatten().collect();
        Ok(())
    }

    async fn read_sqlite(&mut self, conn: &mut Conn) -> Result<(), DbError> {
        let indexes = conn
            .strings("SELECT tbl_name || '|' || name FROM sqlite_master WHERE type = 'index'")
            .await?;
        self.indexes = pairs(indexes).collect();
        let triggers = conn
            .strings("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            .await?;
        self.triggers = triggers.into_iter().flatten().collect();
        // SQLite keeps constraints only in the table's CREATE statement: read it back.
        let tables = conn
            .strings(
                "SELECT name || '|' || sql FROM sqlite_master \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql IS NOT NULL",
            )
            .await?;
        for (table, sql) in pairs(tables) {
            let Reading::Effects(effects) = sqltext::read_statement(&sql, Family::Sqlite) else {
                continue;
            };
            for e in effects {
                match e {
                    Effect::Set(Object::Constraint(_, name), _) => {
                        self.constraints.insert((table.clone(), name));
                    }
                    Effect::Set(Object::PrimaryKey(_), State::Columns(cols)) => {
                        self.primary_keys.insert(table.clone(), cols);
                    }
                    Effect::Set(Object::Check(_, clause), _) => {
                        self.checks.insert((table.clone(), clause));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// The object's state, or `None` when the catalog cannot tell (row counts are asked of
    /// the database separately).
    pub fn state(&self, object: &Object) -> Option<State> {
        let present = |b: bool| if b { State::Present } else { State::Absent };
        Some(match object {
            Object::Table(t) => present(self.tables.contains(t)),
            Object::Column(t, c) => present(self.columns.contains(&(t.clone(), c.clone()))),
            // Index names are per table on MySQL, per schema elsewhere; a statement that
            // does not name the table matches the name on any table.
            Object::Index(t, i) if t.is_empty() => {
                present(self.indexes.iter().any(|(_, name)| name == i))
            }
            Object::Index(t, i) => present(self.indexes.contains(&(t.clone(), i.clone()))),
            Object::Constraint(t, c) => present(self.constraints.contains(&(t.clone(), c.clone()))),
            Object::PrimaryKey(t) => match self.primary_keys.get(t) {
                Some(cols) => State::Columns(cols.clone()),
                None => State::Absent,
            },
            Object::Check(t, c) => {
                if !self.checks_comparable {
                    return None;
                }
                present(self.checks.contains(&(t.clone(), c.clone())))
            }
            Object::Trigger(t) => present(self.triggers.contains(t)),
            Object::Rows(_) => return None,
        })
    }
}

impl Conn {
    /// Whether `table` holds at least one row.
    pub async fn has_rows(&mut self, table: &str) -> Result<bool, DbError> {
        let quoted = match self.backend() {
            Backend::Mysql => format!("`{}`", table.replace('`', "``")),
            _ => format!("\"{}\"", table.replace('"', "\"\"")),
        };
        let rows = self
            .strings(&format!(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM {quoted}) THEN 'y' ELSE 'n' END"
            ))
            .await?;
        Ok(rows.first().cloned().flatten().as_deref() == Some("y"))
    }
}
