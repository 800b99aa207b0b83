//! Loops that drain a batched statement: `while True: r = conn.execute(s)` then
//! `if r.rowcount <= 0: break` (or `== 0`, `< 1`, `< batch_size`, `<= batch_size`), with
//! assignments before the `execute` that build the statement
//! (`s = sa.text(query(batch_size))`). Each pass runs the
//! same statement until one changes fewer rows than the bound; when the result can say so
//! (`Native::repeat_while_changing`), the loop is that one statement, run once here and
//! repeated by whoever runs it. Any other loop, or a result that cannot, runs as Python runs it.

use crate::script::ast::{CmpOp, Expr, ExprKind, FStringPart, Stmt, StmtKind};

/// A draining loop's parts.
pub(crate) struct Drain<'a> {
    /// Assignments building the statement, each reading nothing the loop assigns after it
    /// (so every pass computes the same values; the caller checks they have no effect).
    pub prefix: &'a [Stmt],
    /// The first statement's assignment target and value (`r = conn.execute(s)`).
    pub target: &'a Expr,
    pub value: &'a Expr,
    /// When the loop stops.
    pub bound: Bound<'a>,
}

/// The loop stops after a pass that changes fewer rows than this.
pub(crate) enum Bound<'a> {
    Int(i64),
    /// `r.rowcount < batch_size` (or `<=`, `at_most`: one more), read when the loop starts.
    Below {
        limit: &'a Expr,
        at_most: bool,
    },
}

/// A draining loop, when `test` and `body` have that exact shape.
pub(crate) fn shape<'a>(test: &Expr, body: &'a [Stmt]) -> Option<Drain<'a>> {
    if !matches!(test.kind, ExprKind::Bool(true) | ExprKind::Int(1)) {
        return None;
    }
    let [prefix @ .., assign, check] = body else {
        return None;
    };
    let assigned: Vec<&str> = prefix
        .iter()
        .chain([assign])
        .map(assigned_name)
        .collect::<Option<_>>()?;
    let name = *assigned.last()?;
    // Each statement reads only what is assigned before it in the same pass.
    for (i, stmt) in prefix.iter().chain([assign]).enumerate() {
        let StmtKind::Assign { value, .. } = &stmt.kind else {
            return None;
        };
        if !reads_only_outside(value, &assigned[i..]) {
            return None;
        }
    }
    let StmtKind::Assign { targets, value } = &assign.kind else {
        return None;
    };
    let StmtKind::If {
        test: cond,
        body: then,
        orelse,
    } = &check.kind
    else {
        return None;
    };
    let breaks = matches!(
        then.as_slice(),
        [Stmt {
            kind: StmtKind::Break,
            ..
        }]
    );
    if !breaks || !orelse.is_empty() {
        return None;
    }
    let bound = bound(cond, name)?;
    if let Bound::Below { limit, .. } = &bound {
        if !reads_only_outside(limit, &assigned) {
            return None;
        }
    }
    Some(Drain {
        prefix,
        target: &targets[0],
        value,
        bound,
    })
}

/// The one name a plain assignment (`name = value`) binds.
fn assigned_name(stmt: &Stmt) -> Option<&str> {
    let StmtKind::Assign { targets, .. } = &stmt.kind else {
        return None;
    };
    match targets.as_slice() {
        [Expr {
            kind: ExprKind::Name(n),
            ..
        }] => Some(n),
        _ => None,
    }
}

/// Whether `e` is made of plain reads, calls and operators, and names none of `assigned`.
fn reads_only_outside(e: &Expr, assigned: &[&str]) -> bool {
    let ok = |e: &Expr| reads_only_outside(e, assigned);
    match &e.kind {
        ExprKind::Name(n) => !assigned.contains(&n.as_str()),
        ExprKind::Attribute { value, .. } | ExprKind::UnaryOp { operand: value, .. } => ok(value),
        ExprKind::Call {
            func,
            args,
            keywords,
        } => ok(func) && args.iter().all(ok) && keywords.iter().all(|k| ok(&k.value)),
        ExprKind::Str(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::None => true,
        ExprKind::FString(parts) => parts.iter().all(|p| match p {
            FStringPart::Literal(_) => true,
            FStringPart::Interpolation {
                expr, format_spec, ..
            } => format_spec.is_none() && ok(expr),
        }),
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().all(ok),
        ExprKind::BinOp { left, right, .. } => ok(left) && ok(right),
        ExprKind::Subscript { value, index } => ok(value) && ok(index),
        _ => false,
    }
}

/// `name.rowcount == 0` (a bound of 1), `name.rowcount < n` (`n`), `name.rowcount <= n`
/// (`n + 1`: Prefect's `<= batch_size`, which ends the loop after its first pass).
fn bound<'a>(cond: &'a Expr, name: &str) -> Option<Bound<'a>> {
    let ExprKind::Compare {
        left,
        ops,
        comparators,
    } = &cond.kind
    else {
        return None;
    };
    let rowcount = matches!(&left.kind, ExprKind::Attribute { value, attr }
        if attr == "rowcount" && matches!(&value.kind, ExprKind::Name(n) if n == name));
    if !rowcount {
        return None;
    }
    match (ops.as_slice(), comparators.as_slice()) {
        ([CmpOp::Eq], [e]) if matches!(e.kind, ExprKind::Int(0)) => Some(Bound::Int(1)),
        ([op @ (CmpOp::Lt | CmpOp::LtE)], [e]) => {
            let at_most = matches!(op, CmpOp::LtE);
            match e.kind {
                ExprKind::Int(n) => Some(Bound::Int(n + i64::from(at_most))),
                // A variable (`batch_size`): read once, as nothing in the loop assigns it.
                ExprKind::Name(_) => Some(Bound::Below { limit: e, at_most }),
                _ => None,
            }
        }
        _ => None,
    }
}
