//! Reading a simple index's project page: PEP 691 JSON or PEP 503 HTML, each file's name,
//! link and listed sha256.

/// (file name, link, sha256) from a PEP 691 JSON page.
pub(crate) fn parse_json_page(body: &str) -> Result<Vec<(String, String, Option<String>)>, String> {
    #[derive(serde::Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: std::collections::BTreeMap<String, String>,
    }
    let page: Page = serde_json::from_str(body).map_err(|e| e.to_string())?;
    Ok(page
        .files
        .into_iter()
        .map(|f| {
            let sha = f.hashes.get("sha256").cloned();
            (f.filename, f.url, sha)
        })
        .collect())
}

/// (file name, link, sha256) from a PEP 503 HTML page: every `<a href=…>name</a>`, the hash
/// from a `#sha256=` fragment.
pub(crate) fn parse_html_page(body: &str) -> Vec<(String, String, Option<String>)> {
    let lower = body.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag(&lower, at) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</a").map(|i| tag_end + i) else {
            break;
        };
        at = close;
        let Some(href) = attribute(&body[start..tag_end], &lower[start..tag_end], "href") else {
            continue;
        };
        let href = decode_entities(&href);
        let text = decode_entities(body[tag_end + 1..close].trim());
        let name = if text.is_empty() {
            href.split('#')
                .next()
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or("")
                .to_string()
        } else {
            text
        };
        let sha = href.split_once('#').and_then(|(_, fragment)| {
            fragment
                .strip_prefix("sha256=")
                .map(|h| h.split('&').next().unwrap_or(h).to_string())
        });
        out.push((name, href, sha));
    }
    out
}

/// The next `<a` that starts an anchor tag (not `<abbr`).
fn find_tag(lower: &str, from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let i = lower[at..].find("<a")? + at;
        let next = lower[i + 2..].chars().next();
        if next.is_some_and(|c| c.is_ascii_whitespace()) {
            return Some(i);
        }
        at = i + 2;
    }
}

/// An attribute's value in a tag (quoted with `"` or `'`, or bare).
fn attribute(tag: &str, lower_tag: &str, name: &str) -> Option<String> {
    let mut at = 0;
    while let Some(i) = lower_tag[at..].find(name).map(|i| i + at) {
        at = i + name.len();
        let before_ok = i > 0 && lower_tag.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = tag[at..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_string(),
            _ => value
                .split(|c: char| c.is_ascii_whitespace() || c == '>')
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    None
}

/// The HTML character references an index page uses in links and names.
pub(super) fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_pages_give_name_link_and_hash() {
        let page = r#"<!DOCTYPE html><html><body>
            <abbr title="x">no</abbr>
            <a href="../../packages/aa/x-1.0.tar.gz#sha256=00ff" data-requires-python="&gt;=3.9">x-1.0.tar.gz</a><br/>
            <A HREF='https://files.example/x-1.0-py3-none-any.whl#md5=1&amp;sha256=AB'>x-1.0-py3-none-any.whl</A>
            <a href="x-2.0-py3-none-any.whl"></a>
        </body></html>"#;
        let files = parse_html_page(page);
        assert_eq!(
            files,
            vec![
                (
                    "x-1.0.tar.gz".to_string(),
                    "../../packages/aa/x-1.0.tar.gz#sha256=00ff".to_string(),
                    Some("00ff".to_string())
                ),
                (
                    "x-1.0-py3-none-any.whl".to_string(),
                    "https://files.example/x-1.0-py3-none-any.whl#md5=1&sha256=AB".to_string(),
                    None
                ),
                (
                    "x-2.0-py3-none-any.whl".to_string(),
                    "x-2.0-py3-none-any.whl".to_string(),
                    None
                ),
            ]
        );
    }

    #[test]
    fn json_pages_give_name_link_and_hash() {
        let page = r#"{"meta": {"api-version": "1.1"}, "name": "x", "files": [
            {"filename": "x-1.0-py3-none-any.whl", "url": "https://f/x.whl",
             "hashes": {"sha256": "ab12"}, "yanked": false},
            {"filename": "x-1.0.tar.gz", "url": "x-1.0.tar.gz", "hashes": {}}]}"#;
        let files = parse_json_page(page).unwrap();
        assert_eq!(files[0].2.as_deref(), Some("ab12"));
        assert_eq!(
            files[1],
            ("x-1.0.tar.gz".into(), "x-1.0.tar.gz".into(), None)
        );
        assert!(parse_json_page("<html>").is_err());
    }

    #[test]
    fn entities_in_links_are_decoded() {
        assert_eq!(decode_entities("a&amp;b&#x3d;c&#61;&bogus"), "a&b=c=&bogus");
    }
}
