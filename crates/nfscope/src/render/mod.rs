//! Renderers: nft text ([`nft`]), iptables-save text ([`iptables`]). JSON is the model's serde form.
pub mod iptables;
pub mod nft;
