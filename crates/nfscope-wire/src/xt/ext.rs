//! xt extension payload decoders, keyed by (name, revision, family).
