//! Expressions: operators, literals, comprehensions, f-strings and string formatting.

use super::{error_text, eval, exec};

#[test]
fn arithmetic_on_ints_and_floats_follows_python() {
    assert_eq!(
        eval("(7 // 2, -7 // 2, 7 % 3, -7 % 3, 7 % -3)"),
        "(3, -4, 1, 2, -2)"
    );
    assert_eq!(
        eval("(7 / 2, 2 ** 10, 2 ** -1, 1 + 2.5, 3 * True)"),
        "(3.5, 1024, 0.5, 3.5, 3)"
    );
    assert_eq!(
        eval("(-7.5 // 2, 7.5 % 2, abs(-3), -(-2))"),
        "(-4.0, 1.5, 3, 2)"
    );
    assert_eq!(
        eval("(1 << 4, 255 >> 4, 6 & 3, 6 | 3, 6 ^ 3, ~5)"),
        "(16, 15, 2, 7, 5, -6)"
    );
    assert_eq!(
        eval("(True & False, True | False, 0.1 + 0.2)"),
        "(False, True, 0.30000000000000004)"
    );
}

#[test]
fn arithmetic_on_sequences() {
    assert_eq!(
        eval("('ab' + 'c', 'ab' * 3, [1] + [2], (1,) * 2, 2 * [0])"),
        "('abc', 'ababab', [1, 2], (1, 1), [0, 0])"
    );
    assert_eq!(
        eval("({1, 2} | {3}, {1, 2} & {2}, {1, 2} - {1}, {'a': 1} | {'b': 2})"),
        "({1, 2, 3}, {2}, {2}, {'a': 1, 'b': 2})"
    );
}

#[test]
fn errors_from_operators_are_python_exceptions() {
    assert!(error_text("x = 1 / 0").ends_with("uncaught ZeroDivisionError: division by zero"));
    assert!(error_text("x = 1 // 0")
        .ends_with("uncaught ZeroDivisionError: integer division or modulo by zero"));
    assert!(error_text("x = 1 + 'a'")
        .ends_with("uncaught TypeError: unsupported operand type(s) for +: 'int' and 'str'"));
    assert!(error_text("x = 1 < 'a'")
        .ends_with("'<' not supported between instances of 'int' and 'str'"));
}

#[test]
fn integer_overflow_beyond_64_bits_is_a_limitation() {
    assert!(error_text("x = 2 ** 64")
        .ends_with("unsupported construct: integer arithmetic beyond 64 bits"));
}

#[test]
fn comparisons_chain_and_compare_across_types() {
    assert_eq!(
        eval("(1 < 2 < 3, 1 < 3 < 2, 1 == 1.0, 'a' < 'b', [1, 2] < [1, 3], (1, 2) == (1, 2))"),
        "(True, False, True, True, True, True)"
    );
    assert_eq!(eval("(None is None, [] is not [], 'a' in 'cat', 3 not in [1, 2], 'k' in {'k': 1}, 2 in range(0, 4, 2))"), "(True, True, True, True, True, True)");
    assert_eq!(
        eval("({1, 2} == {2, 1}, {'a': [1]} == {'a': [1]}, {1} < {1, 2}, 1 == True)"),
        "(True, True, True, True)"
    );
}

#[test]
fn boolean_operators_short_circuit_and_return_an_operand() {
    assert_eq!(
        eval("(0 or 'x', '' and 'y', None or [] or 'z', 1 and 2 and 3, not [])"),
        "('x', '', 'z', 3, True)"
    );
    assert_eq!(
        exec(
            "def boom():\n    raise ValueError\nr = False and boom()",
            "r"
        ),
        "False"
    );
}

#[test]
fn conditional_expressions_and_walrus() {
    assert_eq!(eval("'yes' if [0] else 'no'"), "'yes'");
    assert_eq!(exec("if (n := len('abcd')) > 3:\n    r = n", "r"), "4");
    assert_eq!(
        exec(
            "vals = [y for x in [1, 2, 3] if (y := x * 2) > 2]\nr = (vals, y)",
            "r"
        ),
        "([4, 6], 6)"
    );
}

#[test]
fn literals_with_unpacking() {
    assert_eq!(eval("[*'ab', *(1, 2), 3]"), "['a', 'b', 1, 2, 3]");
    assert_eq!(
        eval("{**{'a': 1, 'b': 2}, 'b': 3, 'c': 4}"),
        "{'a': 1, 'b': 3, 'c': 4}"
    );
    assert_eq!(eval("(1,)"), "(1,)");
    assert_eq!(eval("{1, 1, 2, True}"), "{1, 2}");
}

#[test]
fn calls_unpack_star_and_double_star_arguments() {
    let src = "def f(*args, **kwargs):\n    return args, kwargs\nopts = {'unique': True}\nr = f(*[1, 2], 3, *(), name='i', **opts)";
    assert_eq!(exec(src, "r"), "((1, 2, 3), {'name': 'i', 'unique': True})");
    assert!(error_text("def f(**k):\n    pass\nf(a=1, **{'a': 2})")
        .ends_with("got multiple values for keyword argument 'a'"));
}

#[test]
fn subscripts_and_slices() {
    assert_eq!(
        eval("('hello'[1], 'hello'[-1], 'hello'[1:3], 'hello'[::-1], 'hello'[:10])"),
        "('e', 'o', 'el', 'olleh', 'hello')"
    );
    assert_eq!(
        eval("([0, 1, 2, 3, 4][::2], (0, 1, 2)[-2:], [1, 2][5:], {'a': 1}['a'])"),
        "([0, 2, 4], (1, 2), [], 1)"
    );
    assert_eq!(
        eval("(range(10)[2], range(10)[-1], 'héllo'[1])"),
        "(2, 9, 'é')"
    );
    assert!(error_text("x = [1][3]").ends_with("uncaught IndexError: list index out of range"));
    assert!(error_text("x = {'a': 1}['b']").ends_with("uncaught KeyError: 'b'"));
}

#[test]
fn comprehensions_of_every_kind() {
    assert_eq!(
        eval("[x * y for x in range(3) for y in (1, 10) if x]"),
        "[1, 10, 2, 20]"
    );
    assert_eq!(
        eval("{k: v for k, v in [('a', 1), ('b', 2)] if v > 1}"),
        "{'b': 2}"
    );
    assert_eq!(
        eval("sorted({c.upper() for c in 'abca'})"),
        "['A', 'B', 'C']"
    );
    assert_eq!(eval("sum(x for x in range(5))"), "10");
    assert_eq!(eval("next(x for x in 'abc' if x > 'a')"), "'b'");
    assert_eq!(
        exec("x = 'outer'\nys = [x for x in 'ab']\nr = x", "r"),
        "'outer'"
    );
}

#[test]
fn f_strings_with_conversions_and_format_specs() {
    assert_eq!(exec("name = 'runs'\nn = 3\nr = f'{name!r}: {n:>4}|{n:<3}|{3.14159:.2f}|{255:x}|{1234567:,}|{n:d}'", "r"), "\"'runs':    3|3  |3.14|ff|1,234,567|3\"");
    assert_eq!(
        exec(
            "w = 6\nr = f'{\"ab\":>{w}}|{None}|{[1, \"a\"]}|{n!s:>2}' if (n := 5) else ''",
            "r"
        ),
        "\"    ab|None|[1, 'a']| 5\""
    );
    assert_eq!(exec("x = 2\nr = f'{x=}, {x * 2=}'", "r"), "'x=2, x * 2=4'");
    assert_eq!(eval("f'{{literal}} {1}{2}'"), "'{literal} 12'");
}

#[test]
fn percent_formatting_with_tuples_and_mappings() {
    assert_eq!(eval("'%s-%d-%r' % ('a', 3.9, 'b')"), "\"a-3-'b'\"");
    assert_eq!(
        eval("'%(table_name)s_%(column_0_name)s' % {'table_name': 't', 'column_0_name': 'c'}"),
        "'t_c'"
    );
    assert_eq!(
        eval("'%5.1f|%-4s|%03d|%x|%%' % (2.25, 'ab', 7, 255)"),
        "'  2.2|ab  |007|ff|%'"
    );
    assert_eq!(eval("'value: %s' % [1, 2]"), "'value: [1, 2]'");
    assert!(error_text("x = '%s %s' % ('a',)")
        .ends_with("uncaught TypeError: not enough arguments for format string"));
    assert!(error_text("x = '%s' % ('a', 'b')")
        .ends_with("not all arguments converted during string formatting"));
}

#[test]
fn str_format_with_positions_names_attributes_and_specs() {
    assert_eq!(eval("'{} and {}'.format('a', 'b')"), "'a and b'");
    assert_eq!(eval("'{1}{0}{1}'.format('a', 'b')"), "'bab'");
    assert_eq!(
        eval("'{name}:{n:03d}:{v!r}'.format(name='x', n=7, v='q')"),
        "\"x:007:'q'\""
    );
    assert_eq!(eval("'{0[k]} {1[1]}'.format({'k': 'v'}, [5, 6])"), "'v 6'");
    assert_eq!(eval("'{:>{w}}'.format('z', w=3)"), "'  z'");
    assert!(error_text("x = '{} {}'.format(1)").ends_with(
        "uncaught IndexError: Replacement index 1 out of range for positional args tuple"
    ));
    assert!(error_text("x = '{missing}'.format()").ends_with("uncaught KeyError: 'missing'"));
}

#[test]
fn reprs_and_strs_match_python() {
    assert_eq!(
        eval("[1.0, 'it\\'s', None, True, (1,), {}, set(), b'x']"),
        "[1.0, \"it's\", None, True, (1,), {}, set(), b'x']"
    );
    assert_eq!(eval("repr('it\\'s \"q\"')"), "'\\'it\\\\\\'s \"q\"\\''");
    assert_eq!(
        eval("(str(1e16), str(0.1), str(-0.0), str(1e-05), repr(frozenset()))"),
        "('1e+16', '0.1', '-0.0', '1e-05', 'frozenset()')"
    );
    assert_eq!(eval("str(ValueError('bad'))"), "'bad'");
    assert_eq!(eval("repr(KeyError('k'))"), "\"KeyError('k')\"");
    assert_eq!(eval("str(KeyError('k'))"), "\"'k'\"");
}
