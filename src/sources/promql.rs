//! Label matchers added to every vector selector of a PromQL query, so a pivot narrows a
//! Prometheus query on the server (SPEC §4). A small scanner, not a parser: it knows string
//! literals, comments, selector braces, function calls and the keywords whose parentheses
//! hold label names (`by`, `without`, `on`, `ignoring`, `group_left`, `group_right`), which is
//! all it takes to tell a metric name from everything else.

/// One matcher: `label="value"` or, left out, `label!="value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: String,
    pub value: String,
    pub exclude: bool,
}

impl Matcher {
    fn render(&self) -> String {
        let op = if self.exclude { "!=" } else { "=" };
        format!("{}{op}\"{}\"", self.label, escape(&self.value))
    }
}

/// Whether a string is a valid label name (`[a-zA-Z_][a-zA-Z0-9_]*`).
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value as the content of a double-quoted string in PromQL or LogQL (both quote as Go
/// does): backslash, quote and control characters escaped, so no value can end the string
/// early.
pub(crate) fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Keywords that are never metric names (compared in lowercase).
const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan"];
/// Keywords followed by a parenthesised list of label names.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
/// Aggregations, which may come before `by (…)` instead of their own parenthesis.
const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
];

/// The query with the matchers in every vector selector. An unbalanced brace or string is an
/// error: the query is then run as written, and the pivot filtered locally.
pub fn add_matchers(query: &str, matchers: &[Matcher]) -> Result<String, String> {
    if matchers.is_empty() {
        return Ok(query.to_string());
    }
    let added: Vec<String> = matchers.iter().map(Matcher::render).collect();
    let added = added.join(",");
    let chars: Vec<char> = query.chars().collect();
    let mut out = String::with_capacity(query.len() + added.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = copy_string(&chars, i, &mut out)?,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '{' => i = copy_selector(&chars, i, &added, &mut out)?,
            '[' => {
                // A range or subquery (`[5m]`, `[1h:5m]`): durations only.
                while i < chars.len() && chars[i] != ']' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || (c == '.' && next_is_digit(&chars, i)) => {
                // Numbers and durations: 5m, 1e3, 0x1f, 1.5.
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                out.push_str(&name);
                let lower = name.to_ascii_lowercase();
                let next = next_non_space(&chars, i);
                if LABEL_LISTS.contains(&lower.as_str()) {
                    if next.is_some_and(|(_, c)| c == '(') {
                        i = copy_parens(&chars, i, &mut out)?;
                    }
                } else if KEYWORDS.contains(&lower.as_str())
                    || next.is_some_and(|(_, c)| c == '(')
                    || (AGGREGATIONS.contains(&lower.as_str())
                        && next.is_some_and(|(at, _)| starts_label_list(&chars, at)))
                {
                    // A keyword, a function, or an aggregation before its `by`.
                } else if next.is_some_and(|(_, c)| c == '{') {
                    // The selector's braces come next, and get the matchers.
                } else {
                    out.push('{');
                    out.push_str(&added);
                    out.push('}');
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn next_is_digit(chars: &[char], i: usize) -> bool {
    chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
}

fn next_non_space(chars: &[char], from: usize) -> Option<(usize, char)> {
    chars[from..]
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_whitespace())
        .map(|(k, c)| (from + k, *c))
}

fn starts_label_list(chars: &[char], at: usize) -> bool {
    let word: String = chars[at..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
        .collect();
    matches!(word.to_ascii_lowercase().as_str(), "by" | "without")
}

/// Copies a string literal starting at `i`; returns the index after it.
fn copy_string(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let quote = chars[i];
    out.push(quote);
    let mut j = i + 1;
    while j < chars.len() {
        let c = chars[j];
        out.push(c);
        if c == '\\' && quote != '`' {
            if let Some(&escaped) = chars.get(j + 1) {
                out.push(escaped);
            }
            j += 2;
            continue;
        }
        j += 1;
        if c == quote {
            return Ok(j);
        }
    }
    Err("a string in the query is not closed".into())
}

/// Copies `{…}` starting at `i`, with the matchers added before the closing brace.
fn copy_selector(chars: &[char], i: usize, added: &str, out: &mut String) -> Result<usize, String> {
    out.push('{');
    let mut j = i + 1;
    let mut inner = String::new();
    while j < chars.len() {
        match chars[j] {
            '"' | '\'' | '`' => j = copy_string(chars, j, &mut inner)?,
            '}' => {
                let trimmed = inner.trim_end();
                out.push_str(&inner);
                if !trimmed.is_empty() && !trimmed.ends_with(',') {
                    out.push(',');
                }
                out.push_str(added);
                out.push('}');
                return Ok(j + 1);
            }
            c => {
                inner.push(c);
                j += 1;
            }
        }
    }
    Err("a `{` in the query is not closed".into())
}

/// Copies `(…)` (after optional spaces) starting at `i`; a label list, left as it is.
fn copy_parens(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let mut j = i;
    while j < chars.len() && chars[j] != '(' {
        out.push(chars[j]);
        j += 1;
    }
    while j < chars.len() {
        let c = chars[j];
        out.push(c);
        j += 1;
        if c == ')' {
            return Ok(j);
        }
    }
    Err("a `(` in the query is not closed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(v: &str) -> Vec<Matcher> {
        vec![Matcher {
            label: "pod".into(),
            value: v.into(),
            exclude: false,
        }]
    }

    #[test]
    fn every_selector_gets_the_matchers_and_nothing_else_does() {
        let cases = [
            ("up", r#"up{pod="api"}"#),
            (
                r#"rate(container_cpu_usage_seconds_total{namespace="prod"}[5m])"#,
                r#"rate(container_cpu_usage_seconds_total{namespace="prod",pod="api"}[5m])"#,
            ),
            (
                "sum by (pod) (rate(x[5m])) / on(pod) group_left(node) y offset 5m",
                r#"sum by (pod) (rate(x{pod="api"}[5m])) / on(pod) group_left(node) y{pod="api"} offset 5m"#,
            ),
            (
                "sum(rate(x{a=\"1\",}[1m])) without (instance) > bool 0.5",
                r#"sum(rate(x{a="1",pod="api"}[1m])) without (instance) > bool 0.5"#,
            ),
            (
                r#"{__name__=~"node_.+"} and on() vector(1)"#,
                r#"{__name__=~"node_.+",pod="api"} and on() vector(1)"#,
            ),
            (
                r#"label_replace(up, "dst", "$1 {x}", "src", "(.*)")"#,
                r#"label_replace(up{pod="api"}, "dst", "$1 {x}", "src", "(.*)")"#,
            ),
            (
                "job:requests:rate5m{} * 1e3 + Inf",
                r#"job:requests:rate5m{pod="api"} * 1e3 + Inf"#,
            ),
            (
                "max_over_time(x[1h:5m]) @ end()",
                r#"max_over_time(x{pod="api"}[1h:5m]) @ end()"#,
            ),
            (
                "topk(3, x) # the three\n",
                "topk(3, x{pod=\"api\"}) # the three\n",
            ),
        ];
        for (query, want) in cases {
            assert_eq!(add_matchers(query, &pod("api")).unwrap(), want, "{query}");
        }
    }

    #[test]
    fn hostile_values_stay_inside_their_string() {
        for hostile in [
            r#"x"} or vector(1) or {a=""#,
            r#"a\"b"#,
            "}",
            "line\nbreak",
            r"trailing\",
        ] {
            let q = add_matchers("up", &pod(hostile)).unwrap();
            // The query is still one selector: `up{pod="…"}` with the value escaped.
            assert!(q.starts_with("up{pod=\"") && q.ends_with("\"}"), "{q}");
            let inner = &q["up{pod=\"".len()..q.len() - 2];
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '"' | '\n' => panic!("unescaped {c:?} in {q}"),
                    _ => {}
                }
            }
        }
        let out = Matcher {
            label: "user".into(),
            value: "eve".into(),
            exclude: true,
        };
        assert_eq!(add_matchers("up", &[out]).unwrap(), r#"up{user!="eve"}"#);
    }

    #[test]
    fn unbalanced_queries_are_refused() {
        assert!(add_matchers("up{a=\"b\"", &pod("x")).is_err());
        assert!(add_matchers("up{a=\"b}", &pod("x")).is_err());
        assert!(add_matchers("sum by (pod", &pod("x")).is_err());
        assert!(is_label_name("pod") && is_label_name("_x1"));
        assert!(!is_label_name("1x") && !is_label_name("a-b") && !is_label_name(""));
    }
}
