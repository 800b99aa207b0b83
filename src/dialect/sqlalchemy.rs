//! The SQLAlchemy release line whose DDL a project's scripts get. A script names types and
//! operations; the SQL they become is what the SQLAlchemy installed beside the project compiles
//! them to, and 2.0 and 2.1 differ (compared with both by `tests/spellings.rs`):
//!
//! | what | 2.0 | 2.1 |
//! |---|---|---|
//! | `sa.Uuid()` on MariaDB | `CHAR(32)` | `UUID` (MariaDB's own type) |
//! | a collation on SQLite and PostgreSQL | always quoted: `COLLATE "nocase"` | quoted only as a name must be |
//! | `postgresql.JSONB` on SQLite | refused | `JSONB` |
//!
//! The first changes the database: a table made by a 2.0 project's upgrade holds `CHAR(32)`
//! keys, and a later revision's foreign key in `UUID` to them fails on MariaDB (errno 150).

use std::fmt;

/// A SQLAlchemy release line whose spelling is reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum SqlAlchemy {
    #[serde(rename = "2.0")]
    V2_0,
    /// The line the engine is checked against first (2.1.9).
    #[default]
    #[serde(rename = "2.1")]
    V2_1,
}

impl SqlAlchemy {
    /// The line of a version as SQLAlchemy writes it (`2.0`, `2.0.59`, `2.1.9`, `2.1.0b1`);
    /// `None` for any other line (1.4, 2.2, ...).
    pub fn of_version(version: &str) -> Option<SqlAlchemy> {
        let mut parts = version.trim().split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
        match (major, minor.as_str()) {
            ("2", "0") => Some(SqlAlchemy::V2_0),
            ("2", "1") => Some(SqlAlchemy::V2_1),
            _ => None,
        }
    }

    /// Whether `Uuid` is MariaDB's own `UUID` type (2.1) rather than 32 hex digits in a
    /// `CHAR(32)` (2.0, and MySQL in both).
    pub fn mariadb_native_uuid(self) -> bool {
        self == SqlAlchemy::V2_1
    }

    /// Whether a collation name is quoted whatever it is (2.0), on SQLite and PostgreSQL.
    pub fn quotes_every_collation(self) -> bool {
        self == SqlAlchemy::V2_0
    }

    /// Whether SQLite's type compiler spells `JSONB` (2.1, which added SQLite's JSONB type).
    pub fn sqlite_spells_jsonb(self) -> bool {
        self == SqlAlchemy::V2_1
    }
}

impl fmt::Display for SqlAlchemy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SqlAlchemy::V2_0 => "2.0",
            SqlAlchemy::V2_1 => "2.1",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SqlAlchemy;

    #[test]
    fn versions_map_to_their_line() {
        assert_eq!(SqlAlchemy::of_version("2.0"), Some(SqlAlchemy::V2_0));
        assert_eq!(SqlAlchemy::of_version("2.0.59"), Some(SqlAlchemy::V2_0));
        assert_eq!(SqlAlchemy::of_version("2.1.9\n"), Some(SqlAlchemy::V2_1));
        assert_eq!(SqlAlchemy::of_version("2.1.0b1"), Some(SqlAlchemy::V2_1));
        assert_eq!(SqlAlchemy::of_version("1.4.54"), None);
        assert_eq!(SqlAlchemy::of_version("2.2.0"), None);
        assert_eq!(SqlAlchemy::of_version("2"), None);
        assert_eq!(SqlAlchemy::V2_0.to_string(), "2.0");
        assert_eq!(SqlAlchemy::default(), SqlAlchemy::V2_1);
    }
}
