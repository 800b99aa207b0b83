//! Methods of `str` (and `bytes.decode`). Indices are in characters, as in Python.

use super::ctx::Ctx;
use super::error::Result;
use super::value::Value;

/// Python's `str.splitlines` boundaries.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The byte offset of character index `i` (clamped to the end).
fn byte_at(s: &str, i: usize) -> usize {
    s.char_indices().nth(i).map_or(s.len(), |(b, _)| b)
}

/// Resolve optional `start`/`end` arguments to a byte range of `s`.
fn char_range(s: &str, start: Option<i64>, end: Option<i64>) -> Option<(usize, usize)> {
    let len = s.chars().count() as i64;
    let norm = |v: i64| if v < 0 { (v + len).max(0) } else { v.min(len) };
    let (a, b) = (norm(start.unwrap_or(0)), norm(end.unwrap_or(len)));
    (a <= b).then(|| (byte_at(s, a as usize), byte_at(s, b as usize)))
}

fn char_index(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

fn split_whitespace(s: &str, maxsplit: i64, from_right: bool) -> Vec<String> {
    let mut out = Vec::new();
    if from_right {
        let mut rest = s.trim_end();
        while !rest.is_empty() {
            if maxsplit >= 0 && out.len() as i64 == maxsplit {
                out.push(rest.to_string());
                break;
            }
            match rest.rfind(char::is_whitespace) {
                Some(p) => {
                    let ws_len = rest[p..].chars().next().map_or(1, char::len_utf8);
                    out.push(rest[p + ws_len..].to_string());
                    rest = rest[..p].trim_end();
                }
                None => {
                    out.push(rest.to_string());
                    break;
                }
            }
        }
        out.reverse();
    } else {
        let mut rest = s.trim_start();
        while !rest.is_empty() {
            if maxsplit >= 0 && out.len() as i64 == maxsplit {
                out.push(rest.to_string());
                break;
            }
            match rest.find(char::is_whitespace) {
                Some(p) => {
                    out.push(rest[..p].to_string());
                    rest = rest[p..].trim_start();
                }
                None => {
                    out.push(rest.to_string());
                    break;
                }
            }
        }
    }
    out
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

impl Ctx {
    fn str_arg<'a>(&self, method: &str, v: &'a Value) -> Result<&'a str> {
        v.as_str().ok_or_else(|| {
            self.type_error(format!(
                "{method}() argument must be str, not {}",
                v.type_name()
            ))
        })
    }

    fn opt_int(&self, v: Option<&Value>) -> Result<Option<i64>> {
        match v {
            None | Some(Value::None) => Ok(None),
            Some(v) => v
                .as_int()
                .map(Some)
                .ok_or_else(|| self.type_error("slice indices must be integers or None")),
        }
    }

    pub(crate) fn str_method(
        &mut self,
        s: &str,
        name: &str,
        args: Vec<Value>,
        mut kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if name == "format" {
            return Ok(Value::string(self.str_format(s, &args, &kwargs)?));
        }
        let mut kw = |k: &str| {
            kwargs
                .iter()
                .position(|(n, _)| n == k)
                .map(|i| kwargs.remove(i).1)
        };
        let (sep_kw, max_kw) = if matches!(name, "split" | "rsplit") {
            (kw("sep"), kw("maxsplit"))
        } else {
            (None, None)
        };
        let keepends = if name == "splitlines" {
            kw("keepends")
        } else {
            None
        };
        let encoding = if name == "encode" {
            let encoding = kw("encoding");
            let _errors_mode_irrelevant_for_utf8 = kw("errors");
            encoding
        } else {
            None
        };
        self.no_kwargs(name, &kwargs)?;
        let text = |v: String| Ok(Value::string(v));
        match name {
            "lower" | "upper" | "title" | "capitalize" | "swapcase" | "strip" | "lstrip"
            | "rstrip" => {
                self.arity(name, &args, 0, if name.ends_with("strip") { 1 } else { 0 })?;
                let chars = match args.first() {
                    Some(Value::None) | None => None,
                    Some(v) => Some(self.str_arg(name, v)?.to_string()),
                };
                let strip = |c: char| match &chars {
                    Some(set) => set.contains(c),
                    None => c.is_whitespace(),
                };
                text(match name {
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    "title" => title(s),
                    "capitalize" => {
                        let mut cs = s.chars();
                        cs.next().map_or_else(String::new, |f| {
                            f.to_uppercase()
                                .chain(cs.flat_map(char::to_lowercase))
                                .collect()
                        })
                    }
                    "swapcase" => s
                        .chars()
                        .flat_map(|c| {
                            if c.is_uppercase() {
                                c.to_lowercase().collect::<Vec<_>>()
                            } else {
                                c.to_uppercase().collect()
                            }
                        })
                        .collect(),
                    "strip" => s.trim_matches(strip).to_string(),
                    "lstrip" => s.trim_start_matches(strip).to_string(),
                    _ => s.trim_end_matches(strip).to_string(),
                })
            }
            "join" => {
                self.arity(name, &args, 1, 1)?;
                let mut parts = Vec::new();
                for (i, v) in self.collect(&args[0])?.iter().enumerate() {
                    match v {
                        Value::Str(p) => parts.push(p.to_string()),
                        other => {
                            return Err(self.type_error(format!(
                                "sequence item {i}: expected str instance, {} found",
                                other.type_name()
                            )))
                        }
                    }
                }
                text(parts.join(s))
            }
            "split" | "rsplit" => {
                self.arity(name, &args, 0, 2)?;
                let sep = sep_kw.or_else(|| args.first().cloned());
                let maxsplit = self.opt_int(max_kw.as_ref().or(args.get(1)))?.unwrap_or(-1);
                let parts: Vec<String> = match sep {
                    None | Some(Value::None) => split_whitespace(s, maxsplit, name == "rsplit"),
                    Some(v) => {
                        let sep = self.str_arg(name, &v)?;
                        if sep.is_empty() {
                            return Err(self.raise("ValueError", "empty separator"));
                        }
                        let n = if maxsplit < 0 {
                            usize::MAX
                        } else {
                            maxsplit as usize + 1
                        };
                        if name == "split" {
                            s.splitn(n, sep).map(str::to_string).collect()
                        } else {
                            let mut p: Vec<String> =
                                s.rsplitn(n, sep).map(str::to_string).collect();
                            p.reverse();
                            p
                        }
                    }
                };
                Ok(Value::list(parts.into_iter().map(Value::string).collect()))
            }
            "splitlines" => {
                self.arity(name, &args, 0, 1)?;
                let keep = match keepends.or_else(|| args.first().cloned()) {
                    Some(k) => self.truthy(&k)?,
                    None => false,
                };
                let mut out = Vec::new();
                let mut line = String::new();
                let mut chars = s.chars().peekable();
                while let Some(c) = chars.next() {
                    if is_line_break(c) {
                        let mut end = c.to_string();
                        if c == '\r' && chars.peek() == Some(&'\n') {
                            chars.next();
                            end.push('\n');
                        }
                        if keep {
                            line.push_str(&end);
                        }
                        out.push(Value::string(std::mem::take(&mut line)));
                    } else {
                        line.push(c);
                    }
                }
                if !line.is_empty() {
                    out.push(Value::string(line));
                }
                Ok(Value::list(out))
            }
            "startswith" | "endswith" => {
                self.arity(name, &args, 1, 3)?;
                let Some((a, b)) =
                    char_range(s, self.opt_int(args.get(1))?, self.opt_int(args.get(2))?)
                else {
                    return Ok(Value::Bool(false));
                };
                let window = &s[a..b];
                let candidates = match &args[0] {
                    Value::Tuple(t) => t.to_vec(),
                    v => vec![v.clone()],
                };
                for c in &candidates {
                    let Value::Str(c) = c else {
                        return Err(self.type_error(format!(
                            "{name} first arg must be str or a tuple of str, not {}",
                            c.type_name()
                        )));
                    };
                    if (name == "startswith" && window.starts_with(&**c))
                        || (name == "endswith" && window.ends_with(&**c))
                    {
                        return Ok(Value::Bool(true));
                    }
                }
                Ok(Value::Bool(false))
            }
            "find" | "rfind" | "index" | "rindex" | "count" => {
                self.arity(name, &args, 1, 3)?;
                let sub = self.str_arg(name, &args[0])?;
                let range = char_range(s, self.opt_int(args.get(1))?, self.opt_int(args.get(2))?);
                let Some((a, b)) = range else {
                    return if name.contains("index") {
                        Err(self.raise("ValueError", "substring not found"))
                    } else {
                        Ok(Value::Int(if name == "count" { 0 } else { -1 }))
                    };
                };
                let window = &s[a..b];
                if name == "count" {
                    let n = if sub.is_empty() {
                        window.chars().count() + 1
                    } else {
                        window.matches(sub).count()
                    };
                    return Ok(Value::Int(n as i64));
                }
                let found = if name.starts_with('r') {
                    window.rfind(sub)
                } else {
                    window.find(sub)
                };
                match found {
                    Some(p) => Ok(Value::Int(char_index(s, a + p))),
                    None if name.contains("index") => {
                        Err(self.raise("ValueError", "substring not found"))
                    }
                    None => Ok(Value::Int(-1)),
                }
            }
            "replace" => {
                self.arity(name, &args, 2, 3)?;
                let (old, new) = (self.str_arg(name, &args[0])?, self.str_arg(name, &args[1])?);
                match self.opt_int(args.get(2))? {
                    Some(n) if n >= 0 => text(s.replacen(old, new, n as usize)),
                    _ => text(s.replace(old, new)),
                }
            }
            "removeprefix" | "removesuffix" => {
                self.arity(name, &args, 1, 1)?;
                let affix = self.str_arg(name, &args[0])?;
                let out = if name == "removeprefix" {
                    s.strip_prefix(affix)
                } else {
                    s.strip_suffix(affix)
                };
                text(out.unwrap_or(s).to_string())
            }
            "partition" | "rpartition" => {
                self.arity(name, &args, 1, 1)?;
                let sep = self.str_arg(name, &args[0])?;
                if sep.is_empty() {
                    return Err(self.raise("ValueError", "empty separator"));
                }
                let found = if name == "partition" {
                    s.find(sep)
                } else {
                    s.rfind(sep)
                };
                let parts = match found {
                    Some(p) => [&s[..p], sep, &s[p + sep.len()..]],
                    None if name == "partition" => [s, "", ""],
                    None => ["", "", s],
                };
                Ok(Value::tuple(parts.iter().map(|p| Value::str(p)).collect()))
            }
            "zfill" | "center" | "ljust" | "rjust" => {
                self.arity(name, &args, 1, if name == "zfill" { 1 } else { 2 })?;
                let width = args[0].as_int().ok_or_else(|| {
                    self.type_error(format!(
                        "'{}' object cannot be interpreted as an integer",
                        args[0].type_name()
                    ))
                })?;
                if width > self.limits.max_sequence as i64 {
                    return Err(self.limit(format!(
                        "a string of more than {} characters",
                        self.limits.max_sequence
                    )));
                }
                let width = width.max(0) as usize;
                let fill = match args.get(1) {
                    Some(v) => {
                        let f = self.str_arg(name, v)?;
                        let mut cs = f.chars();
                        match (cs.next(), cs.next()) {
                            (Some(c), None) => c,
                            _ => {
                                return Err(self.type_error(
                                    "The fill character must be exactly one character long",
                                ))
                            }
                        }
                    }
                    None => {
                        if name == "zfill" {
                            '0'
                        } else {
                            ' '
                        }
                    }
                };
                let len = s.chars().count();
                let pad = width.saturating_sub(len);
                let fills = |n: usize| fill.to_string().repeat(n);
                text(match name {
                    "zfill" => match s.chars().next() {
                        Some(sign @ ('+' | '-')) => format!("{sign}{}{}", fills(pad), &s[1..]),
                        _ => format!("{}{s}", fills(pad)),
                    },
                    "ljust" => format!("{s}{}", fills(pad)),
                    "rjust" => format!("{}{s}", fills(pad)),
                    _ => {
                        let left = pad / 2 + (pad & width & 1);
                        format!("{}{s}{}", fills(left), fills(pad - left))
                    }
                })
            }
            "isdigit" | "isdecimal" | "isnumeric" | "isalpha" | "isalnum" | "isspace"
            | "islower" | "isupper" | "isascii" => {
                self.arity(name, &args, 0, 0)?;
                if matches!(name, "isdigit" | "isdecimal" | "isnumeric") && !s.is_ascii() {
                    return Err(self.unsupported(format!("`str.{name}` on non-ASCII text")));
                }
                let nonempty = !s.is_empty();
                Ok(Value::Bool(match name {
                    "isdigit" | "isdecimal" | "isnumeric" => {
                        nonempty && s.chars().all(|c| c.is_ascii_digit())
                    }
                    "isalpha" => nonempty && s.chars().all(char::is_alphabetic),
                    "isalnum" => nonempty && s.chars().all(char::is_alphanumeric),
                    "isspace" => nonempty && s.chars().all(char::is_whitespace),
                    "isascii" => s.is_ascii(),
                    "islower" => {
                        s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase)
                    }
                    _ => s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase),
                }))
            }
            "encode" => {
                self.arity(name, &args, 0, 2)?;
                let enc = encoding.or_else(|| args.first().cloned());
                match enc
                    .as_ref()
                    .map(|e| e.as_str().map(str::to_ascii_lowercase))
                {
                    None => Ok(Value::Bytes(s.as_bytes().into())),
                    Some(Some(e)) if matches!(e.as_str(), "utf-8" | "utf8") => {
                        Ok(Value::Bytes(s.as_bytes().into()))
                    }
                    Some(Some(e)) if e == "ascii" && s.is_ascii() => {
                        Ok(Value::Bytes(s.as_bytes().into()))
                    }
                    Some(e) => Err(self.unsupported(format!("str.encode with encoding {e:?}"))),
                }
            }
            _ => Err(self.unsupported(format!("`str.{name}`"))),
        }
    }

    pub(crate) fn bytes_method(
        &mut self,
        b: &[u8],
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value)>,
    ) -> Result<Value> {
        if name != "decode" {
            return Err(self.unsupported(format!("`bytes.{name}`")));
        }
        let encoding = kwargs
            .iter()
            .find(|(k, _)| k == "encoding")
            .map(|(_, v)| v.clone())
            .or_else(|| args.first().cloned());
        let enc = match &encoding {
            None => "utf-8".to_string(),
            Some(v) => self.str_arg(name, v)?.to_ascii_lowercase(),
        };
        if !matches!(enc.as_str(), "utf-8" | "utf8" | "ascii") {
            return Err(self.unsupported(format!("bytes.decode with encoding `{enc}`")));
        }
        match std::str::from_utf8(b) {
            Ok(s) if enc != "ascii" || s.is_ascii() => Ok(Value::str(s)),
            _ => Err(self.raise("ValueError", format!("'{enc}' codec can't decode bytes"))),
        }
    }
}
