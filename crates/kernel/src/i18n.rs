//! The message catalog. Every string the portal shows lives in `web/i18n/<locale>.toml`
//! (Simplified Chinese first). The catalog is compiled into the binary, so the service needs no
//! files from the repository at run time.

use std::collections::HashMap;
use std::sync::LazyLock;

const ZH_CN: &str = include_str!("../../../web/i18n/zh-CN.toml");

pub struct Catalog {
    messages: HashMap<String, String>,
}

static ZH: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::parse(ZH_CN).expect("web/i18n/zh-CN.toml is valid TOML"));

impl Catalog {
    /// The Simplified Chinese catalog, the portal's default.
    pub fn zh() -> &'static Catalog {
        &ZH
    }

    pub fn parse(source: &str) -> Result<Self, toml::de::Error> {
        let table: toml::Table = source.parse()?;
        let mut messages = HashMap::new();
        flatten("", &table, &mut messages);
        Ok(Self { messages })
    }

    /// The message for `key`. A missing key shows the key itself, so the gap is visible on
    /// screen; a test checks that every key the templates use exists.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map(String::as_str).unwrap_or(key)
    }

    /// The message with `{name}` placeholders filled in.
    pub fn fmt(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The message for `key`, borrowed from the catalog (so it outlives a key built on the fly).
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.messages.get(key).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::Table(inner) => flatten(&path, inner, out),
            toml::Value::String(text) => {
                out.insert(path, text.clone());
            }
            other => {
                out.insert(path, other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_tables_become_dotted_keys_and_placeholders_fill() {
        let c = Catalog::parse("[a.b]\nc = \"你好，{name}\"").unwrap();
        assert_eq!(c.fmt("a.b.c", &[("name", "张三")]), "你好，张三");
        assert_eq!(c.t("a.missing"), "a.missing");
    }

    #[test]
    fn the_shipped_chinese_catalog_parses_and_has_the_login_title() {
        assert_eq!(Catalog::zh().t("login.title"), "登录");
    }
}
