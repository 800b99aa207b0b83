//! Attribute access on every kind of value.
//!
//! A missing attribute of a user-level value (instance, class, function, a built-in value) is
//! an `AttributeError`, as in Python. But a method that Python has and we do not implement is
//! a plan error, and so is a name a host module does not define: we cannot know the answer.

use std::rc::Rc;

use super::ctx::Ctx;
use super::error::Result;
use super::methods_coll::{builtin_method, python_has_attribute};
use super::value::{BoundMethod, Method, TypeKind, Value};

impl Ctx {
    pub(crate) fn get_attr(&mut self, v: &Value, name: &str) -> Result<Value> {
        match v {
            Value::Native(n) => n.clone().getattr(name, self),
            Value::Opaque(o) => match o.children.get(name) {
                Some(child) => Ok(child.clone()),
                None => Err(self.not_modeled(&o.name, format!("reading attribute `{name}`"))),
            },
            Value::Module(m) => {
                if let Some(v) = m.namespace.get(name) {
                    return Ok(v);
                }
                let full = format!("{}.{name}", m.name);
                // A submodule the scripts reach through its package (`import app` then
                // `app.db.types.X`): in Python some import has bound it there by then.
                if let Some(sub) = self.host.import(&full) {
                    m.namespace.set(name, sub.clone());
                    return Ok(sub);
                }
                match m.namespace.get("__getattr__") {
                    Some(hook) => self.call(&hook, vec![Value::str(name)], Vec::new()),
                    None => Err(self.not_modeled(
                        &full,
                        format!("module `{}` as modeled does not define it", m.name),
                    )),
                }
            }
            Value::Instance(i) => {
                if let Some(a) = i.attrs.borrow().get(name) {
                    return Ok(a.clone());
                }
                if name == "__class__" {
                    return Ok(Value::Class(i.class.clone()));
                }
                match i.class.lookup(name) {
                    Some(Value::Function(f)) => Ok(Value::BoundMethod(Rc::new(BoundMethod {
                        receiver: v.clone(),
                        method: Method::Function(f),
                    }))),
                    Some(other) => Ok(other),
                    None => match i.class.native_base() {
                        Some(native) => native.instance_attr(v, name, self),
                        None => Err(self.raise(
                            "AttributeError",
                            format!("'{}' object has no attribute '{name}'", i.class.name),
                        )),
                    },
                }
            }
            Value::Class(c) => {
                if name == "__name__" || name == "__qualname__" {
                    return Ok(Value::str(&c.name));
                }
                if let Some(v) = c.lookup(name) {
                    return Ok(v);
                }
                if let Some(native) = c.native_base() {
                    return native.getattr(name, self);
                }
                Err(self.raise(
                    "AttributeError",
                    format!("type object '{}' has no attribute '{name}'", c.name),
                ))
            }
            Value::Function(f) => match name {
                "__name__" => Ok(Value::str(&f.name)),
                "__qualname__" => Ok(Value::str(&f.qualname)),
                _ => Err(self.raise(
                    "AttributeError",
                    format!("'function' object has no attribute '{name}'"),
                )),
            },
            Value::Type(kind) => self.type_attr(*kind, name),
            _ => {
                let type_name = v.type_name();
                if let Some(method) = builtin_method(v, name) {
                    return Ok(Value::BoundMethod(Rc::new(BoundMethod {
                        receiver: v.clone(),
                        method: Method::Builtin(method),
                    })));
                }
                if python_has_attribute(&type_name, name) {
                    return Err(self.unsupported(format!("`{type_name}.{name}`")));
                }
                Err(self.raise(
                    "AttributeError",
                    format!("'{type_name}' object has no attribute '{name}'"),
                ))
            }
        }
    }

    /// Attributes of built-in types: `__name__`, and methods used unbound (`str.lower`,
    /// `dict.fromkeys`).
    fn type_attr(&mut self, kind: TypeKind, name: &str) -> Result<Value> {
        if name == "__name__" || name == "__qualname__" {
            return Ok(Value::str(kind.name()));
        }
        let sample = match kind {
            TypeKind::Str => Some(Value::str("")),
            TypeKind::List => Some(Value::list(Vec::new())),
            TypeKind::Dict => Some(Value::dict_of_str(Vec::new())),
            TypeKind::Set => Some(Value::Set(Default::default())),
            _ => None,
        };
        let method = match (kind, name) {
            (TypeKind::Dict, "fromkeys") => Some("fromkeys"),
            _ => sample.as_ref().and_then(|s| builtin_method(s, name)),
        };
        if let Some(method) = method {
            return Ok(Value::BoundMethod(Rc::new(BoundMethod {
                receiver: Value::Type(kind),
                method: Method::Builtin(method),
            })));
        }
        if python_has_attribute(kind.name(), name) {
            return Err(self.unsupported(format!("`{}.{name}`", kind.name())));
        }
        Err(self.raise(
            "AttributeError",
            format!("type object '{}' has no attribute '{name}'", kind.name()),
        ))
    }

    pub(crate) fn set_attr(&mut self, obj: &Value, name: &str, value: Value) -> Result<()> {
        match obj {
            Value::Instance(i) => {
                i.attrs.borrow_mut().insert(name.to_string(), value);
                Ok(())
            }
            Value::Class(c) => {
                c.namespace.set(name, value);
                Ok(())
            }
            Value::Module(m) => {
                m.namespace.set(name, value);
                Ok(())
            }
            Value::Native(n) => n.clone().setattr(name, value, self),
            Value::Opaque(o) => {
                Err(self.not_modeled(&o.name, format!("setting attribute `{name}`")))
            }
            other => Err(self.raise(
                "AttributeError",
                format!(
                    "'{}' object has no attribute '{name}' to set",
                    other.type_name()
                ),
            )),
        }
    }

    pub(crate) fn del_attr(&mut self, obj: &Value, name: &str) -> Result<()> {
        let removed = match obj {
            Value::Instance(i) => i.attrs.borrow_mut().remove(name).is_some(),
            Value::Class(c) => c.namespace.remove(name).is_some(),
            Value::Opaque(o) => {
                return Err(self.not_modeled(&o.name, format!("deleting attribute `{name}`")))
            }
            Value::Native(n) => {
                return Err(
                    self.native_unsupported(n.type_name(), format!("deleting attribute `{name}`"))
                )
            }
            _ => false,
        };
        if removed {
            Ok(())
        } else {
            Err(self.raise(
                "AttributeError",
                format!("'{}' object has no attribute '{name}'", obj.type_name()),
            ))
        }
    }
}
