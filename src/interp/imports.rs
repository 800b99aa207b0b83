//! `import` and `from … import`: what the host gives, opaque placeholders for what it does not,
//! a module's own `__getattr__` (PEP 562) for names it does not define.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Result;
use super::exec::Flow;
use super::scope::Scope;
use super::value::Value;

impl Ctx {
    pub(crate) fn exec_import(
        &mut self,
        scope: &Rc<Scope>,
        aliases: &[crate::script::ast::Alias],
    ) -> Result<Flow> {
        for alias in aliases {
            match &alias.asname {
                Some(asname) => {
                    let v = self.import_module(&alias.name);
                    self.bind(scope, asname, v)?;
                }
                None => {
                    let top = alias.name.split('.').next().unwrap_or(&alias.name);
                    let v = self.import_chain(&alias.name);
                    self.bind(scope, top, v)?;
                }
            }
        }
        Ok(Flow::Normal)
    }

    pub(crate) fn exec_import_from(
        &mut self,
        scope: &Rc<Scope>,
        module: Option<&str>,
        names: &[crate::script::ast::Alias],
        level: u32,
    ) -> Result<Flow> {
        let base = format!("{}{}", ".".repeat(level as usize), module.unwrap_or(""));
        if base == "__future__" {
            return Ok(Flow::Normal);
        }
        for alias in names {
            if alias.name == "*" {
                self.import_star(scope, &base)?;
                continue;
            }
            let v = self.import_from(&base, &alias.name);
            self.bind(scope, alias.asname.as_ref().unwrap_or(&alias.name), v)?;
        }
        Ok(Flow::Normal)
    }

    /// `import a.b.c` binds `a`: the host's module if it has one, or an opaque placeholder
    /// through which the modeled submodules stay reachable.
    fn import_chain(&mut self, dotted: &str) -> Value {
        let parts: Vec<&str> = dotted.split('.').collect();
        let mut child: Option<(String, Value)> = None;
        for n in (1..=parts.len()).rev() {
            let name = parts[..n].join(".");
            let value = match self.host.import(&name) {
                Some(v) => {
                    if let (Value::Module(m), Some((attr, sub))) = (&v, &child) {
                        if !m.namespace.contains(attr) {
                            m.namespace.set(attr.clone(), sub.clone());
                        }
                    }
                    v
                }
                None => Value::Opaque(Rc::new(super::value::Opaque {
                    name,
                    children: child.take().into_iter().collect(),
                })),
            };
            child = Some((parts[n - 1].to_string(), value));
        }
        child.map_or(Value::None, |(_, v)| v)
    }

    fn import_module(&mut self, dotted: &str) -> Value {
        self.host
            .import(dotted)
            .unwrap_or_else(|| Value::opaque(dotted))
    }

    /// `from module import name`: an attribute of the module, else the submodule
    /// `module.name`, else an opaque placeholder.
    fn import_from(&mut self, module: &str, name: &str) -> Value {
        let mut failed_hook = None;
        let from_module = match self.host.import(module) {
            Some(Value::Module(m)) => match m.namespace.get(name) {
                Some(v) => Some(v),
                // Python asks the module's `__getattr__`, then imports a submodule of the name.
                None => match self.module_getattr(&m, name) {
                    Some(Ok(v)) => Some(v),
                    Some(Err(placeholder)) => {
                        failed_hook = Some(placeholder);
                        None
                    }
                    None => None,
                },
            },
            Some(Value::Opaque(o)) => o.children.get(name).cloned(),
            Some(Value::Native(n)) => n.getattr(name, self).ok(),
            _ => None,
        };
        if let Some(v) = from_module {
            return v;
        }
        let full = format!("{module}.{name}");
        self.host
            .import(&full)
            .or(failed_hook)
            .unwrap_or_else(|| Value::opaque(&full))
    }

    /// A module's own `__getattr__(name)` (PEP 562), for a name it does not define: its value,
    /// or (`Err`) a placeholder naming the error it ended with; `None` when the module has none.
    fn module_getattr(
        &mut self,
        m: &super::value::ModuleObj,
        name: &str,
    ) -> Option<std::result::Result<Value, Value>> {
        let hook = m.namespace.get("__getattr__")?;
        if !matches!(hook, Value::Function(_)) {
            return None;
        }
        match self.call(&hook, vec![Value::str(name)], Vec::new()) {
            Ok(v) => Some(Ok(v)),
            Err(failure) => {
                let error = match failure {
                    super::error::Failure::Error(e) => e.to_string(),
                    super::error::Failure::Raised(r) => self.uncaught(&r).to_string(),
                };
                Some(Err(Value::Opaque(Rc::new(super::value::Opaque {
                    name: format!(
                        "{}.{name} (its module's __getattr__ failed: {error})",
                        m.name
                    ),
                    children: std::collections::HashMap::new(),
                }))))
            }
        }
    }

    fn import_star(&mut self, scope: &Rc<Scope>, module: &str) -> Result<()> {
        match self.host.import(module) {
            Some(Value::Module(m)) => {
                for name in m.namespace.names() {
                    if !name.starts_with('_') {
                        if let Some(v) = m.namespace.get(&name) {
                            self.bind(scope, &name, v)?;
                        }
                    }
                }
                Ok(())
            }
            _ => Err(self.not_modeled(module, "`import *` from it")),
        }
    }
}
