//! Statements: assignment forms, control flow, functions, classes, imports.

use super::{error_text, exec};

#[test]
fn tuple_unpacking_and_starred_targets() {
    assert_eq!(exec("a, b = 1, 2\nr = (b, a)", "r"), "(2, 1)");
    assert_eq!(exec("(a, b), c = [1, 2], 3\nr = a + b + c", "r"), "6");
    assert_eq!(
        exec("first, *rest = 'abc'\nr = (first, rest)", "r"),
        "('a', ['b', 'c'])"
    );
    assert_eq!(
        exec("*init, last = [1, 2, 3]\nr = (init, last)", "r"),
        "([1, 2], 3)"
    );
    assert_eq!(exec("a, *mid, z = 1, 2\nr = mid", "r"), "[]");
    assert_eq!(exec("x = y = [1]\nx.append(2)\nr = y", "r"), "[1, 2]");
}

#[test]
fn unpacking_the_wrong_number_of_values_is_a_value_error() {
    assert!(error_text("a, b = [1, 2, 3]")
        .ends_with("uncaught ValueError: too many values to unpack (expected 2)"));
    assert!(error_text("a, b, *c = [1]")
        .ends_with("not enough values to unpack (expected at least 2, got 1)"));
}

#[test]
fn attribute_subscript_and_slice_assignment() {
    assert_eq!(
        exec("d = {}\nd['k'] = 1\nd['k'] += 2\nr = d", "r"),
        "{'k': 3}"
    );
    assert_eq!(exec("l = [0, 1, 2]\nl[-1] = 9\nr = l", "r"), "[0, 1, 9]");
    assert_eq!(
        exec("l = [0, 1, 2, 3]\nl[1:3] = ['a']\nr = l", "r"),
        "[0, 'a', 3]"
    );
    assert_eq!(
        exec("class C:\n    pass\nC.x = 1\nC.x += 1\nr = C.x", "r"),
        "2"
    );
    assert_eq!(
        exec("counts = {'a': 0}\ncounts['a'] += True\nr = counts", "r"),
        "{'a': 1}"
    );
}

#[test]
fn augmented_assignment_on_a_list_extends_it_in_place() {
    assert_eq!(exec("a = [1]\nb = a\na += (2, 3)\nr = b", "r"), "[1, 2, 3]");
    assert_eq!(
        exec("a = (1,)\nb = a\na += (2,)\nr = (a, b)", "r"),
        "((1, 2), (1,))"
    );
    assert_eq!(
        exec("s = {1}\nt = s\ns |= {2}\nr = sorted(t)", "r"),
        "[1, 2]"
    );
}

#[test]
fn del_removes_names_items_and_slices() {
    assert_eq!(
        exec("d = {'a': 1, 'b': 2}\ndel d['a']\nr = d", "r"),
        "{'b': 2}"
    );
    assert_eq!(
        exec("l = [1, 2, 3, 4]\ndel l[0], l[-1]\nr = l", "r"),
        "[2, 3]"
    );
    assert_eq!(exec("l = [1, 2, 3, 4]\ndel l[1:3]\nr = l", "r"), "[1, 4]");
    assert!(
        error_text("x = 1\ndel x\ny = x").ends_with("uncaught NameError: name 'x' is not defined")
    );
}

#[test]
fn if_elif_else_takes_the_first_true_branch() {
    let src = "def f(x):\n    if x < 0:\n        return 'neg'\n    elif x == 0:\n        return 'zero'\n    else:\n        return 'pos'\nr = [f(-1), f(0), f(5)]";
    assert_eq!(exec(src, "r"), "['neg', 'zero', 'pos']");
}

#[test]
fn for_and_while_with_break_continue_and_else() {
    let src = "out = []\nfor i in range(10):\n    if i % 2:\n        continue\n    if i > 6:\n        break\n    out.append(i)\nelse:\n    out.append('no break')";
    assert_eq!(exec(src, "out"), "[0, 2, 4, 6]");
    let src = "out = []\nfor i in []:\n    pass\nelse:\n    out.append('else ran')";
    assert_eq!(exec(src, "out"), "['else ran']");
    let src = "n = 0\nwhile True:\n    n += 1\n    if n == 5:\n        break\nelse:\n    n = -1";
    assert_eq!(exec(src, "n"), "5");
    let src = "n = 3\nwhile n:\n    n -= 1\nelse:\n    n = 'done'";
    assert_eq!(exec(src, "n"), "'done'");
    assert_eq!(
        exec(
            "out = []\nfor k, v in {'a': 1, 'b': 2}.items():\n    out.append(k * v)",
            "out"
        ),
        "['a', 'bb']"
    );
}

#[test]
fn for_over_a_list_sees_items_appended_during_the_loop() {
    let src = "l = [1]\nfor x in l:\n    if x < 4:\n        l.append(x + 1)\nr = l";
    assert_eq!(exec(src, "r"), "[1, 2, 3, 4]");
}

#[test]
fn functions_take_defaults_varargs_and_keyword_only_arguments() {
    let src = "def f(a, b=2, *args, c, d=4, **kw):\n    return (a, b, args, c, d, kw)\nr = f(1, c=3)\ns = f(1, 5, 6, 7, c=3, e=8)";
    assert_eq!(exec(src, "r"), "(1, 2, (), 3, 4, {})");
    assert_eq!(exec(src, "s"), "(1, 5, (6, 7), 3, 4, {'e': 8})");
    assert!(error_text("def f(a):\n    pass\nf()")
        .ends_with("uncaught TypeError: f() missing 1 required positional argument: 'a'"));
    assert!(error_text("def f(a):\n    pass\nf(1, a=2)")
        .ends_with("f() got multiple values for argument 'a'"));
    assert!(error_text("def f(a):\n    pass\nf(1, 2)")
        .ends_with("f() takes 1 positional argument but 2 were given"));
    assert!(error_text("def f(*, a):\n    pass\nf(b=1)")
        .ends_with("f() got an unexpected keyword argument 'b'"));
    assert!(error_text("def f(a, b, c, *, d):\n    pass\nf(d=1)")
        .ends_with("f() missing 3 required positional arguments: 'a', 'b', and 'c'"));
    assert!(error_text("def f(a, *, d, e):\n    pass\nf(1)")
        .ends_with("f() missing 2 required keyword-only arguments: 'd' and 'e'"));
}

#[test]
fn defaults_are_evaluated_once_at_definition_time() {
    let src = "x = 1\ndef f(a=x, acc=[]):\n    acc.append(a)\n    return acc\nx = 2\nf()\nr = f()";
    assert_eq!(exec(src, "r"), "[1, 1]");
}

#[test]
fn closures_see_the_enclosing_scope_and_nonlocal_rebinds_it() {
    let src = "def outer():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n    inc()\n    inc()\n    return n\nr = outer()";
    assert_eq!(exec(src, "r"), "2");
    let src = "def make(k):\n    return lambda x: x * k\nr = [make(2)(5), make('a')(3)]";
    assert_eq!(exec(src, "r"), "[10, 'aaa']");
    let src = "fs = [lambda: i for i in range(3)]\nr = [f() for f in fs]";
    assert_eq!(exec(src, "r"), "[2, 2, 2]");
}

#[test]
fn global_declarations_rebind_module_names() {
    let src = "count = 0\ndef bump():\n    global count\n    count += 1\nbump()\nbump()";
    assert_eq!(exec(src, "count"), "2");
    let src = "x = 'module'\ndef f():\n    x = 'local'\n    return x\nr = (f(), x)";
    assert_eq!(exec(src, "r"), "('local', 'module')");
}

#[test]
fn functions_defined_in_a_function_are_called_later() {
    let src = "def upgrade():\n    def helper(t, cols=('id',)):\n        return f'{t}:{\",\".join(cols)}'\n    return [helper('a'), helper('b', ['x', 'y'])]\nr = upgrade()";
    assert_eq!(exec(src, "r"), "['a:id', 'b:x,y']");
}

#[test]
fn recursion_works_within_the_depth_limit() {
    let src = "def fact(n):\n    return 1 if n <= 1 else n * fact(n - 1)\nr = fact(20)";
    assert_eq!(exec(src, "r"), "2432902008176640000");
}

#[test]
fn classes_have_attributes_methods_inheritance_and_init() {
    let src = "\
class Base:
    kind = 'base'
    def __init__(self, name):
        self.name = name
    def describe(self):
        return f'{self.kind}:{self.name}'
class Child(Base):
    kind = 'child'
c = Child('x')
r = (c.describe(), Base('y').describe(), Child.kind, isinstance(c, Base), type(c).__name__)
";
    assert_eq!(
        exec(src, "r"),
        "('child:x', 'base:y', 'child', True, 'Child')"
    );
}

#[test]
fn argument_errors_name_the_qualified_function() {
    let src = "class C:\n    def __init__(self, a):\n        self.a = a\nC()";
    assert!(error_text(src)
        .ends_with("uncaught TypeError: C.__init__() missing 1 required positional argument: 'a'"));
    let src = "def outer():\n    def inner(x):\n        pass\n    inner()\nouter()";
    assert!(error_text(src)
        .ends_with("outer.<locals>.inner() missing 1 required positional argument: 'x'"));
    assert_eq!(
        exec(
            "class C:\n    def m(self):\n        pass\nr = (C.m.__name__, C.m.__qualname__)",
            "r"
        ),
        "('m', 'C.m')"
    );
}

#[test]
fn class_bodies_are_not_visible_from_their_methods() {
    let src = "x = 'global'\nclass C:\n    x = 'class'\n    def get(self):\n        return x\nr = C().get()";
    assert_eq!(exec(src, "r"), "'global'");
}

#[test]
fn user_exception_classes_are_raised_and_caught() {
    let src = "\
class MigrationError(RuntimeError):
    pass
try:
    raise MigrationError('boom', 42)
except RuntimeError as e:
    r = (type(e).__name__, e.args, str(e))
";
    assert_eq!(
        exec(src, "r"),
        "('MigrationError', ('boom', 42), \"('boom', 42)\")"
    );
}

#[test]
fn assert_raises_assertion_error_with_the_message() {
    assert_eq!(exec("assert 1 + 1 == 2, 'math'\nr = 'ok'", "r"), "'ok'");
    assert!(
        error_text("assert [], 'empty ' + 'list'").ends_with("uncaught AssertionError: empty list")
    );
}

#[test]
fn pass_ellipsis_bodies_and_annotations_are_accepted() {
    let src = "def f() -> None:\n    ...\nx: int = 3\ny: str\nclass C:\n    pass\nr = (f(), x)";
    assert_eq!(exec(src, "r"), "(None, 3)");
}

#[test]
fn imports_of_unknown_modules_succeed_and_future_imports_are_ignored() {
    let src = "from __future__ import annotations\nimport os.path\nimport json as j\nfrom mlflow.utils import foo as bar\nr = 'imported'";
    assert_eq!(exec(src, "r"), "'imported'");
}

#[test]
fn module_globals_include_name_file_and_doc() {
    // Alembic loads `abc123_test.py` as the module `abc123_test_py`.
    let src = "\"\"\"Add a table.\"\"\"\nr = (__name__, __file__, __doc__)";
    assert_eq!(
        exec(src, "r"),
        "('abc123_test_py', 'versions/abc123_test.py', 'Add a table.')"
    );
}

#[test]
fn super_without_arguments_reaches_the_next_class_in_line() {
    let src = "\
class Base:
    def __init__(self, x):
        self.x = x
    def describe(self):
        return 'base ' + str(self.x)
class Child(Base):
    def __init__(self, x, y=2):
        super().__init__(x * 10)
        self.y = y
    def describe(self):
        return 'child/' + super().describe() + '/' + str(self.y)
r = Child(4).describe()";
    assert_eq!(exec(src, "r"), "'child/base 40/2'");
    assert!(error_text("r = super()").ends_with("uncaught RuntimeError: super(): no arguments"));
    assert!(
        error_text("class A:\n    def f(self):\n        return super().missing\nr = A().f()")
            .ends_with("uncaught AttributeError: 'super' object has no attribute 'missing'")
    );
}

/// A package module runs statement by statement: what fails leaves placeholders for the names
/// it binds, which fail only when used, naming the definition's error; the rest is usable.
#[test]
fn package_modules_keep_what_ran_and_defer_what_failed() {
    use super::NoHost;
    use crate::interp::Value;
    use std::rc::Rc;
    let module = crate::script::pyast::parse_module(
        "\
import yaml
LIMIT = 250
CONFIG = yaml.safe_load('a: 1')
def helper(x):
    return x + LIMIT
class Broken(yaml.YAMLObject):
    pass
AFTER = helper(1)
",
    )
    .unwrap();
    let mut interp = super::Interpreter::new(Rc::new(NoHost));
    let ns = crate::interp::Namespace::new();
    interp.run_package_module(
        "app.helpers",
        &module,
        std::path::Path::new("app/helpers.py"),
        &ns,
    );
    let repr = |interp: &mut super::Interpreter, name: &str| {
        let v = ns.get(name).unwrap();
        interp.ctx().to_repr(&v).unwrap()
    };
    assert_eq!(repr(&mut interp, "AFTER"), "251");
    assert_eq!(repr(&mut interp, "LIMIT"), "250");
    for failed in ["CONFIG", "Broken"] {
        let v = ns.get(failed).unwrap();
        let Value::Opaque(o) = v else {
            panic!("{failed} is not a placeholder: {v:?}")
        };
        assert!(
            o.name.starts_with(&format!(
                "app.helpers.{failed} (its definition failed: app/helpers.py:"
            )),
            "{}",
            o.name
        );
        assert!(o.name.contains("`yaml` is not modeled"), "{}", o.name);
    }
}

#[test]
fn globals_is_a_live_view_of_the_module_namespace() {
    assert_eq!(
        exec(
            "g = globals()\ng['x'] = 5\ny = z = g['x'] + 1\nr = (x, y, g.get('x'), g.get('nope', 7), 'x' in g, 'nope' in g)",
            "r"
        ),
        "(5, 6, 5, 7, True, False)"
    );
    let missing = error_text("globals()['missing']");
    assert!(
        missing.ends_with("uncaught KeyError: 'missing'"),
        "{missing}"
    );
}
