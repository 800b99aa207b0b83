//! Loops that drain a batched statement: `while True: r = conn.execute(s)` then
//! `if r.rowcount <= 0: break` (or `== 0`, `< 1`). Each pass runs the same statement until one
//! changes no row; when the result can say so (`Native::repeat_until_no_rows`), the loop is
//! that one statement, run once here and repeated by whoever runs it. Any other loop, or a
//! result that cannot, runs as Python runs it.

use crate::script::ast::{CmpOp, Expr, ExprKind, Stmt, StmtKind};

/// The assignment target and value of a draining loop's first statement, when `test` and `body`
/// have that exact shape.
pub(crate) fn shape<'a>(test: &Expr, body: &'a [Stmt]) -> Option<(&'a Expr, &'a Expr)> {
    if !matches!(test.kind, ExprKind::Bool(true) | ExprKind::Int(1)) {
        return None;
    }
    let [assign, check] = body else {
        return None;
    };
    let StmtKind::Assign { targets, value } = &assign.kind else {
        return None;
    };
    let [target] = targets.as_slice() else {
        return None;
    };
    let ExprKind::Name(name) = &target.kind else {
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
    (breaks && orelse.is_empty() && counts_none(cond, name)).then_some((target, value))
}

/// `name.rowcount <= 0`, `name.rowcount == 0` or `name.rowcount < 1`.
fn counts_none(cond: &Expr, name: &str) -> bool {
    let ExprKind::Compare {
        left,
        ops,
        comparators,
    } = &cond.kind
    else {
        return false;
    };
    let rowcount = matches!(&left.kind, ExprKind::Attribute { value, attr }
        if attr == "rowcount" && matches!(&value.kind, ExprKind::Name(n) if n == name));
    let bound = match (ops.as_slice(), comparators.as_slice()) {
        ([CmpOp::LtE | CmpOp::Eq], [e]) => matches!(e.kind, ExprKind::Int(0)),
        ([CmpOp::Lt], [e]) => matches!(e.kind, ExprKind::Int(1)),
        _ => false,
    };
    rowcount && bound
}
