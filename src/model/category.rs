//! The seven security-signal categories an event can belong to. Rules assign them
//! (`rules/categories.toml`); they are carried as `category` entities, so they pivot, filter
//! and join like any other entity.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    Authentication,
    Authorization,
    Runtime,
    Network,
    Cicd,
    Secrets,
    FileIntegrity,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Authentication,
        Category::Authorization,
        Category::Runtime,
        Category::Network,
        Category::Cicd,
        Category::Secrets,
        Category::FileIntegrity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Authentication => "authentication",
            Category::Authorization => "authorization",
            Category::Runtime => "runtime",
            Category::Network => "network",
            Category::Cicd => "cicd",
            Category::Secrets => "secrets",
            Category::FileIntegrity => "file_integrity",
        }
    }

    /// Five columns at most, for timeline rows.
    pub fn short(self) -> &'static str {
        match self {
            Category::Authentication => "authn",
            Category::Authorization => "authz",
            Category::Runtime => "run",
            Category::Network => "net",
            Category::Cicd => "cicd",
            Category::Secrets => "secr",
            Category::FileIntegrity => "fim",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;
    /// The full name or the short one, in any case (`Authentication`, `authn`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s) || c.short().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
                format!(
                    "unknown category `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_short_names_fit_the_column() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
            assert_eq!(c.short().to_uppercase().parse::<Category>(), Ok(c));
            assert!(c.short().len() <= 5);
        }
        assert!("auth"
            .parse::<Category>()
            .unwrap_err()
            .contains("file_integrity"));
    }
}
