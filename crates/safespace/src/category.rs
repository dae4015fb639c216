//! The three risk categories and their sub-labels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A top-level risk category.
///
/// ```
/// use safespace::Category;
/// assert_eq!(Category::SelfHarm.as_str(), "self_harm");
/// assert_eq!("harassment".parse::<Category>().unwrap(), Category::Harassment);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Suicide and self-injury risk, including encouraging another person to self-harm.
    SelfHarm,
    /// Insults, threats, identity attacks and bullying aimed at a person or group.
    Harassment,
    /// Health claims that are false or that discourage effective treatment.
    Misinformation,
}

impl Category {
    /// All categories, in report order.
    ///
    /// ```
    /// assert_eq!(safespace::Category::ALL.len(), 3);
    /// ```
    pub const ALL: [Category; 3] = [
        Category::SelfHarm,
        Category::Harassment,
        Category::Misinformation,
    ];

    /// The snake_case name used in reports and rule files.
    ///
    /// ```
    /// assert_eq!(safespace::Category::Misinformation.as_str(), "misinformation");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Category::SelfHarm => "self_harm",
            Category::Harassment => "harassment",
            Category::Misinformation => "misinformation",
        }
    }

    /// Position of the category in [`Category::ALL`], for array-indexed storage.
    ///
    /// ```
    /// assert_eq!(safespace::Category::Harassment.index(), 1);
    /// ```
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("unknown category `{s}` (expected self_harm, harassment or misinformation)")
            })
    }
}

macro_rules! labels {
    ($($variant:ident => $category:ident, $name:literal, $doc:literal;)*) => {
        /// A sub-label inside a category, written `category/sub_label` in reports and rule files.
        ///
        /// ```
        /// use safespace::{Category, Label};
        /// let label: Label = "self_harm/intent".parse().unwrap();
        /// assert_eq!(label, Label::Intent);
        /// assert_eq!(label.category(), Category::SelfHarm);
        /// assert_eq!(label.to_string(), "self_harm/intent");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Label {
            $(#[doc = $doc] $variant,)*
        }

        impl Label {
            /// Every sub-label, grouped by category.
            ///
            /// ```
            /// assert!(safespace::Label::ALL.len() >= 14);
            /// ```
            pub const ALL: &'static [Label] = &[$(Label::$variant,)*];

            /// The category this sub-label belongs to.
            ///
            /// ```
            /// use safespace::{Category, Label};
            /// assert_eq!(Label::Threat.category(), Category::Harassment);
            /// ```
            pub fn category(self) -> Category {
                match self { $(Label::$variant => Category::$category,)* }
            }

            /// The part after the slash, e.g. `intent`.
            ///
            /// ```
            /// assert_eq!(safespace::Label::SelfInjury.name(), "self_injury");
            /// ```
            pub fn name(self) -> &'static str {
                match self { $(Label::$variant => $name,)* }
            }
        }
    };
}

labels! {
    Ideation => SelfHarm, "ideation", "Thoughts or wishes of dying or suicide.";
    Intent => SelfHarm, "intent", "Stated intent to act, a plan, acquired means or a time.";
    Method => SelfHarm, "method", "Seeking or sharing ways to die or to self-injure.";
    SelfInjury => SelfHarm, "self_injury", "Non-suicidal self-injury and disordered eating.";
    Encouragement => SelfHarm, "encouragement", "Urging another person to self-harm (\"kys\").";
    Insult => Harassment, "insult", "Demeaning words aimed at a person.";
    Threat => Harassment, "threat", "Threats of violence or harm.";
    IdentityAttack => Harassment, "identity_attack", "Attacks on a group or on a person for who they are.";
    Bullying => Harassment, "bullying", "Exclusion, humiliation and telling someone they are unwanted.";
    FalseCure => Misinformation, "false_cure", "A false cure or a dangerous remedy.";
    TreatmentDiscouragement => Misinformation, "treatment_discouragement", "Talking people out of effective treatment.";
    StigmaMyth => Misinformation, "stigma_myth", "Myths that stigmatise mental illness or suicide.";
    PseudoProfessional => Misinformation, "pseudo_professional", "Diagnosis or dosing advice posing as professional.";
    HealthFalsehood => Misinformation, "health_falsehood", "Other false health claims.";
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.category(), self.name())
    }
}

impl FromStr for Label {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Label::ALL
            .iter()
            .copied()
            .find(|label| label.to_string() == s)
            .ok_or_else(|| {
                let known: Vec<String> = Label::ALL.iter().map(Label::to_string).collect();
                format!("unknown label `{s}` (expected one of {})", known.join(", "))
            })
    }
}

impl Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_its_name() {
        for &label in Label::ALL {
            assert_eq!(label.to_string().parse::<Label>().unwrap(), label);
        }
    }

    #[test]
    fn unknown_names_are_rejected_with_the_alternatives() {
        let err = "self_harm/sadness".parse::<Label>().unwrap_err();
        assert!(err.contains("self_harm/ideation"), "{err}");
        assert!("hate".parse::<Category>().is_err());
    }
}
