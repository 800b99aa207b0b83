//! Lowering ruff's expressions into ours (statements are lowered in `pyast`).

use ruff_python_ast as py;
use ruff_text_size::Ranged;

use super::super::ast::*;
use super::{Lower, MAX_DEPTH};

impl Lower<'_> {
    pub(super) fn exprs(&self, exprs: &[py::Expr]) -> Vec<Expr> {
        exprs.iter().map(|e| self.expr(e)).collect()
    }

    pub(super) fn boxed(&self, e: &py::Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    pub(super) fn comprehensions(&self, gens: &[py::Comprehension]) -> Option<Vec<Comprehension>> {
        gens.iter()
            .map(|g| {
                (!g.is_async).then(|| Comprehension {
                    target: self.expr(&g.target),
                    iter: self.expr(&g.iter),
                    ifs: self.exprs(&g.ifs),
                })
            })
            .collect()
    }

    pub(super) fn fstring_elements(
        &self,
        elements: &[py::InterpolatedStringElement],
    ) -> Vec<FStringPart> {
        elements
            .iter()
            .map(|el| match el {
                py::InterpolatedStringElement::Literal(l) => {
                    FStringPart::Literal(l.value.to_string())
                }
                py::InterpolatedStringElement::Interpolation(i) => FStringPart::Interpolation {
                    expr: self.expr(&i.expression),
                    conversion: i.conversion.to_char(),
                    debug_text: i.debug_text.as_ref().map(|d| {
                        let text = &self.lines.source[i.expression.range()];
                        format!("{}{}{}", d.leading(), text, d.trailing())
                    }),
                    format_spec: i
                        .format_spec
                        .as_ref()
                        .map(|spec| self.fstring_elements(&spec.elements)),
                },
            })
            .collect()
    }

    pub(super) fn expr(&self, expr: &py::Expr) -> Expr {
        if self.depth.get() >= MAX_DEPTH {
            return Expr {
                pos: self.pos(expr),
                kind: ExprKind::Unsupported("expression nested more than 200 levels deep"),
            };
        }
        self.depth.set(self.depth.get() + 1);
        let out = self.expr_inner(expr);
        self.depth.set(self.depth.get() - 1);
        out
    }

    pub(super) fn expr_inner(&self, expr: &py::Expr) -> Expr {
        let kind = match expr {
            py::Expr::Name(n) => ExprKind::Name(n.id.as_str().to_string()),
            py::Expr::Attribute(a) => ExprKind::Attribute {
                value: self.boxed(&a.value),
                attr: a.attr.as_str().to_string(),
            },
            py::Expr::Call(c) => ExprKind::Call {
                func: self.boxed(&c.func),
                args: self.exprs(&c.arguments.args),
                keywords: c
                    .arguments
                    .keywords
                    .iter()
                    .map(|k| self.keyword(k))
                    .collect(),
            },
            py::Expr::StringLiteral(s) => ExprKind::Str(s.value.to_str().to_string()),
            py::Expr::BytesLiteral(b) => ExprKind::Bytes(b.value.bytes().collect()),
            py::Expr::NumberLiteral(n) => number(&n.value),
            py::Expr::BooleanLiteral(b) => ExprKind::Bool(b.value),
            py::Expr::NoneLiteral(_) => ExprKind::None,
            py::Expr::EllipsisLiteral(_) => ExprKind::Ellipsis,
            py::Expr::FString(f) => ExprKind::FString(self.fstring(f)),
            py::Expr::TString(_) => ExprKind::Unsupported("template string (t-string)"),
            py::Expr::List(l) => ExprKind::List(self.exprs(&l.elts)),
            py::Expr::Tuple(t) => ExprKind::Tuple(self.exprs(&t.elts)),
            py::Expr::Set(s) => ExprKind::Set(self.exprs(&s.elts)),
            py::Expr::Dict(d) => ExprKind::Dict(self.dict_items(&d.items)),
            py::Expr::Starred(s) => ExprKind::Starred(self.boxed(&s.value)),
            py::Expr::BinOp(b) => ExprKind::BinOp {
                left: self.boxed(&b.left),
                op: bin_op(b.op),
                right: self.boxed(&b.right),
            },
            py::Expr::UnaryOp(u) => ExprKind::UnaryOp {
                op: unary_op(u.op),
                operand: self.boxed(&u.operand),
            },
            py::Expr::BoolOp(b) => ExprKind::BoolOp {
                op: bool_op(b.op),
                values: self.exprs(&b.values),
            },
            py::Expr::Compare(c) => ExprKind::Compare {
                left: self.boxed(&c.left),
                ops: c.ops.iter().map(|op| cmp_op(*op)).collect(),
                comparators: self.exprs(&c.comparators),
            },
            py::Expr::If(i) => ExprKind::IfExp {
                test: self.boxed(&i.test),
                body: self.boxed(&i.body),
                orelse: self.boxed(&i.orelse),
            },
            py::Expr::Lambda(l) => {
                let outer = self.yielded.get();
                let lambda = ExprKind::Lambda {
                    params: self.params(l.parameters.as_deref()),
                    body: self.boxed(&l.body),
                };
                self.yielded.set(outer);
                lambda
            }
            py::Expr::Subscript(s) => ExprKind::Subscript {
                value: self.boxed(&s.value),
                index: self.boxed(&s.slice),
            },
            py::Expr::Slice(s) => ExprKind::Slice {
                lower: s.lower.as_deref().map(|e| self.boxed(e)),
                upper: s.upper.as_deref().map(|e| self.boxed(e)),
                step: s.step.as_deref().map(|e| self.boxed(e)),
            },
            py::Expr::ListComp(c) => self.comp_expr(&c.elt, &c.generators, |elt, generators| {
                ExprKind::ListComp { elt, generators }
            }),
            py::Expr::SetComp(c) => self.comp_expr(&c.elt, &c.generators, |elt, generators| {
                ExprKind::SetComp { elt, generators }
            }),
            py::Expr::Generator(c) => self.comp_expr(&c.elt, &c.generators, |elt, generators| {
                ExprKind::GeneratorExp { elt, generators }
            }),
            py::Expr::DictComp(c) => self.dict_comp(c),
            py::Expr::Named(n) => ExprKind::Named {
                target: self.boxed(&n.target),
                value: self.boxed(&n.value),
            },
            py::Expr::Await(_) => ExprKind::Unsupported("await"),
            py::Expr::Yield(y) => {
                self.yielded.set(true);
                ExprKind::Yield(y.value.as_deref().map(|v| self.boxed(v)))
            }
            py::Expr::YieldFrom(_) => {
                self.yielded.set(true);
                ExprKind::Unsupported("yield from")
            }
            py::Expr::IpyEscapeCommand(_) => ExprKind::Unsupported("IPython escape command"),
        };
        Expr {
            pos: self.pos(expr),
            kind,
        }
    }

    /// The parts of an f-string: its plain literal pieces and its `{...}` elements, in order.
    pub(super) fn fstring(&self, f: &py::ExprFString) -> Vec<FStringPart> {
        let mut parts = Vec::new();
        for part in f.value.iter() {
            match part {
                py::FStringPart::Literal(l) => {
                    parts.push(FStringPart::Literal(l.value.to_string()))
                }
                py::FStringPart::FString(fs) => parts.extend(self.fstring_elements(&fs.elements)),
            }
        }
        parts
    }

    /// The `key: value` items of a dict display; a `**mapping` item has no key.
    pub(super) fn dict_items(&self, items: &[py::DictItem]) -> Vec<(Option<Expr>, Expr)> {
        items
            .iter()
            .map(|item| {
                (
                    item.key.as_ref().map(|k| self.expr(k)),
                    self.expr(&item.value),
                )
            })
            .collect()
    }

    /// A list, set or generator comprehension built by `make`, or unsupported when async.
    pub(super) fn comp_expr(
        &self,
        elt: &py::Expr,
        gens: &[py::Comprehension],
        make: impl FnOnce(Box<Expr>, Vec<Comprehension>) -> ExprKind,
    ) -> ExprKind {
        match self.comprehensions(gens) {
            Some(generators) => make(self.boxed(elt), generators),
            None => ExprKind::Unsupported("async comprehension"),
        }
    }

    /// A dict comprehension, or unsupported with `**` unpacking or when async.
    pub(super) fn dict_comp(&self, c: &py::ExprDictComp) -> ExprKind {
        match (c.key.as_deref(), self.comprehensions(&c.generators)) {
            (Some(key), Some(generators)) => ExprKind::DictComp {
                key: self.boxed(key),
                value: self.boxed(&c.value),
                generators,
            },
            (None, _) => ExprKind::Unsupported("dict comprehension with ** unpacking"),
            (_, None) => ExprKind::Unsupported("async comprehension"),
        }
    }
}

/// A number literal; integers must fit in 64 bits and complex numbers are unsupported.
fn number(n: &py::Number) -> ExprKind {
    match n {
        py::Number::Int(i) => match i.as_i64() {
            Some(v) => ExprKind::Int(v),
            None => ExprKind::Unsupported("integer literal larger than 64 bits"),
        },
        py::Number::Float(f) => ExprKind::Float(*f),
        py::Number::Complex { .. } => ExprKind::Unsupported("complex number literal"),
    }
}

/// Our unary operator for ruff's.
fn unary_op(op: py::UnaryOp) -> UnaryOp {
    match op {
        py::UnaryOp::Invert => UnaryOp::Invert,
        py::UnaryOp::Not => UnaryOp::Not,
        py::UnaryOp::UAdd => UnaryOp::UAdd,
        py::UnaryOp::USub => UnaryOp::USub,
    }
}

/// Our boolean operator for ruff's.
fn bool_op(op: py::BoolOp) -> BoolOp {
    match op {
        py::BoolOp::And => BoolOp::And,
        py::BoolOp::Or => BoolOp::Or,
    }
}

pub(super) fn bin_op(op: py::Operator) -> BinOp {
    match op {
        py::Operator::Add => BinOp::Add,
        py::Operator::Sub => BinOp::Sub,
        py::Operator::Mult => BinOp::Mult,
        py::Operator::MatMult => BinOp::MatMult,
        py::Operator::Div => BinOp::Div,
        py::Operator::Mod => BinOp::Mod,
        py::Operator::Pow => BinOp::Pow,
        py::Operator::LShift => BinOp::LShift,
        py::Operator::RShift => BinOp::RShift,
        py::Operator::BitOr => BinOp::BitOr,
        py::Operator::BitXor => BinOp::BitXor,
        py::Operator::BitAnd => BinOp::BitAnd,
        py::Operator::FloorDiv => BinOp::FloorDiv,
    }
}

fn cmp_op(op: py::CmpOp) -> CmpOp {
    match op {
        py::CmpOp::Eq => CmpOp::Eq,
        py::CmpOp::NotEq => CmpOp::NotEq,
        py::CmpOp::Lt => CmpOp::Lt,
        py::CmpOp::LtE => CmpOp::LtE,
        py::CmpOp::Gt => CmpOp::Gt,
        py::CmpOp::GtE => CmpOp::GtE,
        py::CmpOp::Is => CmpOp::Is,
        py::CmpOp::IsNot => CmpOp::IsNot,
        py::CmpOp::In => CmpOp::In,
        py::CmpOp::NotIn => CmpOp::NotIn,
    }
}
