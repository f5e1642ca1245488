//! Generates the gRPC code from `nfscope/v1/nfscope.proto` with protox, a protobuf compiler
//! written in Rust: building needs no `protoc` on the machine.
use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=nfscope/v1/nfscope.proto");
    let fds = protox::compile(["nfscope/v1/nfscope.proto"], ["."])?;
    // The same descriptor set, encoded, is what gRPC reflection serves.
    std::fs::write(out.join("nfscope_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
