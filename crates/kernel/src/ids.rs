//! Newtypes for identifiers. A `TenantId` can only come from the school registry or a test, and
//! a `Slug` is validated on construction, so code past the edge never re-checks them.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Identifies ", $what, ".")]
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(TenantId, "a school (tenant)");
uuid_id!(DistrictId, "a district education bureau");

/// A URL-safe short name for a district or a school: lowercase ASCII letters, digits and inner
/// hyphens, 1 to 40 characters. It appears in `/s/{slug}/` and in subdomains.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "'{0}' is not a valid slug: use 1-40 lowercase letters, digits or inner hyphens (e.g. east-high)"
)]
pub struct InvalidSlug(pub String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, InvalidSlug> {
        let ok = (1..=40).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-')
            && !raw.ends_with('-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidSlug(raw.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Slug::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_accepts_lowercase_digits_and_inner_hyphens() {
        assert_eq!(Slug::parse("east-high-2").unwrap().as_str(), "east-high-2");
        assert_eq!(Slug::parse("a").unwrap().as_str(), "a");
    }

    #[test]
    fn slug_rejects_what_cannot_live_in_a_url_or_hostname() {
        for bad in ["", "-a", "a-", "East", "a_b", "a/b", "中学", &"x".repeat(41)] {
            assert_eq!(Slug::parse(bad), Err(InvalidSlug(bad.to_owned())), "{bad}");
        }
    }
}
