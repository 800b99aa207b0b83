//! The one door to the Python parser crate (`ruff_python_parser`).
//!
//! Parses a source file and lowers ruff's AST into our own `ast` types, with 1-based line and
//! column positions. No other file names the parser crate, so swapping parsers touches only this
//! one.

use ruff_python_ast as py;
use ruff_text_size::{Ranged, TextSize};

use super::ast::*;

/// A syntax error with its position in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Nesting of expressions and statements beyond which lowering stops (real revision scripts
/// stay far below it; deeper input would only exhaust the stack).
const MAX_DEPTH: usize = 200;

/// Sources larger than this are parsed on a thread with a large stack: the parser crate builds
/// (and drops) its tree recursively, and a long enough file can nest deeply enough to overflow
/// an ordinary thread's stack.
const BIG_SOURCE: usize = 16 * 1024;

/// Parse Python source into our AST.
pub fn parse_module(source: &str) -> Result<Module, SyntaxError> {
    if source.len() <= BIG_SOURCE {
        return parse_module_here(source);
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, || parse_module_here(source))
            .map(|h| h.join())
    })
    .unwrap_or_else(|e| {
        Ok(Err(SyntaxError {
            pos: Pos { line: 1, col: 1 },
            message: format!("cannot start a parser thread: {e}"),
        }))
    })
    .unwrap_or_else(|_| {
        Err(SyntaxError {
            pos: Pos { line: 1, col: 1 },
            message: "the parser failed on this file".into(),
        })
    })
}

fn parse_module_here(source: &str) -> Result<Module, SyntaxError> {
    let lines = LineIndex::new(source);
    let parsed = ruff_python_parser::parse_module(source).map_err(|err| SyntaxError {
        pos: lines.pos(err.location.start()),
        message: err.error.to_string(),
    })?;
    let module = parsed.into_syntax();
    let lower = Lower {
        lines: &lines,
        depth: std::cell::Cell::new(0),
        yielded: std::cell::Cell::new(false),
    };
    let docstring = module.body.first().and_then(|stmt| match stmt {
        py::Stmt::Expr(e) => match e.value.as_ref() {
            py::Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
            _ => None,
        },
        _ => None,
    });
    Ok(Module {
        docstring,
        body: lower.stmts(&module.body),
    })
}

struct LineIndex {
    starts: Vec<usize>,
    source: String,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        let mut starts = vec![0];
        for (i, b) in source.bytes().enumerate() {
            if b == b'\n' {
                starts.push(i + 1);
            }
        }
        LineIndex {
            starts,
            source: source.to_string(),
        }
    }

    fn pos(&self, offset: TextSize) -> Pos {
        let offset = usize::from(offset).min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = self
            .source
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        Pos {
            line: line as u32,
            col: col as u32 + 1,
        }
    }
}

struct Lower<'a> {
    lines: &'a LineIndex,
    depth: std::cell::Cell<usize>,
    /// Set by a `yield` met while lowering; each function body saves and restores it.
    yielded: std::cell::Cell<bool>,
}

impl Lower<'_> {
    fn pos(&self, node: &impl Ranged) -> Pos {
        self.lines.pos(node.start())
    }

    fn stmts(&self, body: &[py::Stmt]) -> Vec<Stmt> {
        body.iter().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&self, stmt: &py::Stmt) -> Stmt {
        if self.depth.get() >= MAX_DEPTH {
            return Stmt {
                pos: self.pos(stmt),
                kind: StmtKind::Unsupported("statements nested more than 200 levels deep"),
            };
        }
        self.depth.set(self.depth.get() + 1);
        let stmt_out = self.stmt_inner(stmt);
        self.depth.set(self.depth.get() - 1);
        stmt_out
    }

    fn stmt_inner(&self, stmt: &py::Stmt) -> Stmt {
        let kind = match stmt {
            py::Stmt::FunctionDef(f) => StmtKind::FunctionDef(self.function_def(f)),
            py::Stmt::ClassDef(c) => StmtKind::ClassDef {
                name: c.name.as_str().to_string(),
                bases: c.bases().iter().map(|e| self.expr(e)).collect(),
                keywords: c.keywords().iter().map(|k| self.keyword(k)).collect(),
                body: self.stmts(&c.body),
            },
            py::Stmt::Return(r) => StmtKind::Return(r.value.as_deref().map(|e| self.expr(e))),
            py::Stmt::Delete(d) => StmtKind::Delete(self.exprs(&d.targets)),
            py::Stmt::Assign(a) => StmtKind::Assign {
                targets: self.exprs(&a.targets),
                value: self.expr(&a.value),
            },
            py::Stmt::AnnAssign(a) => StmtKind::AnnAssign {
                target: self.expr(&a.target),
                value: a.value.as_deref().map(|e| self.expr(e)),
            },
            py::Stmt::AugAssign(a) => StmtKind::AugAssign {
                target: self.expr(&a.target),
                op: bin_op(a.op),
                value: self.expr(&a.value),
            },
            py::Stmt::For(f) if !f.is_async => StmtKind::For {
                target: self.expr(&f.target),
                iter: self.expr(&f.iter),
                body: self.stmts(&f.body),
                orelse: self.stmts(&f.orelse),
            },
            py::Stmt::For(_) => StmtKind::Unsupported("async for"),
            py::Stmt::While(w) => StmtKind::While {
                test: self.expr(&w.test),
                body: self.stmts(&w.body),
                orelse: self.stmts(&w.orelse),
            },
            py::Stmt::If(i) => self.if_chain(&i.test, &i.body, &i.elif_else_clauses),
            py::Stmt::With(w) if !w.is_async => StmtKind::With {
                items: self.with_items(&w.items),
                body: self.stmts(&w.body),
            },
            py::Stmt::With(_) => StmtKind::Unsupported("async with"),
            py::Stmt::Raise(r) => StmtKind::Raise(r.exc.as_deref().map(|e| self.expr(e))),
            py::Stmt::Try(t) if !t.is_star => StmtKind::Try {
                body: self.stmts(&t.body),
                handlers: self.except_handlers(&t.handlers),
                orelse: self.stmts(&t.orelse),
                finalbody: self.stmts(&t.finalbody),
            },
            py::Stmt::Try(_) => StmtKind::Unsupported("try/except*"),
            py::Stmt::Assert(a) => StmtKind::Assert {
                test: self.expr(&a.test),
                msg: a.msg.as_deref().map(|e| self.expr(e)),
            },
            py::Stmt::Import(i) => StmtKind::Import(self.aliases(&i.names)),
            py::Stmt::ImportFrom(i) => StmtKind::ImportFrom {
                module: i.module.as_ref().map(|m| m.as_str().to_string()),
                names: self.aliases(&i.names),
                level: i.level,
            },
            py::Stmt::Global(g) => {
                StmtKind::Global(g.names.iter().map(|n| n.as_str().to_string()).collect())
            }
            py::Stmt::Nonlocal(g) => {
                StmtKind::Nonlocal(g.names.iter().map(|n| n.as_str().to_string()).collect())
            }
            py::Stmt::Expr(e) => StmtKind::Expr(self.expr(&e.value)),
            py::Stmt::Pass(_) => StmtKind::Pass,
            py::Stmt::Break(_) => StmtKind::Break,
            py::Stmt::Continue(_) => StmtKind::Continue,
            py::Stmt::TypeAlias(_) => StmtKind::Unsupported("type alias"),
            py::Stmt::Match(_) => StmtKind::Unsupported("match statement"),
            py::Stmt::IpyEscapeCommand(_) => StmtKind::Unsupported("IPython escape command"),
        };
        Stmt {
            pos: self.pos(stmt),
            kind,
        }
    }

    /// A `def` (or `async def`) with its parameters, body and decorators.
    fn function_def(&self, f: &py::StmtFunctionDef) -> FunctionDef {
        let params = self.params(Some(&f.parameters));
        let outer = self.yielded.replace(false);
        let body = self.stmts(&f.body);
        let is_generator = self.yielded.replace(outer);
        FunctionDef {
            name: f.name.as_str().to_string(),
            params,
            body,
            decorators: f
                .decorator_list
                .iter()
                .map(|d| self.expr(&d.expression))
                .collect(),
            is_async: f.is_async,
            is_generator,
        }
    }

    /// The `context as var` items of a `with` statement.
    fn with_items(&self, items: &[py::WithItem]) -> Vec<WithItem> {
        items
            .iter()
            .map(|item| WithItem {
                context: self.expr(&item.context_expr),
                var: item.optional_vars.as_deref().map(|e| self.expr(e)),
            })
            .collect()
    }

    /// The `except` clauses of a `try` statement.
    fn except_handlers(&self, handlers: &[py::ExceptHandler]) -> Vec<ExceptHandler> {
        handlers
            .iter()
            .map(|h| {
                let py::ExceptHandler::ExceptHandler(h) = h;
                ExceptHandler {
                    pos: self.pos(h),
                    type_: h.type_.as_deref().map(|e| self.expr(e)),
                    name: h.name.as_ref().map(|n| n.as_str().to_string()),
                    body: self.stmts(&h.body),
                }
            })
            .collect()
    }

    fn if_chain(
        &self,
        test: &py::Expr,
        body: &[py::Stmt],
        clauses: &[py::ElifElseClause],
    ) -> StmtKind {
        let orelse = match clauses.split_first() {
            None => Vec::new(),
            Some((first, rest)) => match &first.test {
                None => self.stmts(&first.body),
                Some(elif_test) => vec![Stmt {
                    pos: self.pos(first),
                    kind: self.if_chain(elif_test, &first.body, rest),
                }],
            },
        };
        StmtKind::If {
            test: self.expr(test),
            body: self.stmts(body),
            orelse,
        }
    }

    fn aliases(&self, names: &[py::Alias]) -> Vec<Alias> {
        names
            .iter()
            .map(|a| Alias {
                name: a.name.as_str().to_string(),
                asname: a.asname.as_ref().map(|n| n.as_str().to_string()),
            })
            .collect()
    }

    fn params(&self, params: Option<&py::Parameters>) -> Params {
        let Some(p) = params else {
            return Params::default();
        };
        let param = |pd: &py::ParameterWithDefault| Param {
            name: pd.parameter.name.as_str().to_string(),
            default: pd.default.as_deref().map(|e| self.expr(e)),
        };
        Params {
            positional: p
                .posonlyargs
                .iter()
                .chain(p.args.iter())
                .map(param)
                .collect(),
            vararg: p.vararg.as_ref().map(|v| v.name.as_str().to_string()),
            kwonly: p.kwonlyargs.iter().map(param).collect(),
            kwarg: p.kwarg.as_ref().map(|v| v.name.as_str().to_string()),
        }
    }

    fn keyword(&self, k: &py::Keyword) -> Keyword {
        Keyword {
            arg: k.arg.as_ref().map(|a| a.as_str().to_string()),
            value: self.expr(&k.value),
        }
    }

    fn exprs(&self, exprs: &[py::Expr]) -> Vec<Expr> {
        exprs.iter().map(|e| self.expr(e)).collect()
    }

    fn boxed(&self, e: &py::Expr) -> Box<Expr> {
        Box::new(self.expr(e))
    }

    fn comprehensions(&self, gens: &[py::Comprehension]) -> Option<Vec<Comprehension>> {
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

    fn fstring_elements(&self, elements: &[py::InterpolatedStringElement]) -> Vec<FStringPart> {
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

    fn expr(&self, expr: &py::Expr) -> Expr {
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

    fn expr_inner(&self, expr: &py::Expr) -> Expr {
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
    fn fstring(&self, f: &py::ExprFString) -> Vec<FStringPart> {
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
    fn dict_items(&self, items: &[py::DictItem]) -> Vec<(Option<Expr>, Expr)> {
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
    fn comp_expr(
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
    fn dict_comp(&self, c: &py::ExprDictComp) -> ExprKind {
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

fn bin_op(op: py::Operator) -> BinOp {
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

#[cfg(test)]
mod tests;
