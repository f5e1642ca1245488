fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=nfscope/v1/nfscope.proto");
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("nfscope_descriptor.bin"))
        .compile_protos(&["nfscope/v1/nfscope.proto"], &["."])?;
    Ok(())
}
