//! Data statements: Core `update()`/`insert()`/`delete()` passed to `op.execute`, written as
//! SQLAlchemy's MySQL compiler writes them with literal values.

use super::quote;
use crate::dialect::ExprWriter;
use crate::ir::{Literal, SqlExpr, Statement};

/// Core statements (`update(...)`, `insert(...)`) as SQLAlchemy's MySQL compiler writes them
/// with literal values: backticks, `true`/`false`, backslashes in strings doubled.
pub(super) fn statement_sql(stmt: &Statement) -> String {
    if let Statement::Sql { text } = stmt {
        return text.clone();
    }
    let writer = ExprWriter {
        quote: &quote,
        literal: super::unescaped_literal,
        qualify: true,
    };
    writer.statement(&escape_backslashes(stmt))
}

/// The shared expression writer doubles quotes only; MySQL also reads backslashes as escapes.
fn escape_backslashes(stmt: &Statement) -> Statement {
    fn expr(e: &SqlExpr) -> SqlExpr {
        match e {
            SqlExpr::Literal {
                value: Literal::Str(s),
            } => SqlExpr::Literal {
                value: Literal::Str(s.replace('\\', "\\\\")),
            },
            SqlExpr::Binary { op, left, right } => SqlExpr::Binary {
                op: *op,
                left: Box::new(expr(left)),
                right: Box::new(expr(right)),
            },
            SqlExpr::InList {
                expr: e,
                values,
                negate,
            } => SqlExpr::InList {
                expr: Box::new(expr(e)),
                values: values.iter().map(expr).collect(),
                negate: *negate,
            },
            SqlExpr::IsNull { expr: e, negate } => SqlExpr::IsNull {
                expr: Box::new(expr(e)),
                negate: *negate,
            },
            SqlExpr::And { items } => SqlExpr::And {
                items: items.iter().map(expr).collect(),
            },
            SqlExpr::Or { items } => SqlExpr::Or {
                items: items.iter().map(expr).collect(),
            },
            SqlExpr::Not { expr: e } => SqlExpr::Not {
                expr: Box::new(expr(e)),
            },
            SqlExpr::Func { name, args } => SqlExpr::Func {
                name: name.clone(),
                args: args.iter().map(expr).collect(),
            },
            other => other.clone(),
        }
    }
    let opt = |f: &Option<SqlExpr>| f.as_ref().map(expr);
    match stmt {
        Statement::Sql { text } => Statement::Sql { text: text.clone() },
        Statement::Update {
            table,
            values,
            filter,
        } => Statement::Update {
            table: table.clone(),
            values: values.iter().map(|(c, v)| (c.clone(), expr(v))).collect(),
            filter: opt(filter),
        },
        Statement::Delete { table, filter } => Statement::Delete {
            table: table.clone(),
            filter: opt(filter),
        },
        Statement::Insert {
            table,
            columns,
            rows,
        } => Statement::Insert {
            table: table.clone(),
            columns: columns.clone(),
            rows: rows.iter().map(|r| r.iter().map(expr).collect()).collect(),
        },
    }
}
