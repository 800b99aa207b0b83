//! The default spelling of table constraints, foreign keys and indexes, written once; each
//! database overrides only where it differs (as Alembic's `DefaultImpl` and SQLAlchemy's
//! `DDLCompiler` do): how it quotes a name, the order of a primary
//! key's columns, how a CHECK's clause reads, what an index's parts and kind look like.

use crate::ir::{Constraint, ForeignKey, Index, IndexPart};

/// How one database spells DDL. The provided methods are the spelling SQLAlchemy writes for
/// every database; implementors give `ident` and override the hooks where they differ.
pub(crate) trait Spelling {
    /// A name as the database quotes it.
    fn ident(&self, name: &str) -> String;

    /// A primary key's columns in the order CREATE TABLE lists them.
    fn primary_key_order(&self, columns: &[String]) -> Vec<String> {
        columns.to_vec()
    }

    /// A CHECK's clause as the database is given it.
    fn check_clause(&self, sqltext: &str) -> String {
        sqltext.to_string()
    }

    /// An index's parts: columns quoted, expressions as written.
    fn index_parts(&self, index: &Index) -> Vec<String> {
        index
            .parts
            .iter()
            .map(|p| match p {
                IndexPart::Column(c) => self.ident(c),
                IndexPart::Expression(e) => e.clone(),
            })
            .collect()
    }

    /// Words between `CREATE [UNIQUE]` and `INDEX` (MySQL's `FULLTEXT`, `SPATIAL`).
    fn index_kind(&self, _index: &Index) -> Option<String> {
        None
    }

    /// Names, quoted, separated by commas.
    fn column_list(&self, columns: &[String]) -> String {
        columns
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A constraint as CREATE TABLE and `ALTER TABLE … ADD` write it.
    fn constraint_sql(&self, c: &Constraint) -> String {
        let preamble = match c.name() {
            Some(n) => format!("CONSTRAINT {} ", self.ident(n)),
            None => String::new(),
        };
        match c {
            Constraint::PrimaryKey { columns, .. } => format!(
                "{preamble}PRIMARY KEY ({})",
                self.column_list(&self.primary_key_order(columns))
            ),
            Constraint::Unique { columns, .. } => {
                format!("{preamble}UNIQUE ({})", self.column_list(columns))
            }
            Constraint::Check { sqltext, .. } => {
                format!("{preamble}CHECK ({})", self.check_clause(sqltext))
            }
            Constraint::ForeignKey(fk) => format!("{preamble}{}", self.foreign_key_sql(fk)),
        }
    }

    /// `FOREIGN KEY(…) REFERENCES …` with its actions and deferral.
    fn foreign_key_sql(&self, fk: &ForeignKey) -> String {
        let mut s = format!(
            "FOREIGN KEY({}) REFERENCES {} ({})",
            self.column_list(&fk.columns),
            self.ident(&fk.ref_table),
            self.column_list(&fk.ref_columns)
        );
        if let Some(d) = &fk.ondelete {
            s += &format!(" ON DELETE {d}");
        }
        if let Some(u) = &fk.onupdate {
            s += &format!(" ON UPDATE {u}");
        }
        match fk.deferrable {
            Some(true) => s += " DEFERRABLE",
            Some(false) => s += " NOT DEFERRABLE",
            None => {}
        }
        if let Some(i) = &fk.initially {
            s += &format!(" INITIALLY {i}");
        }
        s
    }

    /// `CREATE [UNIQUE] [kind] INDEX <name> ON <table> (<parts>)`.
    fn create_index_sql(&self, index: &Index, table: &str) -> String {
        format!(
            "CREATE {}{}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            self.index_kind(index)
                .map(|k| format!("{k} "))
                .unwrap_or_default(),
            self.ident(&index.name),
            self.ident(table),
            self.index_parts(index).join(", ")
        )
    }
}
