/// A value that is not one of a database enum's labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {type_name} {value:?}: expected one of {expected}")]
pub struct UnknownVariant {
    pub type_name: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a Rust enum mirroring a PostgreSQL enum type in schema `public`: its labels
/// (`as_db`, serde), the type's name (`DB_TYPE`), every variant in declaration order (`ALL`),
/// and `FromStr` that accepts a label in any case.
macro_rules! database_enum {
    (
        $(#[$meta:meta])*
        $name:ident : $db_type:literal { $($variant:ident => $label:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $label)] $variant),+
        }

        impl $name {
            /// Every variant, in the order the database declares them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The enum type's name in schema `public`.
            pub const DB_TYPE: &'static str = $db_type;

            /// The database label.
            pub fn as_db(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_db())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|variant| variant.as_db().eq_ignore_ascii_case(s))
                    .ok_or_else(|| $crate::domain::UnknownVariant {
                        type_name: $db_type,
                        value: s.to_string(),
                        expected: Self::ALL.iter().map(|v| v.as_db()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}
