//! The message catalog. Every string the portal shows lives in `web/i18n/<locale>.toml`
//! (Simplified Chinese first, English alongside with exactly the same keys). The catalogs are
//! compiled into the binary, so the service needs no files from the repository at run time.
//!
//! Known shortcoming: the portal renders Chinese only; the English catalog is complete and kept
//! in step by a test, but no page switches language yet.

use std::collections::HashMap;
use std::sync::LazyLock;

const ZH_CN: &str = include_str!("../../../web/i18n/zh-CN.toml");
const EN: &str = include_str!("../../../web/i18n/en.toml");

pub struct Catalog {
    messages: HashMap<String, String>,
}

static ZH: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::parse(ZH_CN).expect("web/i18n/zh-CN.toml is valid TOML"));
static ENGLISH: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::parse(EN).expect("web/i18n/en.toml is valid TOML"));

impl Catalog {
    /// The Simplified Chinese catalog, the portal's default.
    pub fn zh() -> &'static Catalog {
        &ZH
    }

    /// The English catalog: every key of the Chinese one, translated.
    pub fn en() -> &'static Catalog {
        &ENGLISH
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.messages.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
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

    /// The `{name}` placeholders of a message, sorted.
    fn placeholders(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> = text
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn both_catalogs_have_exactly_the_same_keys_and_placeholders() {
        let (zh, en) = (Catalog::zh(), Catalog::en());
        let only_zh: Vec<&str> = zh.keys().into_iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<&str> = en.keys().into_iter().filter(|k| !zh.contains(k)).collect();
        assert!(only_zh.is_empty(), "keys missing from web/i18n/en.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "keys missing from web/i18n/zh-CN.toml: {only_en:?}");
        for key in zh.keys() {
            assert_eq!(
                placeholders(zh.t(key)),
                placeholders(en.t(key)),
                "placeholders of {key} differ between the catalogs"
            );
            assert!(!en.t(key).trim().is_empty(), "{key} is empty in English");
        }
        assert_eq!(en.t("login.title"), "Sign in");
    }
}
