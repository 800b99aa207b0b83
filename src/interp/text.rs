//! String formatting that needs values: `format(x, spec)` and f-string fields, `str % args`,
//! and `str.format(*args, **kwargs)`.

use super::ctx::Ctx;
use super::error::Result;
use super::format::{
    ascii_escape, format_float, format_int, format_str, parse_spec, Spec, SpecError, MAX_WIDTH,
};
use super::value::Value;

impl Ctx {
    /// `format(value, spec)`.
    pub(crate) fn format_value(&mut self, v: &Value, spec: &str) -> Result<String> {
        if spec.is_empty() {
            return self.str_of(v);
        }
        let parsed = match parse_spec(spec) {
            Ok(p) => p,
            Err(SpecError::TooBig) => {
                return Err(self.limit(format!("format spec `{spec}` beyond width {MAX_WIDTH}")))
            }
            Err(SpecError::Invalid(m)) if m == "Invalid format specifier" => {
                return Err(self.raise(
                    "ValueError",
                    format!("{m} '{spec}' for object of type '{}'", v.type_name()),
                ))
            }
            Err(SpecError::Invalid(m)) => return Err(self.raise("ValueError", m)),
        };
        let result = match v {
            Value::Int(i) => format_int(*i, &parsed),
            Value::Bool(b) => format_int(*b as i64, &parsed),
            Value::Float(f) => format_float(*f, &parsed),
            Value::Str(s) => format_str(s, &parsed),
            Value::Native(n) => {
                return Err(self.native_unsupported(
                    n.type_name(),
                    format!("formatting with the spec `{spec}`"),
                ))
            }
            Value::Opaque(o) => return Err(self.not_modeled(&o.name, "formatting it")),
            other => {
                return Err(self.type_error(format!(
                    "unsupported format string passed to {}.__format__",
                    other.type_name()
                )))
            }
        };
        result.map_err(|m| self.raise("ValueError", m))
    }

    /// `template % arg`: `%s %r %a %d %i %f %e %g %x %o %c %%`, flags, width, precision,
    /// `*`, and `%(name)s` with a mapping.
    pub(crate) fn percent_format(&mut self, template: &str, arg: &Value) -> Result<String> {
        let chars: Vec<char> = template.chars().collect();
        let uses_names = template.contains("%(");
        let mapping = matches!(arg, Value::Dict(_)) && uses_names;
        let mut args: Vec<Value> = match arg {
            Value::Tuple(t) => t.to_vec(),
            _ if mapping => Vec::new(),
            other => vec![other.clone()],
        };
        args.reverse();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '%' {
                out.push(c);
                continue;
            }
            let value = self.percent_key(&chars, &mut i, arg)?;
            let spec = self.percent_spec(&chars, &mut i, &mut args)?;
            let conv = self.percent_conversion(&chars, &mut i)?;
            if conv == '%' {
                out.push('%');
                continue;
            }
            let v = match value {
                Some(v) => v,
                None => args
                    .pop()
                    .ok_or_else(|| self.type_error("not enough arguments for format string"))?,
            };
            out.push_str(&self.percent_one(conv, &v, spec)?);
        }
        if !args.is_empty() {
            return Err(self.type_error("not all arguments converted during string formatting"));
        }
        Ok(out)
    }

    /// The value a `%(name)` key at `chars[*i]` names in the mapping `arg`, advancing past the
    /// key; `None` when the directive has no key.
    fn percent_key(&mut self, chars: &[char], i: &mut usize, arg: &Value) -> Result<Option<Value>> {
        if chars.get(*i) != Some(&'(') {
            return Ok(None);
        }
        let Some(close) = chars[*i..].iter().position(|c| *c == ')') else {
            return Err(self.raise("ValueError", "incomplete format key"));
        };
        let name: String = chars[*i + 1..*i + close].iter().collect();
        *i += close + 1;
        let Value::Dict(d) = arg else {
            return Err(self.type_error("format requires a mapping"));
        };
        let key = self.key(&Value::string(name.clone()))?;
        let found = d.borrow().get(&key).cloned();
        match found {
            Some(v) => Ok(Some(v)),
            None => Err(self.key_error(&Value::string(name))),
        }
    }

    /// The flags, width and precision of a directive (taking `*` ones from `args`), advancing
    /// past them and any length modifier.
    fn percent_spec(
        &mut self,
        chars: &[char],
        i: &mut usize,
        args: &mut Vec<Value>,
    ) -> Result<Spec> {
        let mut spec = Spec::default();
        while let Some(&f @ ('-' | '+' | ' ' | '#' | '0')) = chars.get(*i) {
            match f {
                '-' => spec.align = Some('<'),
                '+' | ' ' => spec.sign = if spec.sign == '+' { '+' } else { f },
                '#' => spec.alternate = true,
                _ => {
                    if spec.align.is_none() {
                        spec.fill = '0';
                        spec.align = Some('=');
                    }
                }
            }
            *i += 1;
        }
        if spec.align == Some('<') {
            spec.fill = ' ';
        }
        spec.width = self.percent_number(chars, i, args)?.unwrap_or(0);
        if chars.get(*i) == Some(&'.') {
            *i += 1;
            spec.precision = Some(self.percent_number(chars, i, args)?.unwrap_or(0));
        }
        while matches!(chars.get(*i), Some('h' | 'l' | 'L')) {
            *i += 1;
        }
        Ok(spec)
    }

    /// The conversion character of a directive, advancing past it; an unknown one is a
    /// `ValueError`.
    fn percent_conversion(&self, chars: &[char], i: &mut usize) -> Result<char> {
        let Some(&conv) = chars.get(*i) else {
            return Err(self.raise("ValueError", "incomplete format"));
        };
        *i += 1;
        if !"sradiuxXofFeEgGc%".contains(conv) {
            return Err(self.raise(
                "ValueError",
                format!(
                    "unsupported format character '{conv}' ({:#x}) at index {}",
                    conv as u32,
                    *i - 1
                ),
            ));
        }
        Ok(conv)
    }

    fn percent_number(
        &mut self,
        chars: &[char],
        i: &mut usize,
        args: &mut Vec<Value>,
    ) -> Result<Option<usize>> {
        if chars.get(*i) == Some(&'*') {
            *i += 1;
            let v = args
                .pop()
                .ok_or_else(|| self.type_error("not enough arguments for format string"))?;
            return match v {
                Value::Int(n) if n <= MAX_WIDTH as i64 => Ok(Some(n.max(0) as usize)),
                Value::Int(_) => {
                    Err(self.limit(format!("a %-format width or precision beyond {MAX_WIDTH}")))
                }
                _ => Err(self.type_error("* wants int")),
            };
        }
        let start = *i;
        while chars.get(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
        let digits: String = chars[start..*i].iter().collect();
        match digits.parse::<usize>() {
            Ok(n) if n <= MAX_WIDTH => Ok(Some(n)),
            Ok(_) => Err(self.limit(format!("a %-format width or precision beyond {MAX_WIDTH}"))),
            Err(_) if digits.is_empty() => Ok(None),
            Err(_) => Err(self.limit(format!("a %-format width or precision beyond {MAX_WIDTH}"))),
        }
    }

    fn percent_one(&mut self, conv: char, v: &Value, mut spec: Spec) -> Result<String> {
        let number = |ctx: &mut Ctx, v: &Value, what: &str| -> Result<Value> {
            match v {
                Value::Int(_) | Value::Bool(_) | Value::Float(_) => Ok(v.clone()),
                other => Err(ctx.type_error(format!(
                    "%{what} format: a real number is required, not {}",
                    other.type_name()
                ))),
            }
        };
        let result = match conv {
            's' | 'r' | 'a' => {
                let s = match conv {
                    's' => self.str_of(v)?,
                    'r' => self.repr_of(v)?,
                    _ => ascii_escape(&self.repr_of(v)?),
                };
                // `%5s` pads on the left; `0` is ignored for strings.
                if spec.align != Some('<') {
                    spec.align = Some('>');
                    spec.fill = ' ';
                }
                format_str(&s, &spec)
            }
            'd' | 'i' | 'u' => {
                let n = match number(self, v, "d")? {
                    Value::Float(f) if f.is_finite() => f.trunc() as i64,
                    Value::Float(_) => {
                        return Err(self.raise(
                            "OverflowError",
                            "cannot convert float infinity or NaN to integer",
                        ))
                    }
                    other => other.as_int().unwrap_or(0),
                };
                spec.ty = Some('d');
                format_int(n, &spec)
            }
            'x' | 'X' | 'o' => {
                let Some(n) = v.as_int() else {
                    return Err(self.type_error(format!(
                        "%{conv} format: an integer is required, not {}",
                        v.type_name()
                    )));
                };
                spec.ty = Some(conv);
                format_int(n, &spec)
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                let f = match number(self, v, &conv.to_string())? {
                    Value::Float(f) => f,
                    other => other.as_int().unwrap_or(0) as f64,
                };
                spec.ty = Some(conv);
                format_float(f, &spec)
            }
            'c' => match v {
                Value::Int(n) => {
                    spec.ty = Some('c');
                    format_int(*n, &spec)
                }
                Value::Str(s) if s.chars().count() == 1 => format_str(s, &spec),
                _ => return Err(self.type_error("%c requires an int or a unicode character")),
            },
            other => {
                return Err(self.raise(
                    "ValueError",
                    format!("unsupported format character '{other}'"),
                ))
            }
        };
        result.map_err(|m| self.raise("ValueError", m))
    }

    /// `template.format(*args, **kwargs)`: `{}`, `{0}`, `{name}`, `{name.attr}`, `{name[key]}`,
    /// `!r`/`!s`/`!a`, format specs (with one level of nested fields), `{{`/`}}`.
    pub(crate) fn str_format(
        &mut self,
        template: &str,
        args: &[Value],
        kwargs: &[(String, Value)],
    ) -> Result<String> {
        let mut auto = Some(0usize);
        let mut manual = false;
        self.format_fields(template, args, kwargs, &mut auto, &mut manual, 0)
    }

    fn format_fields(
        &mut self,
        template: &str,
        args: &[Value],
        kwargs: &[(String, Value)],
        auto: &mut Option<usize>,
        manual: &mut bool,
        level: u8,
    ) -> Result<String> {
        let chars: Vec<char> = template.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    out.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    out.push('}');
                    i += 2;
                }
                '}' => {
                    return Err(self.raise("ValueError", "Single '}' encountered in format string"))
                }
                '{' => {
                    let mut depth = 1;
                    let mut j = i + 1;
                    while j < chars.len() {
                        match chars[j] {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        j += 1;
                    }
                    if j >= chars.len() {
                        let message = if depth == 1 && i + 1 == chars.len() {
                            "Single '{' encountered in format string"
                        } else {
                            "expected '}' before end of string"
                        };
                        return Err(self.raise("ValueError", message));
                    }
                    let field: String = chars[i + 1..j].iter().collect();
                    out.push_str(&self.format_field(&field, args, kwargs, auto, manual, level)?);
                    i = j + 1;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    fn format_field(
        &mut self,
        field: &str,
        args: &[Value],
        kwargs: &[(String, Value)],
        auto: &mut Option<usize>,
        manual: &mut bool,
        level: u8,
    ) -> Result<String> {
        let (name_part, spec) = match field.find(':') {
            Some(p) => (&field[..p], &field[p + 1..]),
            None => (field, ""),
        };
        let (name, conversion) = match name_part.find('!') {
            Some(p) => (&name_part[..p], name_part[p + 1..].chars().next()),
            None => (name_part, None),
        };
        let first_end = name.find(['.', '[']).unwrap_or(name.len());
        let (first, mut rest) = name.split_at(first_end);
        let mut value = if first.is_empty() {
            if *manual {
                return Err(self.raise(
                    "ValueError",
                    "cannot switch from manual field specification to automatic field numbering",
                ));
            }
            let n = auto.unwrap_or(0);
            *auto = Some(n + 1);
            args.get(n).cloned().ok_or_else(|| {
                self.raise(
                    "IndexError",
                    format!("Replacement index {n} out of range for positional args tuple"),
                )
            })?
        } else if let Ok(n) = first.parse::<usize>() {
            if auto.is_some_and(|a| a > 0) {
                return Err(self.raise(
                    "ValueError",
                    "cannot switch from automatic field numbering to manual field specification",
                ));
            }
            *manual = true;
            args.get(n).cloned().ok_or_else(|| {
                self.raise(
                    "IndexError",
                    format!("Replacement index {n} out of range for positional args tuple"),
                )
            })?
        } else {
            match kwargs.iter().find(|(k, _)| k == first) {
                Some((_, v)) => v.clone(),
                None => return Err(self.key_error(&Value::str(first))),
            }
        };
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                value = self.get_attr(&value, &after[..end])?;
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let Some(end) = after.find(']') else {
                    return Err(self.raise("ValueError", "Missing ']' in format string"));
                };
                let key = &after[..end];
                let index = match key.parse::<i64>() {
                    Ok(n) => Value::Int(n),
                    Err(_) => Value::str(key),
                };
                value = self.get_item(&value, &index)?;
                rest = &after[end + 1..];
            } else {
                return Err(self.raise(
                    "ValueError",
                    "Only '.' or '[' may follow ']' in format field specifier",
                ));
            }
        }
        let value = match conversion {
            None => value,
            Some('r') => Value::string(self.repr_of(&value)?),
            Some('s') => Value::string(self.str_of(&value)?),
            Some('a') => Value::string(ascii_escape(&self.repr_of(&value)?)),
            Some(c) => {
                return Err(self.raise("ValueError", format!("Unknown conversion specifier {c}")))
            }
        };
        let spec = if spec.contains('{') {
            if level >= 1 {
                return Err(self.raise("ValueError", "Max string recursion exceeded"));
            }
            self.format_fields(spec, args, kwargs, auto, manual, level + 1)?
        } else {
            spec.to_string()
        };
        self.format_value(&value, &spec)
    }
}
