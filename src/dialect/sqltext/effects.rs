//! What a statement does to the schema objects a live database can be asked about: tables,
//! columns, indexes, constraints, primary keys, rows (read once, when a statement is made;
//! see [`crate::plan::Statement`]).

use sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnOption, CreateTable, Ident, ObjectName, ObjectType,
    Statement, TableConstraint,
};

use super::{
    columns_only, last_ident, normalize_check, parse, unquote, without_statement_settings, Family,
};
use super::{Effect, Object, Reading, State};

/// The one table whose every row `query` selects, column by column (a batch rebuild's copy:
/// it gives rows exactly when that table holds some).
fn whole_copy_of(query: &sqlparser::ast::Query) -> Option<String> {
    use sqlparser::ast::{SetExpr, TableFactor};
    if query.with.is_some() || query.limit_clause.is_some() || query.fetch.is_some() {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if !columns_only(select)
        || select.distinct.is_some()
        || select.selection.is_some()
        || select.from.len() != 1
        || !select.from[0].joins.is_empty()
    {
        return None;
    }
    match &select.from[0].relation {
        TableFactor::Table { name, .. } => Some(last_ident(name)),
        _ => None,
    }
}

fn constraint_effects(table: &str, c: &TableConstraint, out: &mut Vec<Effect>) {
    let set = |o: Object, s: State| Effect::Set(o, s);
    match c {
        TableConstraint::PrimaryKey(pk) => out.push(set(
            Object::PrimaryKey(table.into()),
            State::Columns(
                pk.columns
                    .iter()
                    .map(|c| c.to_string())
                    .map(unquote)
                    .collect(),
            ),
        )),
        TableConstraint::Unique(u) => {
            if let Some(n) = &u.name {
                out.push(set(
                    Object::Constraint(table.into(), n.value.clone()),
                    State::Present,
                ));
            }
        }
        TableConstraint::ForeignKey(fk) => {
            if let Some(n) = &fk.name {
                out.push(set(
                    Object::Constraint(table.into(), n.value.clone()),
                    State::Present,
                ));
            }
        }
        TableConstraint::Check(ck) => match &ck.name {
            Some(n) => out.push(set(
                Object::Constraint(table.into(), n.value.clone()),
                State::Present,
            )),
            None => out.push(set(
                Object::Check(table.into(), normalize_check(&ck.expr.to_string())),
                State::Present,
            )),
        },
        _ => {}
    }
}

fn create_table_effects(ct: &CreateTable) -> Reading {
    let table = last_ident(&ct.name);
    if ct.temporary {
        return Reading::Effects(vec![Effect::Temporary(table)]);
    }
    if ct.if_not_exists {
        return Reading::Idempotent;
    }
    let mut out = vec![Effect::Set(Object::Table(table.clone()), State::Present)];
    for col in &ct.columns {
        out.push(Effect::Set(
            Object::Column(table.clone(), col.name.value.clone()),
            State::Present,
        ));
        for opt in &col.options {
            if let ColumnOption::PrimaryKey(_) = &opt.option {
                out.push(Effect::Set(
                    Object::PrimaryKey(table.clone()),
                    State::Columns(vec![col.name.value.clone()]),
                ));
            }
        }
    }
    for c in &ct.constraints {
        constraint_effects(&table, c, &mut out);
    }
    Reading::Effects(out)
}

/// Read what one statement does to the schema.
pub fn read_statement(sql: &str, family: Family) -> Reading {
    let sql = without_statement_settings(sql, family);
    let Some(stmts) = parse(family, sql) else {
        return Reading::Unknown;
    };
    let mut effects = Vec::new();
    let mut idempotent = false;
    for stmt in &stmts {
        match read_one(stmt) {
            Reading::Effects(e) => effects.extend(e),
            Reading::Idempotent => idempotent = true,
            other => return other,
        }
    }
    if effects.is_empty() && idempotent {
        Reading::Idempotent
    } else {
        Reading::Effects(effects)
    }
}

/// Read what one parsed statement does to the schema.
fn read_one(stmt: &Statement) -> Reading {
    let set = |o: Object, s: State| Effect::Set(o, s);
    match stmt {
        Statement::Insert(ins) => match &ins.table {
            sqlparser::ast::TableObject::TableName(n) => {
                let values = ins
                    .source
                    .as_ref()
                    .is_some_and(|q| matches!(*q.body, sqlparser::ast::SetExpr::Values(_)));
                Reading::Effects(vec![match values {
                    true => set(Object::Rows(last_ident(n)), State::Present),
                    false => Effect::Fill {
                        table: last_ident(n),
                        copy_of: ins.source.as_deref().and_then(whole_copy_of),
                    },
                }])
            }
            _ => Reading::Data,
        },
        Statement::Update(_) | Statement::Delete(_) => Reading::Data,
        Statement::CreateTable(ct) => create_table_effects(ct),
        Statement::CreateIndex(ci) => {
            if ci.if_not_exists {
                return Reading::Idempotent;
            }
            match &ci.name {
                Some(n) => Reading::Effects(vec![set(
                    Object::Index(last_ident(&ci.table_name), last_ident(n)),
                    State::Present,
                )]),
                None => Reading::Unknown,
            }
        }
        Statement::CreateTrigger(t) => Reading::Effects(vec![set(
            Object::Trigger(last_ident(&t.name)),
            State::Present,
        )]),
        Statement::DropTrigger(t) => {
            if t.if_exists {
                return Reading::Idempotent;
            }
            Reading::Effects(vec![set(
                Object::Trigger(last_ident(&t.trigger_name)),
                State::Absent,
            )])
        }
        Statement::Drop {
            object_type,
            if_exists,
            names,
            table,
            ..
        } => drop_effects(*object_type, *if_exists, names, table.as_ref()),
        Statement::AlterTable(at) => alter_table_effects(at),
        Statement::RenameTable(renames) => Reading::Effects(
            renames
                .iter()
                .map(|r| Effect::RenameTable {
                    from: last_ident(&r.old_name),
                    to: last_ident(&r.new_name),
                })
                .collect(),
        ),
        _ => Reading::Unknown,
    }
}

/// What a `DROP TABLE` or `DROP INDEX` of `names` does (`table`: the index's table on MySQL);
/// `Unknown` for any other kind of object.
fn drop_effects(
    object_type: ObjectType,
    if_exists: bool,
    names: &[ObjectName],
    table: Option<&ObjectName>,
) -> Reading {
    if if_exists {
        return Reading::Idempotent;
    }
    let mut out = Vec::new();
    for n in names {
        match object_type {
            ObjectType::Table => out.push(Effect::DropTable(last_ident(n))),
            ObjectType::Index => out.push(Effect::Set(
                Object::Index(table.map(last_ident).unwrap_or_default(), last_ident(n)),
                State::Absent,
            )),
            _ => return Reading::Unknown,
        }
    }
    Reading::Effects(out)
}

/// What an `ALTER TABLE` does: its operations' effects together, `Idempotent` when all of them
/// are, `Unknown` as soon as one cannot be read.
fn alter_table_effects(at: &AlterTable) -> Reading {
    let table = last_ident(&at.name);
    let mut out = Vec::new();
    let mut idempotent = false;
    for op in &at.operations {
        let reading = alter_column_op(&table, op)
            .or_else(|| alter_constraint_op(&table, op))
            .unwrap_or(Reading::Unknown);
        match reading {
            Reading::Effects(e) => out.extend(e),
            Reading::Idempotent => idempotent = true,
            other => return other,
        }
    }
    if out.is_empty() && idempotent {
        Reading::Idempotent
    } else if out.is_empty() {
        Reading::Unknown
    } else {
        Reading::Effects(out)
    }
}

/// What one column operation of an `ALTER TABLE` on `table` does (add, drop, rename, change,
/// modify); `None` when `op` is not a column operation.
fn alter_column_op(table: &str, op: &AlterTableOperation) -> Option<Reading> {
    let column =
        |c: &Ident, s: State| Effect::Set(Object::Column(table.into(), c.value.clone()), s);
    let reading = match op {
        AlterTableOperation::AddColumn {
            column_def,
            if_not_exists,
            ..
        } => {
            if *if_not_exists {
                Reading::Idempotent
            } else {
                Reading::Effects(vec![column(&column_def.name, State::Present)])
            }
        }
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            if *if_exists {
                Reading::Idempotent
            } else {
                Reading::Effects(
                    column_names
                        .iter()
                        .map(|c| column(c, State::Absent))
                        .collect(),
                )
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => Reading::Effects(vec![
            column(old_column_name, State::Absent),
            column(new_column_name, State::Present),
        ]),
        AlterTableOperation::ChangeColumn {
            old_name, new_name, ..
        } => {
            if old_name.value == new_name.value {
                Reading::Idempotent
            } else {
                Reading::Effects(vec![
                    column(old_name, State::Absent),
                    column(new_name, State::Present),
                ])
            }
        }
        AlterTableOperation::ModifyColumn { .. } | AlterTableOperation::AlterColumn { .. } => {
            Reading::Idempotent
        }
        _ => return None,
    };
    Some(reading)
}

/// What one table or constraint operation of an `ALTER TABLE` on `table` does (rename the
/// table, add or drop a key, constraint or index); `None` when `op` is not one of those.
fn alter_constraint_op(table: &str, op: &AlterTableOperation) -> Option<Reading> {
    let absent = |o: Object| Reading::Effects(vec![Effect::Set(o, State::Absent)]);
    let reading = match op {
        AlterTableOperation::RenameTable { table_name } => {
            let to = match table_name {
                sqlparser::ast::RenameTableNameKind::As(n)
                | sqlparser::ast::RenameTableNameKind::To(n) => last_ident(n),
            };
            Reading::Effects(vec![Effect::RenameTable {
                from: table.into(),
                to,
            }])
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            let mut out = Vec::new();
            constraint_effects(table, constraint, &mut out);
            if out.is_empty() {
                Reading::Unknown
            } else {
                Reading::Effects(out)
            }
        }
        AlterTableOperation::DropPrimaryKey { .. } => absent(Object::PrimaryKey(table.into())),
        AlterTableOperation::DropForeignKey { name, .. } => {
            absent(Object::Constraint(table.into(), name.value.clone()))
        }
        AlterTableOperation::DropIndex { name } => {
            absent(Object::Index(table.into(), name.value.clone()))
        }
        AlterTableOperation::DropConstraint {
            name, if_exists, ..
        } => {
            if *if_exists {
                Reading::Idempotent
            } else {
                absent(Object::Constraint(table.into(), name.value.clone()))
            }
        }
        _ => return None,
    };
    Some(reading)
}
