//! The built-in exception classes and exception instances.
//!
//! The classes are created once per thread, so that a host can derive its own exception
//! classes from them (see [`exception_class`]) and `except` clauses match by identity.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::value::{Class, Instance, Value};

/// (name, base) in an order where each base comes before its subclasses.
const HIERARCHY: &[(&str, Option<&str>)] = &[
    ("BaseException", None),
    ("Exception", Some("BaseException")),
    ("ArithmeticError", Some("Exception")),
    ("ZeroDivisionError", Some("ArithmeticError")),
    ("OverflowError", Some("ArithmeticError")),
    ("AssertionError", Some("Exception")),
    ("AttributeError", Some("Exception")),
    ("ImportError", Some("Exception")),
    ("ModuleNotFoundError", Some("ImportError")),
    ("LookupError", Some("Exception")),
    ("IndexError", Some("LookupError")),
    ("KeyError", Some("LookupError")),
    ("NameError", Some("Exception")),
    ("UnboundLocalError", Some("NameError")),
    ("RuntimeError", Some("Exception")),
    ("NotImplementedError", Some("RuntimeError")),
    ("StopIteration", Some("Exception")),
    ("SyntaxError", Some("Exception")),
    ("TypeError", Some("Exception")),
    ("ValueError", Some("Exception")),
];

thread_local! {
    static CLASSES: RefCell<Option<HashMap<&'static str, Rc<Class>>>> = const { RefCell::new(None) };
}

fn build() -> HashMap<&'static str, Rc<Class>> {
    let mut classes: HashMap<&'static str, Rc<Class>> = HashMap::new();
    for &(name, base) in HIERARCHY {
        let bases = base
            .and_then(|b| classes.get(b))
            .map(|c| vec![Value::Class(c.clone())])
            .unwrap_or_default();
        classes.insert(name, Class::new(name, bases));
    }
    classes
}

/// The built-in exception class `name` (`"ValueError"`, `"Exception"`, ...).
pub fn exception_class(name: &str) -> Option<Rc<Class>> {
    CLASSES.with(|cell| {
        let mut slot = cell.borrow_mut();
        slot.get_or_insert_with(build).get(name).cloned()
    })
}

/// Whether `class` derives from `BaseException`.
pub fn is_exception_class(class: &Class) -> bool {
    exception_class("BaseException").is_some_and(|base| class.is_subclass_of(&base))
}

/// A new exception instance of `class` with the given arguments.
pub fn new_exception(class: Rc<Class>, args: Vec<Value>) -> Value {
    let mut attrs = HashMap::new();
    attrs.insert("args".to_string(), Value::tuple(args));
    Value::Instance(Rc::new(Instance {
        class,
        attrs: RefCell::new(attrs),
    }))
}

/// A built-in exception with a message (or no arguments if the message is empty).
pub(crate) fn builtin_exception(name: &str, message: String) -> Value {
    let class = exception_class(name)
        .or_else(|| exception_class("Exception"))
        .unwrap_or_else(|| Class::new(name, Vec::new()));
    let args = if message.is_empty() {
        Vec::new()
    } else {
        vec![Value::string(message)]
    };
    new_exception(class, args)
}

/// The arguments of an exception instance.
pub(crate) fn exception_args(exc: &Value) -> Vec<Value> {
    match exc {
        Value::Instance(i) => match i.attrs.borrow().get("args") {
            Some(Value::Tuple(t)) => t.to_vec(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_error_is_a_lookup_error_and_an_exception_but_not_a_value_error() {
        let key_error = exception_class("KeyError").unwrap();
        assert!(key_error.is_subclass_of(&exception_class("LookupError").unwrap()));
        assert!(key_error.is_subclass_of(&exception_class("Exception").unwrap()));
        assert!(!key_error.is_subclass_of(&exception_class("ValueError").unwrap()));
        assert!(is_exception_class(&key_error));
    }

    #[test]
    fn classes_are_shared_within_a_thread() {
        let a = exception_class("ValueError").unwrap();
        let b = exception_class("ValueError").unwrap();
        assert!(Rc::ptr_eq(&a, &b));
    }
}
