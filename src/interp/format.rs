//! Python's text forms of numbers and strings: `repr` of floats, strings and bytes, and the
//! format-spec mini-language (`>10`, `<5`, `.2f`, `d`, `x`, `,`, `08.3f`, `+e`, `%`, ...).

use std::fmt::Write;

/// `repr(float)`: the shortest round-tripping digits, laid out as Python does (`1.0`, `1e+16`,
/// `1.5e-05`, `inf`, `nan`).
pub(crate) fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let body = if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() > int_len {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            } else {
                format!("{}{}.0", digits, "0".repeat(int_len - digits.len()))
            }
        } else {
            format!("0.{}{}", "0".repeat((-exp - 1) as usize), digits)
        }
    } else {
        format!(
            "{mantissa}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    };
    format!("{sign}{body}")
}

/// `repr(str)`: single quotes unless the text has a single quote and no double quote.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20
                || c as u32 == 0x7f
                || ((c as u32) >= 0x80 && (c as u32) < 0xa0) =>
            {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(bytes)`.
pub(crate) fn bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::from("b");
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push(quote as char);
    out
}

/// `ascii()`: non-ASCII characters escaped.
pub(crate) fn ascii_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let n = c as u32;
        if n < 0x80 {
            out.push(c);
        } else if n < 0x100 {
            let _ = write!(out, "\\x{n:02x}");
        } else if n < 0x10000 {
            let _ = write!(out, "\\u{n:04x}");
        } else {
            let _ = write!(out, "\\U{n:08x}");
        }
    }
    out
}

/// A parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    pub fill: char,
    pub align: Option<char>,
    pub sign: char,
    pub alternate: bool,
    pub width: usize,
    pub grouping: Option<char>,
    pub precision: Option<usize>,
    pub ty: Option<char>,
}

impl Default for Spec {
    /// What an empty spec means: no fill but spaces, no alignment, a sign only when negative.
    fn default() -> Self {
        Spec {
            fill: ' ',
            align: None,
            sign: '-',
            alternate: false,
            width: 0,
            grouping: None,
            precision: None,
            ty: None,
        }
    }
}

/// Why a format spec was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SpecError {
    /// Python refuses it too (a `ValueError`).
    Invalid(String),
    /// Valid, but the padding or precision is beyond what we produce.
    TooBig,
}

impl From<&str> for SpecError {
    fn from(m: &str) -> Self {
        SpecError::Invalid(m.to_string())
    }
}

/// The largest width or precision we format.
pub(crate) const MAX_WIDTH: usize = 100_000;

pub(crate) fn parse_spec(spec: &str) -> Result<Spec, SpecError> {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut out = Spec::default();
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        out.fill = chars[0];
        out.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|c| is_align(*c)) {
        out.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c @ ('+' | '-' | ' ')) = chars.get(i) {
        out.sign = c;
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        out.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        if out.align.is_none() {
            out.fill = '0';
            out.align = Some('=');
        }
        i += 1;
    }
    let digits = |i: &mut usize| -> Option<usize> {
        let start = *i;
        while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>().parse().ok()
    };
    out.width = digits(&mut i).unwrap_or(0);
    if let Some(&c @ (',' | '_')) = chars.get(i) {
        out.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        out.precision = Some(digits(&mut i).ok_or("Format specifier missing precision")?);
    }
    if let Some(&c) = chars.get(i) {
        out.ty = Some(c);
        i += 1;
    }
    if i != chars.len() {
        return Err("Invalid format specifier".into());
    }
    if out.width > MAX_WIDTH || out.precision.is_some_and(|p| p > MAX_WIDTH) {
        return Err(SpecError::TooBig);
    }
    Ok(out)
}

/// Insert a grouping separator every `every` digits of an unsigned digit string.
fn group(digits: &str, sep: char, every: usize) -> String {
    let n = digits.len();
    let mut out = String::with_capacity(n + n / every);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Pad `body` (without sign) to the spec's width; `=` puts the padding after the sign.
fn pad(sign: &str, body: &str, spec: &Spec, default_align: char) -> String {
    let len = sign.chars().count() + body.chars().count();
    let fill = spec.width.saturating_sub(len);
    let fills = |n: usize| spec.fill.to_string().repeat(n);
    match spec.align.unwrap_or(default_align) {
        '<' => format!("{sign}{body}{}", fills(fill)),
        '^' => format!("{}{sign}{body}{}", fills(fill / 2), fills(fill - fill / 2)),
        '=' => format!("{sign}{}{body}", fills(fill)),
        _ => format!("{}{sign}{body}", fills(fill)),
    }
}

fn sign_of(negative: bool, spec: &Spec) -> &'static str {
    match (negative, spec.sign) {
        (true, _) => "-",
        (false, '+') => "+",
        (false, ' ') => " ",
        _ => "",
    }
}

pub(crate) fn format_str(s: &str, spec: &Spec) -> Result<String, String> {
    if !matches!(spec.ty, None | Some('s')) {
        return Err(format!(
            "Unknown format code '{}' for object of type 'str'",
            spec.ty.unwrap_or(' ')
        ));
    }
    if spec.sign != '-' || spec.align == Some('=') || spec.grouping.is_some() {
        return Err(
            "Sign, alignment '=' and grouping are not allowed in string format specifier".into(),
        );
    }
    let body: String = match spec.precision {
        Some(p) => s.chars().take(p).collect(),
        None => s.to_string(),
    };
    Ok(pad("", &body, spec, '<'))
}

pub(crate) fn format_int(i: i64, spec: &Spec) -> Result<String, String> {
    let ty = spec.ty.unwrap_or('d');
    if matches!(ty, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') {
        return format_float(i as f64, spec);
    }
    if spec.precision.is_some() {
        return Err("Precision not allowed in integer format specifier".into());
    }
    let magnitude = i.unsigned_abs();
    let (digits, prefix, every) = match ty {
        'd' | 'n' => (magnitude.to_string(), "", 3),
        'x' => (format!("{magnitude:x}"), "0x", 4),
        'X' => (format!("{magnitude:X}"), "0X", 4),
        'o' => (format!("{magnitude:o}"), "0o", 4),
        'b' => (format!("{magnitude:b}"), "0b", 4),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or("%c arg not in range(0x110000)")?;
            return Ok(pad("", &c.to_string(), spec, '<'));
        }
        other => {
            return Err(format!(
                "Unknown format code '{other}' for object of type 'int'"
            ))
        }
    };
    let digits = match spec.grouping {
        Some(',') if ty != 'd' => return Err("Cannot specify ',' with this format code".into()),
        Some(sep) => group(&digits, sep, every),
        None => digits,
    };
    let sign = format!(
        "{}{}",
        sign_of(i < 0, spec),
        if spec.alternate { prefix } else { "" }
    );
    Ok(pad(&sign, &digits, spec, '>'))
}

/// Python's exponent notation: at least two exponent digits, always signed.
fn exp_notation(x: f64, precision: usize, upper: bool) -> String {
    let s = format!("{:.*e}", precision, x);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    format!(
        "{mantissa}{e}{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    )
}

/// The general format (`g`): fixed or exponent notation by magnitude, trailing zeros removed.
fn general(x: f64, precision: usize, alternate: bool, upper: bool) -> String {
    let p = precision.max(1);
    let exp = if x == 0.0 {
        0
    } else {
        let s = format!("{:.*e}", p - 1, x);
        s.split_once('e')
            .and_then(|(_, e)| e.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let strip = |s: String| -> String {
        if alternate || !s.contains('.') {
            s
        } else {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    };
    if exp >= -4 && exp < p as i32 {
        strip(format!("{:.*}", (p as i32 - 1 - exp) as usize, x))
    } else {
        let s = exp_notation(x, p - 1, upper);
        let (mantissa, exponent) = s.split_at(s.find(['e', 'E']).unwrap_or(s.len()));
        format!("{}{exponent}", strip(mantissa.to_string()))
    }
}

pub(crate) fn format_float(x: f64, spec: &Spec) -> Result<String, String> {
    let negative = x.is_sign_negative() && !x.is_nan();
    let a = x.abs();
    let upper = matches!(spec.ty, Some('E' | 'F' | 'G'));
    let body = if !a.is_finite() {
        let s = if a.is_nan() { "nan" } else { "inf" };
        if upper {
            s.to_uppercase()
        } else {
            s.to_string()
        }
    } else {
        match spec.ty {
            Some('f' | 'F') => format!("{:.*}", spec.precision.unwrap_or(6), a),
            Some('e' | 'E') => exp_notation(a, spec.precision.unwrap_or(6), upper),
            Some('g' | 'G') => general(a, spec.precision.unwrap_or(6), spec.alternate, upper),
            Some('%') => format!("{:.*}%", spec.precision.unwrap_or(6), a * 100.0),
            None => match spec.precision {
                None => float_repr(a),
                Some(p) => {
                    let s = general(a, p, spec.alternate, false);
                    if s.contains(['.', 'e']) {
                        s
                    } else {
                        format!("{s}.0")
                    }
                }
            },
            Some(other) => {
                return Err(format!(
                    "Unknown format code '{other}' for object of type 'float'"
                ))
            }
        }
    };
    let body = match spec.grouping {
        Some(sep) if a.is_finite() => {
            let split = body
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(body.len());
            format!("{}{}", group(&body[..split], sep, 3), &body[split..])
        }
        _ => body,
    };
    Ok(pad(sign_of(negative, spec), &body, spec, '>'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64, spec: &str) -> String {
        format_float(x, &parse_spec(spec).unwrap()).unwrap()
    }

    fn i(x: i64, spec: &str) -> String {
        format_int(x, &parse_spec(spec).unwrap()).unwrap()
    }

    #[test]
    fn float_repr_matches_python_layout() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.1), "0.1");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1.5e-5), "1.5e-05");
        assert_eq!(float_repr(123456789.0), "123456789.0");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(f64::INFINITY), "inf");
        assert_eq!(float_repr(-0.0), "-0.0");
    }

    #[test]
    fn format_specs_for_numbers() {
        assert_eq!(f(2.34567, ".2f"), "2.35");
        assert_eq!(f(1234567.891, ",.2f"), "1,234,567.89");
        assert_eq!(f(0.5, ".0%"), "50%");
        assert_eq!(f(12345.678, "e"), "1.234568e+04");
        assert_eq!(f(0.00001234, "g"), "1.234e-05");
        assert_eq!(f(100000.0, "g"), "100000");
        assert_eq!(f(1.0, ".3"), "1.0");
        assert_eq!(f(-1.5, "08.2f"), "-0001.50");
        assert_eq!(i(42, ">5"), "   42");
        assert_eq!(i(42, "<5"), "42   ");
        assert_eq!(i(42, "^6"), "  42  ");
        assert_eq!(i(255, "x"), "ff");
        assert_eq!(i(255, "#X"), "0XFF");
        assert_eq!(i(1234567, ","), "1,234,567");
        assert_eq!(i(-42, "05d"), "-0042");
        assert_eq!(i(7, "+d"), "+7");
        assert_eq!(i(5, "*>4"), "***5");
    }

    #[test]
    fn string_specs_pad_and_truncate() {
        let s = |x: &str, spec: &str| format_str(x, &parse_spec(spec).unwrap()).unwrap();
        assert_eq!(s("ab", ">5"), "   ab");
        assert_eq!(s("ab", "<5"), "ab   ");
        assert_eq!(s("abcdef", ".3"), "abc");
        assert!(parse_spec("5x5").is_err());
    }

    #[test]
    fn reprs_quote_like_python() {
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a\nb"), "'a\\nb'");
        assert_eq!(str_repr("é"), "'é'");
        assert_eq!(bytes_repr(b"a\x00"), "b'a\\x00'");
        assert_eq!(ascii_escape("é"), "\\xe9");
    }
}
