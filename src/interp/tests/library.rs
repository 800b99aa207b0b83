//! Built-in functions and the methods of str, list, dict and set.

use super::{error_text, eval, exec};

#[test]
fn conversions() {
    assert_eq!(eval("(str(5), int('  42 '), int('ff', 16), int(3.9), int(-3.9), float('1.5'), bool([]), bool('x'))"), "('5', 42, 255, 3, -3, 1.5, False, True)");
    assert_eq!(eval("(list('ab'), tuple([1]), sorted(set('aba')), dict([('a', 1)], b=2), frozenset([1]) == {1})"), "(['a', 'b'], (1,), ['a', 'b'], {'a': 1, 'b': 2}, True)");
    assert!(error_text("x = int('x1')")
        .ends_with("uncaught ValueError: invalid literal for int() with base 10: 'x1'"));
    assert!(error_text("x = float('one')")
        .ends_with("uncaught ValueError: could not convert string to float: 'one'"));
}

#[test]
fn len_min_max_sum_any_all_abs_round() {
    assert_eq!(
        eval("(len('héllo'), len([1, 2]), len({'a': 1}), len(range(0, 10, 3)))"),
        "(5, 2, 1, 4)"
    );
    assert_eq!(
        eval(
            "(min(3, 1, 2), max([1, 5, 2]), max(['a', 'bbb', 'cc'], key=len), min([], default=0))"
        ),
        "(1, 5, 'bbb', 0)"
    );
    assert_eq!(
        eval("(sum([1, 2, 3]), sum([0.5, 0.5], 1), any([0, '', 'x']), all([1, []]), all([]))"),
        "(6, 2.0, True, False, True)"
    );
    assert_eq!(
        eval("(abs(-2.5), round(2.5), round(3.5), round(2.675, 2), round(1234, -2))"),
        "(2.5, 2, 4, 2.67, 1200)"
    );
    assert!(
        error_text("x = max([])").ends_with("uncaught ValueError: max() arg is an empty sequence")
    );
}

#[test]
fn sorted_is_stable_with_key_and_reverse() {
    assert_eq!(
        eval("sorted([('b', 1), ('a', 2), ('b', 0)], key=lambda p: p[0])"),
        "[('a', 2), ('b', 1), ('b', 0)]"
    );
    assert_eq!(eval("sorted([3, 1, 2], reverse=True)"), "[3, 2, 1]");
    assert_eq!(
        eval("sorted(['b', 'A', 'c'], key=str.lower)"),
        "['A', 'b', 'c']"
    );
    assert_eq!(eval("sorted([1, 1.5, True, 0])"), "[0, 1, True, 1.5]");
    assert!(error_text("x = sorted([1, 'a'])")
        .ends_with("uncaught TypeError: '<' not supported between instances of 'str' and 'int'"));
}

#[test]
fn iteration_helpers() {
    assert_eq!(
        eval("list(enumerate('ab', start=1))"),
        "[(1, 'a'), (2, 'b')]"
    );
    assert_eq!(eval("list(zip([1, 2, 3], 'ab'))"), "[(1, 'a'), (2, 'b')]");
    assert_eq!(eval("(list(reversed([1, 2])), list(range(5, 0, -2)), list(map(str, [1, 2])), list(filter(None, [0, 1, 2])))"), "([2, 1], [5, 3, 1], ['1', '2'], [1, 2])");
    assert_eq!(
        exec(
            "it = iter([1, 2])\nr = (next(it), next(it), next(it, 'end'))",
            "r"
        ),
        "(1, 2, 'end')"
    );
    assert!(error_text("it = iter([])\nnext(it)").ends_with("uncaught StopIteration"));
}

#[test]
fn isinstance_issubclass_type_and_attributes() {
    assert_eq!(eval("(isinstance(True, int), isinstance(1, (str, float)), isinstance('s', str), isinstance(None, object), isinstance({}, dict))"), "(True, False, True, True, True)");
    assert_eq!(eval("(issubclass(KeyError, LookupError), issubclass(bool, int), type(1.5).__name__, type([]) is list)"), "(True, True, 'float', True)");
    let src = "class C:\n    a = 1\nc = C()\nsetattr(c, 'b', 2)\nr = (getattr(c, 'a'), c.b, getattr(c, 'z', 'dflt'), hasattr(c, 'z'), hasattr(c, 'b'))";
    assert_eq!(exec(src, "r"), "(1, 2, 'dflt', False, True)");
    assert_eq!(eval("(callable(len), callable(1), format(3.14159, '.3f'), repr('x'), chr(97), ord('a'), hex(255), divmod(7, 2))"), "(True, False, '3.142', \"'x'\", 'a', 97, '0xff', (3, 1))");
}

#[test]
fn print_is_accepted_and_does_nothing() {
    assert_eq!(exec("r = print('hello', 1, sep='-')", "r"), "None");
}

#[test]
fn str_methods() {
    assert_eq!(eval("(', '.join(['a', 'b']), 'a,b,,c'.split(','), ' a  b '.split(), 'a b c'.split(None, 1), 'a.b.c'.rsplit('.', 1))"), "('a, b', ['a', 'b', '', 'c'], ['a', 'b'], ['a', 'b c'], ['a.b', 'c'])");
    assert_eq!(eval("('  x '.strip(), 'xxaxx'.strip('x'), ' x'.lstrip(), 'x \\n'.rstrip(), 'AbC'.lower(), 'abc'.upper())"), "('x', 'a', 'x', 'x', 'abc', 'ABC')");
    assert_eq!(eval("('abc'.startswith('ab'), 'abc'.endswith(('x', 'c')), 'abc'.replace('b', 'B'), 'banana'.find('an'), 'banana'.rfind('an'), 'banana'.count('a'))"), "(True, True, 'aBc', 1, 3, 3)");
    assert_eq!(eval("('a\\nb\\r\\nc'.splitlines(), '12'.isdigit(), '1a'.isdigit(), 'hello world'.title(), 'hELLO'.capitalize(), '42'.zfill(5), '-4'.zfill(4))"), "(['a', 'b', 'c'], True, False, 'Hello World', 'Hello', '00042', '-004')");
    assert_eq!(eval("('a=b'.partition('='), 'mlflow_x'.removeprefix('mlflow_'), 'ab'.center(6, '*'), 'ab'.ljust(4, '.'))"), "(('a', '=', 'b'), 'x', '**ab**', 'ab..')");
    assert!(
        error_text("x = 'abc'.index('z')").ends_with("uncaught ValueError: substring not found")
    );
}

#[test]
fn unimplemented_methods_are_limitations_not_attribute_errors() {
    assert!(error_text("x = 'abc'.casefold()").ends_with("unsupported construct: `str.casefold`"));
    assert!(
        error_text("try:\n    x = 'abc'.casefold()\nexcept AttributeError:\n    x = 1")
            .contains("unsupported construct")
    );
    assert!(error_text("x = 'abc'.nonexistent")
        .ends_with("uncaught AttributeError: 'str' object has no attribute 'nonexistent'"));
}

#[test]
fn list_methods() {
    let src = "l = [3, 1]\nl.append(2)\nl.extend('a')\nl.insert(0, 9)\np = l.pop()\nq = l.pop(0)\nl.remove(1)\ni = l.index(2)\nc = [1, 1, 2].count(1)\nl.sort()\nm = l.copy()\nl.reverse()\nr = (l, m, p, q, i, c)";
    assert_eq!(exec(src, "r"), "([3, 2], [2, 3], 'a', 9, 1, 2)");
    assert_eq!(
        exec(
            "l = ['bb', 'a', 'ccc']\nl.sort(key=len, reverse=True)\nr = l",
            "r"
        ),
        "['ccc', 'bb', 'a']"
    );
    assert!(error_text("x = [].pop()").ends_with("uncaught IndexError: pop from empty list"));
    assert!(error_text("x = [1].index(5)").ends_with("uncaught ValueError: 5 is not in list"));
}

#[test]
fn dict_methods() {
    let src = "d = {'a': 1}\ng = (d.get('a'), d.get('z'), d.get('z', 0))\nd.update({'b': 2}, )\nd.update([('c', 3)])\ns = d.setdefault('a', 9)\nt = d.setdefault('e', 5)\np = d.pop('c')\nq = d.pop('zz', None)\nr = (g, s, t, p, q, list(d.keys()), list(d.values()), d.items())";
    assert_eq!(
        exec(src, "r"),
        "((1, None, 0), 1, 5, 3, None, ['a', 'b', 'e'], [1, 2, 5], [('a', 1), ('b', 2), ('e', 5)])"
    );
    assert_eq!(eval("dict.fromkeys(['x', 'y'])"), "{'x': None, 'y': None}");
    assert_eq!(
        exec("d = {'a': 1}\ne = d.copy()\ne['a'] = 2\nr = d", "r"),
        "{'a': 1}"
    );
    assert!(error_text("x = {}.pop('k')").ends_with("uncaught KeyError: 'k'"));
}

#[test]
fn dicts_keep_insertion_order_through_deletes() {
    let src = "d = {}\nfor i in range(40):\n    d[i] = i\nfor i in range(0, 40, 2):\n    del d[i]\nd[0] = 'again'\nr = list(d)[:3] + list(d)[-2:]";
    assert_eq!(exec(src, "r"), "[1, 3, 5, 39, 0]");
}

#[test]
fn set_methods() {
    let src = "s = {1, 2}\ns.add(3)\ns.discard(9)\ns.remove(1)\nu = s.union([4], (5,))\ni = s.intersection({2, 7})\nd = s.difference([2])\ns.update('a')\nr = (sorted(u), i, d, 'a' in s, {1}.issubset({1, 2}), {1, 2}.issuperset([1]), {1}.isdisjoint({2}))";
    assert_eq!(
        exec(src, "r"),
        "([2, 3, 4, 5], {2}, {3}, True, True, True, True)"
    );
    assert!(error_text("s = set()\ns.remove(1)").ends_with("uncaught KeyError: 1"));
    assert!(error_text("s = {[1]}").ends_with("uncaught TypeError: unhashable type: 'list'"));
}

#[test]
fn unmodeled_builtins_are_limitations_not_name_errors() {
    assert!(error_text("x = vars()").ends_with("unsupported construct: the built-in `vars`"));
    assert!(
        error_text("try:\n    x = id(1)\nexcept NameError:\n    x = 0")
            .ends_with("unsupported construct: the built-in `id`")
    );
    assert!(error_text("x = __builtins__")
        .ends_with("unsupported construct: the built-in `__builtins__`"));
    assert!(error_text("x = undefined_name")
        .ends_with("uncaught NameError: name 'undefined_name' is not defined"));
}
