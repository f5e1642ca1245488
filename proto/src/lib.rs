//! nfscope's gRPC API, generated from `proto/nfscope/v1/nfscope.proto` at build time by protox
//! (a protobuf compiler in Rust: no `protoc` needed).
#![allow(clippy::all, missing_docs)]

pub mod v1 {
    tonic::include_proto!("nfscope.v1");
}

/// The encoded file descriptor set, for gRPC reflection (`grpcurl` without the .proto files).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("nfscope_descriptor");
