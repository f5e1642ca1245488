//! Renderers: nft text ([`nft`]), iptables-save text ([`iptables`]), arptables-legacy-save text
//! ([`arptables`]). JSON is the model's serde form.
pub mod arptables;
pub mod iptables;
pub mod nft;
