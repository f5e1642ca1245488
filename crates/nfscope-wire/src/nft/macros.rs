//! `attr_struct!`: one table per nf_tables attribute set → a struct of `Option` fields, a
//! `parse` that keeps unknown attributes, and `emit` for the fields that are set.

/// Declares a struct decoded from a buffer of netlink attributes.
///
/// ```ignore
/// attr_struct! {
///     /// doc
///     pub struct Counter("counter") {
///         1 => bytes: u64,
///         2 => packets: u64,
///     }
/// }
/// ```
macro_rules! attr_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident ($what:literal) {
            $( $(#[$fm:meta])* $id:literal => $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            /// Attributes this code does not know, kept as they came.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub unknown: Vec<$crate::attr::RawAttr>,
        }

        impl $crate::nft::expr::ParseAttrs for $name {
            fn parse_attrs(buf: &[u8]) -> $crate::Result<Self> {
                Self::parse(buf)
            }
        }

        impl $name {
            /// Attribute type numbers, by field.
            #[allow(dead_code, non_upper_case_globals)]
            pub const WHAT: &'static str = $what;

            /// Decode from the attribute bytes (after any fixed header).
            pub fn parse(buf: &[u8]) -> $crate::Result<Self> {
                Self::parse_skipping(buf, &[])
            }

            /// [`Self::parse`], leaving out the attributes of the types in `skip` (what the
            /// caller knows already, e.g. a rule's table and chain names): their fields stay
            /// `None`, nothing is decoded or kept for them.
            pub fn parse_skipping(buf: &[u8], skip: &[u16]) -> $crate::Result<Self> {
                #[allow(unused_imports)]
                use $crate::error::Context as _;
                #[allow(unused_mut)]
                let mut out = Self::default();
                for a in $crate::attr::Attrs::new(buf) {
                    let a = a.ctx($what)?;
                    if skip.contains(&a.ty) {
                        continue;
                    }
                    match a.ty {
                        $(
                            $id => {
                                out.$field = Some(
                                    <$ty as $crate::nft::object::FromAttr>::from_attr(&a)
                                        .with_ctx(|| concat!($what, " / ", stringify!($field)))?,
                                )
                            }
                        )*
                        _ => out.unknown.push(a.raw()),
                    }
                }
                Ok(out)
            }

            /// Encode the fields that are set (unknown attributes included) as attributes.
            pub fn emit(&self, buf: &mut Vec<u8>) {
                $(
                    if let Some(v) = &self.$field {
                        <$ty as $crate::nft::object::FromAttr>::emit(v, $id, buf);
                    }
                )*
                for u in &self.unknown {
                    $crate::attr::emit(buf, u.ty, &u.value);
                }
            }
        }
    };
}
