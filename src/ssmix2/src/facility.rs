//! 医療施設ID: the facility ID that names the storage root and fills the `#SSMIX` header.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 10-digit 医療施設ID in the shape of a 医療機関コード (都道府県番号 2 + 点数表番号 1 +
/// 医療機関番号 7; SSMIXIDX `FacilityID` is CHAR(10)). Only the shape is checked: test IDs such
/// as `9999999999` are accepted. Serialized (serde) as its digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FacilityId(String);

/// Why a string is not a facility ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FacilityIdError {
    /// Not 10 characters long.
    #[error("a facility ID has 10 digits, found {0} characters")]
    Length(usize),
    /// Contains a non-digit.
    #[error("a facility ID has digits only")]
    NotDigits,
}

impl FacilityId {
    /// Validates exactly 10 ASCII digits.
    pub fn new(s: &str) -> Result<FacilityId, FacilityIdError> {
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FacilityIdError::NotDigits);
        }
        if s.len() != 10 {
            return Err(FacilityIdError::Length(s.chars().count()));
        }
        Ok(FacilityId(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 都道府県番号 (first two digits).
    pub fn prefecture(&self) -> &str {
        &self.0[..2]
    }
}

impl fmt::Display for FacilityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FacilityId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FacilityId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FacilityId::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        let f = FacilityId::new("2213012345").unwrap();
        assert_eq!(f.prefecture(), "22");
        assert_eq!(f.to_string(), "2213012345");
        assert!(FacilityId::new("9999999999").is_ok());
        assert_eq!(FacilityId::new("123"), Err(FacilityIdError::Length(3)));
        assert_eq!(FacilityId::new(""), Err(FacilityIdError::Length(0)));
        assert_eq!(FacilityId::new("12345678901"), Err(FacilityIdError::Length(11)));
        assert_eq!(FacilityId::new("12345-7890"), Err(FacilityIdError::NotDigits));
        assert_eq!(FacilityId::new("１２３４５６７８９０"), Err(FacilityIdError::NotDigits));
        let j: FacilityId = serde_json::from_str("\"2213012345\"").unwrap();
        assert_eq!(j, f);
        assert!(serde_json::from_str::<FacilityId>("\"22\"").is_err());
    }
}
