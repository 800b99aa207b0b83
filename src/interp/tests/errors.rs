//! The try/except policy, plan errors with positions, and the limits.

use std::rc::Rc;

use super::{error_text, exec, fails, run_with, NoHost, PATH};
use crate::interp::{Error, Interpreter, Limits};
use crate::script::ast::Pos;
use crate::script::pyast::parse_module;

#[test]
fn python_exceptions_are_caught_by_matching_handlers() {
    let src = "\
out = []
for thunk in [lambda: {}['k'], lambda: [][1], lambda: 1 / 0, lambda: int('x'), lambda: None.attr, lambda: 1 + 'a']:
    try:
        thunk()
    except (KeyError, IndexError) as e:
        out.append(('lookup', type(e).__name__))
    except ZeroDivisionError:
        out.append('zero')
    except ValueError as e:
        out.append(str(e))
    except Exception as e:
        out.append(type(e).__name__)
";
    assert_eq!(
        exec(src, "out"),
        "[('lookup', 'KeyError'), ('lookup', 'IndexError'), 'zero', \"invalid literal for int() with base 10: 'x'\", 'AttributeError', 'TypeError']"
    );
}

#[test]
fn bare_except_else_and_finally_run_in_python_order() {
    let src = "\
log = []
def f(fail):
    try:
        log.append('try')
        if fail:
            raise RuntimeError('x')
    except:
        log.append('except')
    else:
        log.append('else')
    finally:
        log.append('finally')
f(True)
f(False)
";
    assert_eq!(
        exec(src, "log"),
        "['try', 'except', 'finally', 'try', 'else', 'finally']"
    );
}

#[test]
fn finally_runs_on_return_and_can_override_it() {
    let src = "log = []\ndef f():\n    try:\n        return 'try'\n    finally:\n        log.append('cleanup')\ndef g():\n    try:\n        return 1\n    finally:\n        return 2\nr = (f(), g(), log)";
    assert_eq!(exec(src, "r"), "('try', 2, ['cleanup'])");
}

#[test]
fn unmatched_exceptions_propagate_and_bare_raise_reraises() {
    let src = "def f():\n    try:\n        raise KeyError('k')\n    except ValueError:\n        return 'wrong'\ntry:\n    f()\nexcept LookupError as e:\n    r = repr(e)";
    assert_eq!(exec(src, "r"), "\"KeyError('k')\"");
    let err = fails("try:\n    raise ValueError('inner')\nexcept ValueError:\n    raise\n");
    assert_eq!(
        err.to_string(),
        format!("{PATH}:2:5: uncaught ValueError: inner")
    );
}

#[test]
fn the_exception_name_is_unbound_after_the_handler() {
    assert!(
        error_text("try:\n    raise ValueError\nexcept ValueError as e:\n    pass\nx = e")
            .ends_with("uncaught NameError: name 'e' is not defined")
    );
}

#[test]
fn uncaught_exceptions_carry_type_message_and_raise_position() {
    let err = fails("x = 1\ndef f():\n    raise RuntimeError('bad thing')\nf()\n");
    assert_eq!(
        err.to_string(),
        format!("{PATH}:3:5: uncaught RuntimeError: bad thing")
    );
    match err {
        Error::Uncaught {
            exception,
            message,
            pos,
            ..
        } => {
            assert_eq!(
                (exception.as_str(), message.as_str()),
                ("RuntimeError", "bad thing")
            );
            assert_eq!(pos, Pos { line: 3, col: 5 });
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn opaque_imports_load_but_every_use_fails_with_file_line_and_column() {
    let src =
        "from mlflow.utils import foo\nimport mlflow.store as store\nx = foo\n\ny = store.tables\n";
    let err = fails(src);
    assert_eq!(
        err.to_string(),
        format!("{PATH}:5:5: `mlflow.store` is not modeled (reading attribute `tables`)")
    );
    // (expression, column of the failing use, action)
    let uses = [
        ("foo()", 5, "calling it"),
        ("1 + foo", 5, "using it with `+`"),
        ("bool(foo)", 5, "testing its truth value"),
        ("[x for x in foo]", 17, "iterating over it"),
        ("f'{foo}'", 8, "converting it to a string"),
        ("foo[0]", 5, "subscripting it"),
        ("foo == 1", 5, "comparing it"),
        ("foo.bar", 5, "reading attribute `bar`"),
    ];
    for (expr, col, action) in uses {
        let src = format!("from mlflow.utils import foo\nr = {expr}\n");
        let err = fails(&src);
        assert!(matches!(err, Error::NotModeled { .. }), "{expr}: {err}");
        assert_eq!(
            err.to_string(),
            format!("{PATH}:2:{col}: `mlflow.utils.foo` is not modeled ({action})"),
            "{expr}"
        );
    }
    assert_eq!(
        exec(
            "from mlflow.utils import foo\nr = (foo is None, [foo][0] is foo)",
            "r"
        ),
        "(False, True)"
    );
}

#[test]
fn limitations_are_not_caught_by_except() {
    for src in [
        "from mlflow.utils import foo\ntry:\n    foo.bar\nexcept Exception:\n    pass\n",
        "try:\n    x = 'a'.casefold()\nexcept:\n    pass\n",
        "try:\n    x = 2 ** 100\nexcept OverflowError:\n    pass\n",
    ] {
        let err = fails(src);
        assert!(
            matches!(err, Error::NotModeled { .. } | Error::Unsupported { .. }),
            "{err}"
        );
    }
}

#[test]
fn finally_does_not_run_after_a_limitation() {
    let src = "from mlflow import x\nlog = []\ntry:\n    x()\nfinally:\n    raise ValueError('finally ran')\n";
    assert!(matches!(fails(src), Error::NotModeled { .. }));
}

#[test]
fn unsupported_syntax_is_reported_only_when_reached() {
    let src = "def never():\n    match x:\n        case 1:\n            pass\nr = 'fine'";
    assert_eq!(exec(src, "r"), "'fine'");
    let err = fails("x = 1\nmatch x:\n    case 1:\n        pass\n");
    assert_eq!(
        err.to_string(),
        format!("{PATH}:2:1: unsupported construct: match statement")
    );
}

#[test]
fn return_and_break_outside_their_blocks_are_syntax_errors() {
    assert!(error_text("x = 1\nreturn x\n").ends_with(
        "uncaught SyntaxError: 'return', 'break' or 'continue' outside a function or loop"
    ));
    assert_eq!(
        error_text("def f():\n    break\nf()\n"),
        format!("{PATH}:2:5: uncaught SyntaxError: 'break' or 'continue' outside loop")
    );
}

#[test]
fn decorators_apply_bottom_up_and_an_unmodeled_one_is_refused_at_the_decorator() {
    let err = fails("import functools\n\n@functools.cache\ndef f():\n    pass\n");
    assert_eq!(
        err.to_string(),
        format!("{PATH}:3:2: `functools` is not modeled (reading attribute `cache`)")
    );
    let src = "\
def tag(label):
    def wrap(f):
        return lambda *a: label + '(' + f(*a) + ')'
    return wrap
@tag('outer')
@tag('inner')
def name(x):
    return x
r = name('v')";
    assert_eq!(super::exec(src, "r"), "'outer(inner(v))'");
}

#[test]
fn deep_recursion_is_a_limit_error_not_a_stack_overflow() {
    let module = parse_module("def f(n):\n    return f(n + 1)\nf(0)\n").unwrap();
    let limits = Limits {
        max_depth: 50,
        ..Limits::default()
    };
    let mut interp = Interpreter::with_limits(Rc::new(NoHost), limits);
    let err = interp
        .run_module(&module, std::path::Path::new(PATH))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{PATH}:2:12: limit reached: more than 50 nested calls")
    );
    assert_eq!(err.pos(), Pos { line: 2, col: 12 });
    // With the default limits, the depth limit or the native stack budget (whichever a build's
    // frame sizes reach first) stops it.
    assert!(matches!(
        fails("def f(n):\n    return f(n + 1)\nf(0)\n"),
        Error::Limit { .. }
    ));
}

#[test]
fn deeply_nested_expressions_are_a_limit_error_not_a_stack_overflow() {
    // (The parser itself recurses too: the nesting here stays within what it handles.)
    let src = format!("x = {}1{}\n", "-(".repeat(400), ")".repeat(400));
    let module = parse_module(&src).unwrap();
    let limits = Limits {
        max_stack: 64 << 10,
        ..Limits::default()
    };
    let mut interp = Interpreter::with_limits(Rc::new(NoHost), limits);
    let err = interp
        .run_module(&module, std::path::Path::new(PATH))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("limit reached: nesting deeper than 64 KiB of native stack"),
        "{err}"
    );
}

#[test]
fn deep_recursion_is_caught_on_a_small_stack() {
    // Test threads have 2 MiB stacks; the depth limit must fire long before that runs out.
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let src = "def f(n):\n    if n:\n        for x in [1]:\n            with_list = [f(n - 1) for _ in [1]]\n    return {'a': [f'{n}']}\nf(1000)\n";
            fails(src).to_string()
        })
        .unwrap();
    assert!(handle.join().unwrap().contains("limit reached"));
}

#[test]
fn endless_loops_hit_the_iteration_limit() {
    let module = parse_module("n = 0\nwhile True:\n    n += 1\n").unwrap();
    let limits = Limits {
        max_iterations: 1000,
        ..Limits::default()
    };
    let mut interp = Interpreter::with_limits(Rc::new(NoHost), limits);
    let err = interp
        .run_module(&module, std::path::Path::new(PATH))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{PATH}:2:1: limit reached: more than 1000 loop iterations")
    );
    assert!(error_text("x = 'ab' * 10**9")
        .ends_with("limit reached: a sequence of more than 10000000 elements"));
}

#[test]
fn huge_paddings_are_limits_not_allocations() {
    assert!(error_text("x = f'{1:>200000}'")
        .contains("limit reached: format spec `>200000` beyond width 100000"));
    assert!(error_text("x = 'a'.zfill(10**9)").contains("limit reached"));
    assert!(error_text("x = '%*d' % (10**9, 1)").contains("limit reached"));
}

#[test]
fn self_containing_lists_do_not_recurse_forever() {
    assert!(error_text("a = []\na.append(a)\nr = repr(a)").contains("limit reached"));
    assert!(
        error_text("a = []\na.append(a)\nb = []\nb.append(b)\nr = a == b")
            .contains("limit reached")
    );
    assert_eq!(exec("a = []\na.append(a)\nr = a == [a]", "r"), "True");
}

#[test]
fn calling_a_missing_function_is_an_error() {
    let (mut interp, result) = run_with(Rc::new(NoHost), "x = 1\n");
    let ns = result.unwrap();
    let err = interp.call(&ns, "upgrade", Vec::new()).unwrap_err();
    assert!(err
        .to_string()
        .ends_with("uncaught AttributeError: module has no attribute 'upgrade'"));
}

#[test]
fn extreme_integers_in_slices_ranges_and_rounding_do_not_panic() {
    assert_eq!(exec("r = [1, 2, 3][::9223372036854775807]", "r"), "[1]");
    assert_eq!(exec("r = [1, 2, 3][::-9223372036854775807]", "r"), "[3]");
    assert_eq!(
        exec("r = len(range(-9223372036854775807, 0))", "r"),
        "9223372036854775807"
    );
    assert!(error_text("r = round(9223372036854775807, -1)").contains("beyond 64 bits"));
    assert_eq!(
        exec(
            "r = 5 in range(-9223372036854775807, 9223372036854775807, 5)",
            "r"
        ),
        "False"
    );
}
