//! Editing a Loki source's LogQL in the TUI, with completion of label names and values from
//! the server (`/loki/api/v1/labels`, `/label/NAME/values`), then re-running the source.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct QueryEditor {
    /// The report index of the source being edited.
    pub source: usize,
    pub input: String,
    /// Label names, once the server answered.
    pub names: Option<Vec<String>>,
    pub values: HashMap<String, Vec<String>>,
    /// What an ambiguous Tab could complete to, shown under the input.
    pub candidates: Vec<String>,
}

/// What is being typed at the end of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typing {
    /// A label name inside `{…}`.
    Name { prefix: String },
    /// A label's value inside quotes after `=`, `!=`, `=~` or `!~`.
    Value { label: String, prefix: String },
    /// Nothing to complete (outside the stream selector).
    Other,
}

pub fn typing(input: &str) -> Typing {
    let Some(open) = input.rfind('{') else {
        return Typing::Other;
    };
    if input.rfind('}').is_some_and(|close| close > open) {
        return Typing::Other;
    }
    let last = input[open + 1..]
        .rsplit(',')
        .next()
        .unwrap_or("")
        .trim_start();
    for op in ["=~", "!~", "!=", "="] {
        if let Some(i) = last.find(op) {
            let label = last[..i].trim().to_string();
            let rest = last[i + op.len()..].trim_start();
            return match rest.strip_prefix('"') {
                Some(value) if !value.contains('"') => Typing::Value {
                    label,
                    prefix: value.to_string(),
                },
                _ => Typing::Other,
            };
        }
    }
    Typing::Name {
        prefix: last.to_string(),
    }
}

/// What a Tab did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tab {
    Completed,
    /// Several candidates: the common part was inserted, the candidates are listed.
    Ambiguous,
    /// The label names, or this label's values, must first be fetched from the server.
    Fetch {
        label: Option<String>,
    },
    Nothing,
}

impl QueryEditor {
    pub fn new(source: usize, query: &str) -> Self {
        QueryEditor {
            source,
            input: query.to_string(),
            ..Default::default()
        }
    }

    pub fn tab(&mut self) -> Tab {
        self.candidates.clear();
        let (prefix, pool, suffix): (String, &Vec<String>, &str) = match typing(&self.input) {
            Typing::Other => return Tab::Nothing,
            Typing::Name { prefix } => match &self.names {
                Some(names) => (prefix, names, "=\""),
                None => return Tab::Fetch { label: None },
            },
            Typing::Value { label, prefix } => match self.values.get(&label) {
                Some(values) => (prefix, values, "\""),
                None => return Tab::Fetch { label: Some(label) },
            },
        };
        let matches: Vec<String> = pool
            .iter()
            .filter(|c| c.starts_with(&prefix))
            .cloned()
            .collect();
        match matches.len() {
            0 => Tab::Nothing,
            1 => {
                self.input.push_str(&matches[0][prefix.len()..]);
                self.input.push_str(suffix);
                Tab::Completed
            }
            _ => {
                let common = common_prefix(&matches);
                self.input.push_str(&common[prefix.len()..]);
                self.candidates = matches;
                Tab::Ambiguous
            }
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let first = &words[0];
    let mut end = first.len();
    for w in &words[1..] {
        end = end.min(
            first
                .bytes()
                .zip(w.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    while !first.is_char_boundary(end) {
        end -= 1;
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_being_typed() {
        assert_eq!(
            typing("{jo"),
            Typing::Name {
                prefix: "jo".into()
            }
        );
        assert_eq!(
            typing("{job=\"sshd\", ho"),
            Typing::Name {
                prefix: "ho".into()
            }
        );
        assert_eq!(
            typing("{job=\"ss"),
            Typing::Value {
                label: "job".into(),
                prefix: "ss".into()
            }
        );
        assert_eq!(
            typing("{host=~\"bastion"),
            Typing::Value {
                label: "host".into(),
                prefix: "bastion".into()
            }
        );
        assert_eq!(typing("{job=\"sshd\"} |= \"x"), Typing::Other);
        assert_eq!(typing("rate("), Typing::Other);
    }

    #[test]
    fn tab_fetches_then_completes() {
        let mut e = QueryEditor::new(0, "{h");
        assert_eq!(e.tab(), Tab::Fetch { label: None });
        e.names = Some(vec!["host".into(), "job".into(), "hostname".into()]);
        assert_eq!(e.tab(), Tab::Ambiguous);
        assert_eq!(e.input, "{host");
        assert_eq!(e.candidates, ["host", "hostname"]);
        e.input = "{j".into();
        assert_eq!(e.tab(), Tab::Completed);
        assert_eq!(e.input, "{job=\"");
        assert_eq!(
            e.tab(),
            Tab::Fetch {
                label: Some("job".into())
            }
        );
        e.values
            .insert("job".into(), vec!["sshd".into(), "audit".into()]);
        e.input.push('s');
        assert_eq!(e.tab(), Tab::Completed);
        assert_eq!(e.input, "{job=\"sshd\"");
        e.input = "{job=\"zz".into();
        assert_eq!(e.tab(), Tab::Nothing);
    }
}
