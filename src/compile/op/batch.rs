//! `op.batch_alter_table(...)`: the context manager whose `batch_op` collects operations
//! until the block ends, then emits them as one batch.

use super::*;

/// `with op.batch_alter_table(...) as batch_op:`.
#[derive(Debug)]
struct BatchContext {
    session: Shared,
    batch: Rc<RefCell<Batch>>,
}

impl Operations {
    /// `op.batch_alter_table(...)`.
    pub(super) fn call_batch_alter_table(
        &self,
        mut a: Args,
        what: &str,
        ctx: &mut Ctx,
    ) -> Result<Call> {
        if self.batch.is_some() {
            return Err(ctx.native_unsupported(what, "a batch inside a batch"));
        }
        let table = string(&a.required(0, "table_name", ctx)?, what, ctx)?;
        no_schema(&mut a, what, ctx)?;
        let recreate = match opt_string(a.take(2, "recreate"), what, ctx)?.as_deref() {
            None | Some("auto") => Recreate::Auto,
            Some("always") => Recreate::Always,
            Some("never") => Recreate::Never,
            Some(other) => {
                return Err(ctx.native_error(
                    what,
                    format!("recreate may be 'auto', 'always' or 'never', not '{other}'"),
                ))
            }
        };
        let mut batch = Batch {
            table: table.clone(),
            recreate,
            naming_convention: Vec::new(),
            table_args: Vec::new(),
            partial_reordering: Vec::new(),
            ops: Vec::new(),
        };
        if let Some(nc) = a.keyword("naming_convention") {
            if let Value::Dict(d) = &nc {
                let pairs: Vec<(Value, Value)> = d
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, v) in pairs {
                    let k = string(&k, what, ctx)?;
                    batch.naming_convention.push((k, string(&v, what, ctx)?));
                }
            } else if !nc.is_none() {
                return Err(ctx.native_error(what, "naming_convention must be a dict"));
            }
        }
        if let Some(ta) = a.keyword("table_args") {
            for item in ctx.iterate(&ta)? {
                batch
                    .table_args
                    .push(sa::to_constraint(&item, Some(&table), ctx)?);
            }
        }
        if let Some(pr) = a.keyword("partial_reordering") {
            if !pr.is_none() {
                for group in ctx.iterate(&pr)? {
                    batch.partial_reordering.push(names(&group, what, ctx)?);
                }
            }
        }
        for key in [
            "copy_from",
            "reflect_args",
            "reflect_kwargs",
            "table_kwargs",
        ] {
            if let Some(v) = a.keyword(key) {
                let empty = v.is_none() || ctx.iterate(&v).map(|i| i.is_empty()).unwrap_or(false);
                if !empty {
                    return Err(ctx.native_unsupported(what, format!("`{key}=`")));
                }
            }
        }
        a.finish(ctx)?;
        Ok(Call::Return(Value::native(BatchContext {
            session: self.session.clone(),
            batch: Rc::new(RefCell::new(batch)),
        })))
    }
}

impl Native for BatchContext {
    fn type_name(&self) -> &str {
        "BatchOperations context"
    }

    fn enter(&self, _ctx: &mut Ctx) -> Result<Value> {
        Ok(Value::native(Operations {
            session: self.session.clone(),
            batch: Some(self.batch.clone()),
        }))
    }

    fn exit(&self, raised: Option<&Raised>, ctx: &mut Ctx) -> Result<bool> {
        if raised.is_none() {
            let batch = self.batch.borrow().clone();
            self.session.emit(Op::Batch(batch), ctx)?;
        }
        Ok(false)
    }
}
