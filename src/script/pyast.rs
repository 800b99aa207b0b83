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
                op: expr::bin_op(a.op),
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
}

mod expr;

#[cfg(test)]
mod tests;
