//! SQL text read back with `sqlparser`: splitting the text a script hands to `op.execute`
//! into statements, and reading what a DDL statement creates, drops or renames (its effects on
//! the schema objects a live database can be asked about: `effects`).
//!
//! The parser is used to *read*, never to rewrite: a split keeps the script's own text, and
//! text the parser does not understand passes through verbatim (a trigger body, a vendor
//! extension), so a parser gap can never change what runs.

use sqlparser::ast::{ColumnOption, Ident, ObjectName, Statement, TableConstraint};
use sqlparser::dialect::{
    Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect,
};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

pub use crate::schema::effect::{Effect, Object, Reading, State};

mod effects;
mod model;
pub use effects::read_statement;
pub use model::model_ops;

/// The database family whose SQL grammar to read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Sqlite,
    Postgres,
    Mysql,
}

impl Family {
    /// From a dialect name (`sqlite`, `postgresql`, `mysql`, `mariadb`).
    pub fn from_dialect(name: &str) -> Family {
        match name {
            "sqlite" => Family::Sqlite,
            "postgresql" | "postgres" => Family::Postgres,
            _ => Family::Mysql,
        }
    }

    /// The grammar `database` is read with.
    pub fn of(database: crate::dialect::Database) -> Family {
        use crate::dialect::Database;
        match database {
            Database::Sqlite => Family::Sqlite,
            Database::Postgresql => Family::Postgres,
            Database::Mysql | Database::Mariadb => Family::Mysql,
        }
    }

    fn parser(self) -> Box<dyn ParserDialect> {
        match self {
            Family::Sqlite => Box::new(SQLiteDialect {}),
            Family::Postgres => Box::new(PostgreSqlDialect {}),
            Family::Mysql => Box::new(MySqlDialect {}),
        }
    }
}

fn parse(family: Family, sql: &str) -> Option<Vec<Statement>> {
    Parser::parse_sql(&*family.parser(), sql).ok()
}

/// The statement behind MariaDB's `SET STATEMENT var=value[, ...] FOR` prefix (settings that
/// last for that one statement), or `sql` itself.
pub fn without_statement_settings(sql: &str, family: Family) -> &str {
    let trimmed = sql.trim_start();
    let words: Vec<&str> = trimmed.split_whitespace().take(2).collect();
    if family != Family::Mysql
        || words.len() < 2
        || !words[0].eq_ignore_ascii_case("SET")
        || !words[1].eq_ignore_ascii_case("STATEMENT")
    {
        return sql;
    }
    // The first `FOR` outside quotes ends the settings.
    let bytes = trimmed.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' || c == b'`' => quote = Some(c),
            None if c.is_ascii_whitespace()
                && bytes.len() > i + 4
                && bytes[i + 1..i + 4].eq_ignore_ascii_case(b"FOR")
                && bytes[i + 4].is_ascii_whitespace() =>
            {
                return trimmed[i + 4..].trim_start();
            }
            None => {}
        }
        i += 1;
    }
    sql
}

/// Whether `sql` (one statement) changes rows: INSERT, UPDATE or DELETE, also behind a `WITH`
/// (`WITH batch AS (SELECT ...) UPDATE ...`). A query, or text the parser cannot read whose
/// first word is not one of those, does not.
pub fn changes_rows(sql: &str, family: Family) -> bool {
    let sql = without_statement_settings(sql, family);
    let head = sql.trim_start().to_ascii_uppercase();
    if ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|k| head.starts_with(k))
    {
        return true;
    }
    if !head.starts_with("WITH") {
        return false;
    }
    match parse(family, sql).as_deref() {
        Some([Statement::Query(q)]) => matches!(
            *q.body,
            sqlparser::ast::SetExpr::Update(_)
                | sqlparser::ast::SetExpr::Insert(_)
                | sqlparser::ast::SetExpr::Delete(_)
        ),
        _ => false,
    }
}

/// The tables a plain query reads rows from, when it is one `SELECT` whose rows all come from
/// them: columns or `*` selected (no aggregate, no function, which could make a row of an empty
/// table), no grouping, every source a table (joined or listed). A query over tables that hold
/// no row then gives none. `None` for anything else.
pub fn plain_select_tables(sql: &str, family: Family) -> Option<Vec<String>> {
    use sqlparser::ast::{SetExpr, TableFactor};
    let statements = parse(family, sql)?;
    let [Statement::Query(q)] = statements.as_slice() else {
        return None;
    };
    if q.with.is_some() {
        return None;
    }
    let SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    if !columns_only(select) || select.from.is_empty() {
        return None;
    }
    let mut tables = Vec::new();
    for source in &select.from {
        for factor in
            std::iter::once(&source.relation).chain(source.joins.iter().map(|j| &j.relation))
        {
            match factor {
                TableFactor::Table { name, .. } => tables.push(last_ident(name)),
                _ => return None,
            }
        }
    }
    Some(tables)
}

/// Whether `select` gives columns (or `*`) as they are, ungrouped: no aggregate or function,
/// which could make a row of an empty table.
fn columns_only(select: &sqlparser::ast::Select) -> bool {
    use sqlparser::ast::{Expr, GroupByExpr, SelectItem};
    let plain = |e: &Expr| matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
    let columns = select.projection.iter().all(|item| match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => plain(e),
        SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => true,
        _ => false,
    });
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        || select.having.is_some();
    columns && !grouped
}

/// Split `text` into its statements, each the original text between top-level `;`. Only when
/// the parser reads the whole text as exactly that many statements; otherwise (one statement,
/// or text it cannot read) the text is returned exactly as it is.
pub fn split_statements(text: &str, family: Family) -> Vec<String> {
    let verbatim = || vec![text.to_string()];
    let dialect = family.parser();
    let Ok(tokens) = Tokenizer::new(&*dialect, text).tokenize_with_location() else {
        return verbatim();
    };
    // Byte offsets of the top-level semicolons (the tokenizer already skips those inside
    // strings, quoted names and comments).
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |line: u64, column: u64| -> Option<usize> {
        let start = *line_starts.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let col = usize::try_from(column).ok()?.checked_sub(1)?;
        // Columns count characters.
        text[start..]
            .char_indices()
            .nth(col)
            .map(|(i, _)| start + i)
    };
    let mut cuts = Vec::new();
    for t in &tokens {
        if t.token == Token::SemiColon {
            let Some(at) = offset(t.span.start.line, t.span.start.column) else {
                return verbatim();
            };
            cuts.push(at);
        }
    }
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain(std::iter::once(text.len())) {
        let piece = text[from..cut].trim();
        if !piece.is_empty() {
            pieces.push(piece.to_string());
        }
        from = (cut + 1).min(text.len());
    }
    if pieces.len() < 2 {
        return verbatim();
    }
    match parse(family, text) {
        Some(stmts) if stmts.len() == pieces.len() => pieces,
        _ => verbatim(),
    }
}

/// Normalize a CHECK clause for comparison with what a server reports: no quotes around
/// names, no spaces, lower case.
pub fn normalize_check(clause: &str) -> String {
    let mut s: String = clause
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '`' && *c != '"')
        .collect::<String>()
        .to_lowercase();
    while s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
        s = s[1..s.len() - 1].to_string();
    }
    s
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn last_ident(name: &ObjectName) -> String {
    name.0
        .last()
        .map(|p| match p.as_ident() {
            Some(i) => i.value.clone(),
            None => p.to_string(),
        })
        .unwrap_or_default()
}

/// The constraints a `CREATE TABLE` statement declares at table level, and a primary key
/// declared on a column: what SQLite keeps of them (only in the table's SQL text), read back
/// for the live schema. CHECK clauses are normalized as effects name them.
pub fn table_constraints(sql: &str, family: Family) -> Vec<crate::ir::Constraint> {
    use crate::ir::{Constraint, ForeignKey};
    let Some(stmts) = parse(family, sql) else {
        return Vec::new();
    };
    let Some(Statement::CreateTable(ct)) = stmts.first() else {
        return Vec::new();
    };
    let name = |n: &Option<Ident>| n.as_ref().map(|i| i.value.clone());
    let names = |cols: &[Ident]| cols.iter().map(|i| i.value.clone()).collect::<Vec<_>>();
    let mut out: Vec<Constraint> = ct
        .columns
        .iter()
        .filter(|col| {
            col.options
                .iter()
                .any(|o| matches!(o.option, ColumnOption::PrimaryKey(_)))
        })
        .map(|col| Constraint::PrimaryKey {
            name: None,
            columns: vec![col.name.value.clone()],
        })
        .collect();
    for c in &ct.constraints {
        out.push(match c {
            TableConstraint::PrimaryKey(pk) => Constraint::PrimaryKey {
                name: name(&pk.name),
                columns: pk.columns.iter().map(|c| unquote(c.to_string())).collect(),
            },
            TableConstraint::Unique(u) => Constraint::Unique {
                name: name(&u.name),
                columns: u.columns.iter().map(|c| unquote(c.to_string())).collect(),
            },
            TableConstraint::ForeignKey(fk) => Constraint::ForeignKey(ForeignKey {
                name: name(&fk.name),
                columns: names(&fk.columns),
                ref_table: last_ident(&fk.foreign_table),
                ref_columns: names(&fk.referred_columns),
                ondelete: None,
                onupdate: None,
                deferrable: None,
                initially: None,
            }),
            TableConstraint::Check(ck) => Constraint::Check {
                name: name(&ck.name),
                sqltext: normalize_check(&ck.expr.to_string()),
            },
            _ => continue,
        });
    }
    out
}

fn unquote(s: String) -> String {
    s.trim_matches(|c| c == '`' || c == '"').to_string()
}

#[cfg(test)]
mod tests;
