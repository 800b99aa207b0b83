//! Type changes as each server sees them: whether a new type only widens the old one, and
//! whether PostgreSQL can change it without rewriting the table.

use super::Server;
use crate::ir::SqlType;

/// The dialect name whose `with_variant` types apply on `server`.
fn dialect_name(server: Server) -> &'static str {
    match server {
        Server::Sqlite => "sqlite",
        Server::Postgres => "postgresql",
        Server::Mysql => "mysql",
    }
}

/// Whether a type change only widens (old values and old servers' values still fit), with
/// `with_variant` types resolved for `server`.
pub(super) fn widens(from: Option<&SqlType>, to: &SqlType, server: Server) -> bool {
    use SqlType::*;
    let dialect = dialect_name(server);
    let from = from.map(|t| t.for_dialect(dialect));
    let to = to.for_dialect(dialect);
    // MySQL's text types by size: TEXT < MEDIUMTEXT < LONGTEXT (bytes 2^16, 2^24, 2^32).
    let mysql_text = |t: &SqlType| match t {
        Text { length: None } => Some(1),
        DialectSpecific { name, .. } if name.eq_ignore_ascii_case("MEDIUMTEXT") => Some(2),
        DialectSpecific { name, .. } if name.eq_ignore_ascii_case("LONGTEXT") => Some(3),
        _ => None,
    };
    match (from, to) {
        (Some(Varchar { length: a, .. }), Varchar { length: b, .. })
        | (Some(Varchar { length: a, .. }), Text { length: b }) => match (a, b) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        (Some(Text { .. }), Text { length: None }) => true,
        (Some(SmallInteger), Integer | BigInteger) | (Some(Integer), BigInteger) => true,
        // VARCHAR(n) holds at most 4n bytes in utf8mb4; every VARCHAR fits MEDIUMTEXT.
        (Some(Varchar { .. }), b) if mysql_text(b).is_some_and(|n| n >= 2) => true,
        (Some(a), b) if mysql_text(a).is_some() && mysql_text(b).is_some() => {
            mysql_text(b) >= mysql_text(a)
        }
        (Some(a), b) => a == b,
        (None, _) => false,
    }
}

/// Whether PostgreSQL changes the type without rewriting the table: binary coercible, or the
/// same type as PostgreSQL stores it (`FLOAT` and `FLOAT(53)` are both `double precision`;
/// `ALTER COLUMN … TYPE` to the type a column has rewrites nothing).
pub(super) fn pg_coercible(from: Option<&SqlType>, to: &SqlType) -> bool {
    use SqlType::*;
    let from = from.map(|t| t.for_dialect("postgresql"));
    let to = to.for_dialect("postgresql");
    let stored = |t: &SqlType| match t {
        Float { precision, double } => {
            let double = *double || precision.is_none_or(|p| p > 24);
            Float {
                precision: None,
                double,
            }
        }
        Boolean { .. } => Boolean {
            create_constraint: false,
            name: None,
        },
        other => other.clone(),
    };
    if from.is_some_and(|f| stored(f) == stored(to)) {
        return true;
    }
    matches!(
        (from, to),
        (Some(Varchar { .. }), Varchar { .. } | Text { .. })
    ) && widens(from, to, Server::Postgres)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varchar(n: u32) -> SqlType {
        SqlType::Varchar {
            length: Some(n),
            collation: None,
        }
    }

    /// MLflow's 17e22815139b: `String(5000)` to `Text().with_variant(MEDIUMTEXT, "mysql")`.
    fn text_or_mediumtext() -> SqlType {
        SqlType::Variant {
            base: Box::new(SqlType::Text { length: None }),
            variants: vec![(
                "mysql".into(),
                SqlType::dialect_specific("mysql", "MEDIUMTEXT", None),
            )],
        }
    }

    #[test]
    fn variants_are_judged_as_the_server_sees_them() {
        let to = text_or_mediumtext();
        for server in [Server::Sqlite, Server::Postgres, Server::Mysql] {
            assert!(widens(Some(&varchar(5000)), &to, server), "{server:?}");
        }
        assert!(pg_coercible(Some(&varchar(5000)), &to));
    }

    #[test]
    fn postgres_does_not_rewrite_for_the_type_a_column_already_has() {
        let float = |precision| SqlType::Float {
            precision,
            double: false,
        };
        let boolean = |create_constraint| SqlType::Boolean {
            create_constraint,
            name: None,
        };
        // MLflow's 181f10493468: Float to Float(precision=53), both double precision.
        assert!(pg_coercible(Some(&float(None)), &float(Some(53))));
        assert!(pg_coercible(Some(&boolean(false)), &boolean(true)));
        // real to double precision is a rewrite.
        assert!(!pg_coercible(Some(&float(Some(24))), &float(Some(53))));
        assert!(!pg_coercible(None, &float(Some(53))));
    }

    #[test]
    fn narrowing_is_still_narrowing() {
        assert!(!widens(Some(&varchar(500)), &varchar(250), Server::Sqlite));
        let mediumtext = SqlType::dialect_specific("mysql", "MEDIUMTEXT", None);
        assert!(!widens(
            Some(&mediumtext),
            &SqlType::Text { length: None },
            Server::Mysql
        ));
        assert!(!widens(None, &varchar(10), Server::Postgres));
    }
}
