//! `op.create_index`, `op.drop_index` and the constraint operations.

use super::*;

impl Operations {
    /// `op.create_index(...)`.
    pub(super) fn call_create_index(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let s = self.shift();
        let index_name = opt_string(a.take(0, "index_name"), what, ctx)?;
        let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
        let columns = a.required(s + 1, "columns", ctx)?;
        let unique = opt_bool(a.keyword("unique"), what, ctx)?.unwrap_or(false);
        no_schema(&mut a, what, ctx)?;
        let if_not_exists = opt_bool(a.keyword("if_not_exists"), what, ctx)?;
        let mut parts = Vec::new();
        let items = match &columns {
            Value::Str(_) => vec![columns.clone()],
            other => ctx.iterate(other)?,
        };
        for item in items {
            parts.push(match item.as_str() {
                Some(c) => IndexPart::Column(c.to_string()),
                None => match sa::column_name(&item) {
                    Some(c) => IndexPart::Column(c),
                    None => IndexPart::Expression(sa::to_sql_text(&item, ctx)?),
                },
            });
        }
        let mut dialect_options = Vec::new();
        for (k, v) in a.rest_keywords() {
            dialect_options.push((k.clone(), sa::to_dialect_option(&k, &v, ctx)?));
        }
        let name = match index_name {
            Some(n) => n,
            None => {
                return Err(ctx.native_error(
                    what,
                    "an index needs a name (no naming convention applies here)",
                ))
            }
        };
        if if_not_exists == Some(true) && self.has_index(Some(&table), &name) {
            a.finish(ctx)?;
            return Ok(Call::Return(Value::None));
        }
        let op = Op::CreateIndex {
            index: Index {
                name,
                table,
                parts,
                unique,
                dialect_options,
            },
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.drop_index(...)`.
    pub(super) fn call_drop_index(&self, mut a: Args, what: &str, ctx: &mut Ctx) -> Result<Call> {
        let index_name = string(&a.required(0, "index_name", ctx)?, what, ctx)?;
        let table = match &self.batch {
            Some(b) => Some(b.borrow().table.clone()),
            None => opt_string(a.take(1, "table_name"), what, ctx)?,
        };
        no_schema(&mut a, what, ctx)?;
        let if_exists = opt_bool(a.keyword("if_exists"), what, ctx)?;
        for (k, _) in a.rest_keywords() {
            if !(k.starts_with("mysql_")
                || k.starts_with("postgresql_")
                || k.starts_with("sqlite_"))
            {
                return Err(ctx.native_unsupported(what, format!("keyword argument `{k}`")));
            }
        }
        if if_exists == Some(true) && !self.has_index(table.as_deref(), &index_name) {
            a.finish(ctx)?;
            return Ok(Call::Return(Value::None));
        }
        let op = Op::DropIndex {
            table,
            name: index_name,
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.create_foreign_key(...)`.
    pub(super) fn call_create_foreign_key(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        let s = self.shift();
        let name = opt_string(a.take(0, "constraint_name"), what, ctx)?;
        let table = self.table_arg(&mut a, 1, "source_table", ctx)?;
        let ref_table = string(&a.required(s + 1, "referent_table", ctx)?, what, ctx)?;
        let columns = names(&a.required(s + 2, "local_cols", ctx)?, what, ctx)?;
        let ref_columns = names(&a.required(s + 3, "remote_cols", ctx)?, what, ctx)?;
        let fk = ForeignKey {
            name,
            columns,
            ref_table,
            ref_columns,
            ondelete: opt_string(a.keyword("ondelete"), what, ctx)?,
            onupdate: opt_string(a.keyword("onupdate"), what, ctx)?,
            deferrable: opt_bool(a.keyword("deferrable"), what, ctx)?,
            initially: opt_string(a.keyword("initially"), what, ctx)?,
        };
        // `use_alter` only keeps a key out of CREATE TABLE: an added key is an ALTER already
        // (or, in a SQLite batch, part of the rebuilt table, where SQLite has it inline).
        opt_bool(a.keyword("use_alter"), what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        if let Some(m) = a.keyword("match") {
            if !m.is_none() {
                return Err(ctx.native_unsupported(what, "`match=`"));
            }
        }
        let op = Op::AddConstraint {
            table,
            constraint: Constraint::ForeignKey(fk),
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.create_primary_key(...)`.
    pub(super) fn call_create_primary_key(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        let s = self.shift();
        let name = opt_string(a.take(0, "constraint_name"), what, ctx)?;
        let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
        let columns = names(&a.required(s + 1, "columns", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let op = Op::AddConstraint {
            table,
            constraint: Constraint::PrimaryKey { name, columns },
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.create_unique_constraint(...)`.
    pub(super) fn call_create_unique_constraint(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        let s = self.shift();
        let name = opt_string(a.take(0, "constraint_name"), what, ctx)?;
        let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
        let columns = names(&a.required(s + 1, "columns", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let _ = a.keyword("deferrable");
        let _ = a.keyword("initially");
        let op = Op::AddConstraint {
            table,
            constraint: Constraint::Unique { name, columns },
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.create_check_constraint(...)`.
    pub(super) fn call_create_check_constraint(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        let s = self.shift();
        let name = opt_string(a.take(0, "constraint_name"), what, ctx)?;
        let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
        let condition = a.required(s + 1, "condition", ctx)?;
        let sqltext = match condition.as_str() {
            Some(text) => text.to_string(),
            None => sa::to_sql_text(&condition, ctx)?,
        };
        no_schema(&mut a, what, ctx)?;
        let op = Op::AddConstraint {
            table,
            constraint: Constraint::Check { name, sqltext },
        };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }

    /// `op.drop_constraint(...)`.
    pub(super) fn call_drop_constraint(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        let s = self.shift();
        let name = string(&a.required(0, "constraint_name", ctx)?, what, ctx)?;
        let table = self.table_arg(&mut a, 1, "table_name", ctx)?;
        let kind = match opt_string(a.take(s + 1, "type_"), what, ctx)?.as_deref() {
            None => None,
            Some("primary") => Some(ConstraintKind::PrimaryKey),
            Some("foreignkey") => Some(ConstraintKind::ForeignKey),
            Some("unique") => Some(ConstraintKind::Unique),
            Some("check") => Some(ConstraintKind::Check),
            Some(other) => {
                return Err(ctx.native_error(what, format!("unknown constraint type_ '{other}'")))
            }
        };
        no_schema(&mut a, what, ctx)?;
        let _ = a.keyword("if_exists");
        let op = Op::DropConstraint { table, name, kind };
        a.finish(ctx)?;
        Ok(Call::Emit(Box::new(op)))
    }
}
