//! Print the raw nf_tables dump replies (hex, one message per line) of the current network
//! namespace: `capture rules|chains|tables|sets|setelems TABLE SET`. Used to capture golden
//! bytes for nfscope-wire's unit tests (run it with `ip netns exec NS`).
use nfscope::sock::NfSocket;
use nfscope::wire::{attr, nft::msg};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("rules");
    let mut req = Vec::new();
    let m = match what {
        "tables" => msg::GETTABLE,
        "chains" => msg::GETCHAIN,
        "sets" => msg::GETSET,
        "objs" => msg::GETOBJ,
        "setelems" => {
            for (i, a) in args.iter().skip(1).take(2).enumerate() {
                let mut v = a.as_bytes().to_vec();
                v.push(0);
                attr::emit(&mut req, i as u16 + 1, &v);
            }
            msg::GETSETELEM
        }
        _ => msg::GETRULE,
    };
    let fam = args.get(3).and_then(|f| f.parse().ok()).unwrap_or(0u8);
    let mut s = NfSocket::open()?;
    s.dump("capture", m, fam, &req, |_, nf| {
        println!("{}", attr::to_hex(nf.attrs));
        Ok(())
    })?;
    Ok(())
}
