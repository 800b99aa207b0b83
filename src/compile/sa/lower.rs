//! From expressions to IR: [`lower`] gives the `SqlExpr` a statement holds; [`render`] and
//! [`text_sql`] write generic SQL text for the places the IR keeps as text (CHECK constraints,
//! computed columns, index predicates, `sa.text()` with its bound values).

use crate::dialect::{needs_quotes, ExprWriter};
use crate::interp::{Ctx, Result};
use crate::ir::{Literal, SqlExpr};

use super::expr::{Expr, DATA_MIGRATION};

/// The ANSI functions SQLAlchemy renders without parentheses (when called without arguments).
const ANSI_FUNCTIONS: &[&str] = &[
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "session_user",
    "user",
];

/// Functions some dialect compiles to something else (`now()` is `CURRENT_TIMESTAMP` on
/// SQLite, `random()` is `rand()` on MySQL, ...): fine in a statement, whose renderer knows
/// the dialect, but not as dialect-independent text.
const DIALECT_FUNCTIONS: &[&str] = &[
    "now",
    "random",
    "sysdate",
    "localtimestamp",
    "char_length",
    "aggregate_strings",
    "pow",
    "substring",
    "rollup",
    "next_value",
];

/// Refuse a function whose spelling depends on the dialect, where text must be the same for all.
fn check_portable(e: &Expr, ctx: &Ctx) -> Result<()> {
    let all = |items: &[Expr]| items.iter().try_for_each(|i| check_portable(i, ctx));
    match e {
        Expr::Func { name, args } => {
            if DIALECT_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(ctx.native_unsupported(
                    &format!("func.{name}"),
                    "here: its SQL differs per dialect and this place keeps dialect-independent text (use sa.text(...))",
                ));
            }
            all(args)
        }
        Expr::Binary { left, right, .. } => all(&[(**left).clone(), (**right).clone()]),
        Expr::In { expr, values, .. } => {
            check_portable(expr, ctx)?;
            all(values)
        }
        Expr::IsNull { expr, .. }
        | Expr::Not(expr)
        | Expr::Label { expr, .. }
        | Expr::Order { expr, .. } => check_portable(expr, ctx),
        Expr::And(items) | Expr::Or(items) | Expr::Tuple(items) => all(items),
        _ => Ok(()),
    }
}

/// The parameter names of `sa.text()` SQL, as SQLAlchemy finds them: `:name` not preceded by
/// `:`, a word character or a backslash, and not followed by `:` or a word character. Returns
/// the pieces of text between them; a backslash-escaped colon becomes a plain colon.
fn text_params(sql: &str) -> Vec<TextPiece> {
    let chars: Vec<char> = sql.chars().collect();
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && chars.get(i + 1) == Some(&':') {
            plain.push(':');
            i += 2;
            continue;
        }
        if c == ':' {
            let prev_ok =
                i == 0 || !(chars[i - 1] == ':' || word(chars[i - 1]) || chars[i - 1] == '\\');
            let mut j = i + 1;
            while j < chars.len() && word(chars[j]) {
                j += 1;
            }
            let next_ok = chars.get(j) != Some(&':');
            if prev_ok && j > i + 1 && next_ok {
                out.push(TextPiece::Plain(std::mem::take(&mut plain)));
                out.push(TextPiece::Param(chars[i + 1..j].iter().collect()));
                i = j;
                continue;
            }
        }
        plain.push(c);
        i += 1;
    }
    out.push(TextPiece::Plain(plain));
    out
}

enum TextPiece {
    Plain(String),
    Param(String),
}

/// `sa.text()` SQL with its bound values written in as literals (what SQLAlchemy emits with
/// `literal_binds`, as offline mode does).
pub(crate) fn text_sql(text: &str, binds: &[(String, Literal)], ctx: &Ctx) -> Result<String> {
    let mut out = String::new();
    for piece in text_params(text) {
        match piece {
            TextPiece::Plain(s) => out += &s,
            TextPiece::Param(name) => match binds.iter().rev().find(|(n, _)| *n == name) {
                Some((_, lit @ (Literal::Bool(_) | Literal::UtcNow))) => {
                    match crate::compile::session::session_dialect(ctx) {
                    Some(d) => out += &d.data_literal(lit),
                    None => return Err(ctx.native_unsupported("sqlalchemy.text", format!("a boolean or current-time value for `:{name}` outside a compile session (its spelling differs per dialect)"))),
                    }
                }
                Some((_, lit)) => out += &crate::dialect::literal(lit, generic_bool),
                None => {
                    return Err(ctx.native_error(
                        "sqlalchemy.text",
                        format!("no value for the parameter `:{name}` (values given at execution are {DATA_MIGRATION})"),
                    ))
                }
            },
        }
    }
    Ok(out)
}

fn generic_bool(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// An expression as the IR's `SqlExpr`.
pub(crate) fn lower(e: &Expr, ctx: &Ctx) -> Result<SqlExpr> {
    Ok(match e {
        Expr::Column(c) => SqlExpr::Column {
            table: c.table_name(),
            name: c.resolved_name(ctx)?,
        },
        Expr::Value(l) => SqlExpr::Literal { value: l.clone() },
        Expr::Bind {
            name,
            value: Some(v),
            expanding: false,
        } => {
            let _ = name;
            SqlExpr::Literal { value: v.clone() }
        }
        Expr::Bind { name, .. } => {
            return Err(ctx.native_error(
                "sqlalchemy.bindparam",
                format!(
                    "`{name}` has no value: a statement run with parameters is {DATA_MIGRATION}"
                ),
            ))
        }
        Expr::Text { text, binds } => SqlExpr::Sql {
            text: text_sql(text, binds, ctx)?,
        },
        Expr::Raw(text) => SqlExpr::Sql { text: text.clone() },
        Expr::Bool(b) => SqlExpr::Literal {
            value: Literal::Bool(*b),
        },
        Expr::Null => SqlExpr::Literal {
            value: Literal::Null,
        },
        Expr::Binary { op, left, right } => SqlExpr::Binary {
            op: *op,
            left: Box::new(lower(left, ctx)?),
            right: Box::new(lower(right, ctx)?),
        },
        Expr::In {
            expr,
            values,
            negate,
        } => lower_in(expr, values, *negate, ctx)?,
        Expr::IsNull { expr, negate } => SqlExpr::IsNull {
            expr: Box::new(lower(expr, ctx)?),
            negate: *negate,
        },
        Expr::And(items) => SqlExpr::And {
            items: lower_all(items, ctx)?,
        },
        Expr::Or(items) => SqlExpr::Or {
            items: lower_all(items, ctx)?,
        },
        Expr::Not(inner) => SqlExpr::Not {
            expr: Box::new(lower(inner, ctx)?),
        },
        Expr::Func { name, args } => lower_func(name, args, ctx)?,
        Expr::Label { expr, .. } => lower(expr, ctx)?,
        Expr::Tuple(_) => {
            return Err(ctx.native_unsupported("sqlalchemy.tuple_", "a tuple in a statement"))
        }
        Expr::Order { desc, .. } => {
            let dir = if *desc { "DESC" } else { "ASC" };
            return Err(ctx.native_unsupported(
                "sqlalchemy",
                format!("an ORDER BY ... {dir} term outside a query"),
            ));
        }
        Expr::Query(what) => {
            return Err(ctx.native_unsupported(
                "sqlalchemy",
                format!("reading rows with {what} ({DATA_MIGRATION})"),
            ))
        }
    })
}

/// Each of `items` as the IR's `SqlExpr`.
fn lower_all(items: &[Expr], ctx: &Ctx) -> Result<Vec<SqlExpr>> {
    items.iter().map(|i| lower(i, ctx)).collect()
}

/// `expr [NOT] IN (values...)`; an empty list is refused.
fn lower_in(expr: &Expr, values: &[Expr], negate: bool, ctx: &Ctx) -> Result<SqlExpr> {
    if values.is_empty() {
        return Err(ctx.native_unsupported("ColumnOperators.in_", "an empty IN list"));
    }
    Ok(SqlExpr::InList {
        expr: Box::new(lower(expr, ctx)?),
        values: lower_all(values, ctx)?,
        negate,
    })
}

/// A function call: an ANSI function without arguments is its bare upper-case name (as
/// SQLAlchemy renders it), any other a call.
fn lower_func(name: &str, args: &[Expr], ctx: &Ctx) -> Result<SqlExpr> {
    if args.is_empty() && ANSI_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str()) {
        return Ok(SqlExpr::Sql {
            text: name.to_ascii_uppercase(),
        });
    }
    Ok(SqlExpr::Func {
        name: name.to_string(),
        args: lower_all(args, ctx)?,
    })
}

fn generic_quote(ident: &str) -> String {
    if needs_quotes(ident, &[]) {
        format!("\"{}\"", ident.replace('"', "\"\""))
    } else {
        ident.to_string()
    }
}

/// An expression as generic SQL text, column names unqualified (as in a CHECK constraint).
pub(crate) fn render(e: &Expr, ctx: &Ctx) -> Result<String> {
    check_portable(e, ctx)?;
    let lowered = lower(e, ctx)?;
    let writer = ExprWriter {
        quote: &generic_quote,
        literal: |v| crate::dialect::literal(v, generic_bool),
        qualify: false,
    };
    Ok(writer.expr(&lowered))
}
