use super::*;

#[test]
fn docstring_and_assignments_are_lowered_with_positions() {
    let m = parse_module("\"\"\"Add things\n\nRevises: x\n\"\"\"\nrevision = 'abc'\ndown_revision: str | None = None\n").unwrap();
    assert_eq!(m.docstring.as_deref(), Some("Add things\n\nRevises: x\n"));
    assert_eq!(m.body.len(), 3);
    assert_eq!(m.body[1].pos, Pos { line: 5, col: 1 });
    match &m.body[2].kind {
        StmtKind::AnnAssign { value: Some(v), .. } => assert_eq!(v.kind, ExprKind::None),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn deep_nesting_is_cut_off_instead_of_overflowing_the_stack() {
    let deep = format!("x = {}\n", vec!["1"; 20_000].join("+"));
    let m = parse_module(&deep).unwrap();
    fn depth(e: &Expr) -> usize {
        match &e.kind {
            ExprKind::BinOp { left, .. } => 1 + depth(left),
            _ => 0,
        }
    }
    let StmtKind::Assign { value, .. } = &m.body[0].kind else {
        panic!()
    };
    assert!(depth(value) < MAX_DEPTH + 1);
    let small = parse_module("x = 1 + 2\n").unwrap();
    assert_eq!(small.body.len(), 1);
}

#[test]
fn syntax_error_has_line_and_column() {
    let err = parse_module("revision = 'a'\ndef f(:\n    pass\n").unwrap_err();
    assert_eq!(err.pos.line, 2);
    assert_eq!(err.pos.col, 7);
}

#[test]
fn elif_chains_nest_and_fstrings_keep_parts() {
    let m =
        parse_module("if a:\n    x = 1\nelif b:\n    x = 2\nelse:\n    x = f'{y!r}-z'\n").unwrap();
    let StmtKind::If { orelse, .. } = &m.body[0].kind else {
        panic!()
    };
    let StmtKind::If { orelse: inner, .. } = &orelse[0].kind else {
        panic!()
    };
    let StmtKind::Assign { value, .. } = &inner[0].kind else {
        panic!()
    };
    let ExprKind::FString(parts) = &value.kind else {
        panic!()
    };
    assert_eq!(parts.len(), 2);
    assert!(matches!(
        &parts[0],
        FStringPart::Interpolation {
            conversion: Some('r'),
            ..
        }
    ));
    assert_eq!(parts[1], FStringPart::Literal("-z".into()));
}
