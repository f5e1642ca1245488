//! An nfnetlink socket (neli's `NlSocket` on `NETLINK_NETFILTER`) that sends nf_tables
//! requests and hands each reply message, still borrowed from the receive buffer, to a callback.
//! Decoding is the caller's (nfscope-wire); this module only frames and checks.

use crate::error::{Error, Result};
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use nfscope_wire::nfnl::{self, NfMsg, NFNL_SUBSYS_NFTABLES};
use nfscope_wire::nft::{self, Gen};
use nfscope_wire::nl::{self, Message, MessageBuilder, Messages};

/// The kernel fills dump datagrams up to 32 KiB; a larger buffer never hurts.
const RECV_BUF: usize = 64 * 1024;

/// What came back from one dump besides the messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpInfo {
    /// A reply carried `NLM_F_DUMP_INTR`: the kernel saw a change during the dump.
    pub interrupted: bool,
    /// The low 16 bits of the generation, if any reply had an nfgenmsg (all replies should agree).
    pub gen16: Option<u16>,
    /// Replies disagreed about the generation.
    pub gen_mismatch: bool,
    pub messages: u64,
}

/// Counters of what a socket read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IoStats {
    pub bytes: u64,
    pub messages: u64,
    pub requests: u64,
}

pub struct NfSocket {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
    req: Vec<u8>,
    pub stats: IoStats,
}

impl NfSocket {
    /// Open a socket in the calling thread's network namespace.
    pub fn open() -> Result<NfSocket> {
        let sock = NlSocket::connect(NlFamily::Netfilter, None, Groups::empty())
            .map_err(|e| Error::io("open netlink socket (NETLINK_NETFILTER)", e))?;
        Ok(NfSocket {
            sock,
            seq: 1,
            buf: vec![0; RECV_BUF],
            req: Vec::with_capacity(256),
            stats: IoStats::default(),
        })
    }

    /// Open a socket subscribed to nf_tables change events (`NFNLGRP_NFTABLES`) with a receive
    /// buffer of `rcvbuf` bytes (forced past rmem_max when we have CAP_NET_ADMIN).
    pub fn open_events(rcvbuf: usize) -> Result<NfSocket> {
        let sock = NlSocket::connect(
            NlFamily::Netfilter,
            None,
            Groups::new_groups(&[nfnl::NFNLGRP_NFTABLES]),
        )
        .map_err(|e| Error::io("subscribe to nf_tables events (NFNLGRP_NFTABLES)", e))?;
        let size = rcvbuf.min(i32::MAX as usize) as libc::c_int;
        // SAFETY: setsockopt on our own valid fd with a pointer to a c_int and its size.
        let rc = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&sock),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            sock.set_recv_buffer_size(rcvbuf)
                .map_err(|e| Error::io("set event socket receive buffer", e))?;
        }
        Ok(NfSocket {
            sock,
            seq: 1,
            buf: vec![0; RECV_BUF],
            req: Vec::new(),
            stats: IoStats::default(),
        })
    }

    /// Set (or clear, with `None`) a timeout for receives (`SO_RCVTIMEO`).
    pub fn set_read_timeout(&self, d: Option<std::time::Duration>) -> Result<()> {
        let d = d.unwrap_or_default();
        let tv = libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: setsockopt on our own valid fd with a pointer to a timeval and its size.
        let rc = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&self.sock),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(Error::io(
                "set receive timeout",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// Receive one datagram (blocking). `Err` with `ENOBUFS` means the kernel dropped events.
    pub fn recv_datagram(&mut self) -> std::io::Result<&[u8]> {
        loop {
            match self.sock.recv(&mut self.buf[..], Msg::empty()) {
                Ok((n, _)) => {
                    self.stats.bytes += n as u64;
                    return Ok(&self.buf[..n.min(self.buf.len())]);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Access to neli's socket (for group membership, buffer sizes, raw fd).
    pub fn raw(&self) -> &NlSocket {
        &self.sock
    }

    fn send_request(
        &mut self,
        op: &str,
        msg: u8,
        flags: u16,
        family: u8,
        attrs: &[u8],
    ) -> Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        self.req.clear();
        let mut m = MessageBuilder::new(
            &mut self.req,
            ((NFNL_SUBSYS_NFTABLES as u16) << 8) | msg as u16,
            nl::NLM_F_REQUEST | flags,
            seq,
        );
        m.bytes(&nfnl::nfgenmsg(family, 0)).bytes(attrs);
        m.finish();
        loop {
            match self.sock.send(&self.req, Msg::empty()) {
                Ok(_) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("{op}: send"), e)),
            }
        }
        self.stats.requests += 1;
        Ok(seq)
    }

    fn recv(&mut self, op: &str) -> Result<usize> {
        loop {
            match self.sock.recv(&mut self.buf[..], Msg::empty()) {
                Ok((n, _)) => {
                    self.stats.bytes += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("{op}: recv"), e)),
            }
        }
    }

    /// Send an nf_tables dump request (`msg` = `NFT_MSG_GET*`) and call `f` for every reply
    /// until `NLMSG_DONE`.
    pub fn dump<F>(
        &mut self,
        op: &str,
        msg: u8,
        family: u8,
        attrs: &[u8],
        mut f: F,
    ) -> Result<DumpInfo>
    where
        F: FnMut(&Message<'_>, &NfMsg<'_>) -> Result<()>,
    {
        let seq = self.send_request(op, msg, nl::NLM_F_DUMP, family, attrs)?;
        let mut info = DumpInfo::default();
        loop {
            let n = self.recv(op)?;
            let mut done = false;
            for m in Messages::new(&self.buf[..n]) {
                let m = m.map_err(|e| Error::decode(op, e))?;
                if m.seq != seq {
                    continue; // a stale answer to an earlier request
                }
                self.stats.messages += 1;
                if m.dump_interrupted() {
                    info.interrupted = true;
                }
                match m.ty {
                    nl::NLMSG_DONE => {
                        // A dump may end with an error code in the DONE payload.
                        if m.payload.len() >= 4 {
                            let code = i32::from_ne_bytes([
                                m.payload[0],
                                m.payload[1],
                                m.payload[2],
                                m.payload[3],
                            ]);
                            if code < 0 {
                                return Err(Error::kernel(op, -code));
                            }
                        }
                        done = true;
                        break;
                    }
                    nl::NLMSG_ERROR => m.check_error().map_err(|e| Error::decode(op, e))?,
                    nl::NLMSG_NOOP => {}
                    ty => {
                        let nf = NfMsg::parse(ty, m.payload).map_err(|e| Error::decode(op, e))?;
                        match info.gen16 {
                            None => info.gen16 = Some(nf.res_id),
                            Some(g) if g != nf.res_id => info.gen_mismatch = true,
                            _ => {}
                        }
                        info.messages += 1;
                        f(&m, &nf)?;
                    }
                }
            }
            if done {
                return Ok(info);
            }
        }
    }

    /// `NFT_MSG_GETGEN`: the current generation (the process fields name the requester).
    pub fn get_gen(&mut self) -> Result<u32> {
        let op = "get generation (NFT_MSG_GETGEN)";
        let seq = self.send_request(op, nft::msg::GETGEN, 0, 0, &[])?;
        loop {
            let n = self.recv(op)?;
            for m in Messages::new(&self.buf[..n]) {
                let m = m.map_err(|e| Error::decode(op, e))?;
                if m.seq != seq {
                    continue;
                }
                m.check_error().map_err(|e| Error::decode(op, e))?;
                if m.ty == nl::NLMSG_ERROR {
                    continue;
                }
                let nf = NfMsg::parse(m.ty, m.payload).map_err(|e| Error::decode(op, e))?;
                let g = Gen::parse(nf.attrs).map_err(|e| Error::decode(op, e))?;
                return g.id.ok_or_else(|| {
                    Error::decode(
                        op,
                        nfscope_wire::Error::invalid("NEWGEN without NFTA_GEN_ID"),
                    )
                });
            }
        }
    }
}

/// One descriptor for poll loops: readable when any of a set of descriptors is, or when a
/// timer set with [`Readiness::arm`] expires (an epoll set holding them and a timerfd).
pub(crate) struct Readiness {
    epoll: std::os::fd::OwnedFd,
    timer: std::os::fd::OwnedFd,
}

impl Readiness {
    /// Watch `fds` (which must outlive this value) and a disarmed timer.
    pub(crate) fn new(fds: &[std::os::fd::RawFd]) -> Result<Readiness> {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        let new_fd = |rc: i32, op: &str| -> Result<OwnedFd> {
            if rc < 0 {
                return Err(Error::io(op, std::io::Error::last_os_error()));
            }
            // SAFETY: rc is a descriptor the kernel just gave us and nothing else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(rc) })
        };
        // SAFETY: plain syscalls with constant flags.
        let epoll = new_fd(
            unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
            "epoll_create1",
        )?;
        // SAFETY: as above.
        let timer = new_fd(
            unsafe {
                libc::timerfd_create(
                    libc::CLOCK_MONOTONIC,
                    libc::TFD_CLOEXEC | libc::TFD_NONBLOCK,
                )
            },
            "timerfd_create",
        )?;
        for fd in fds.iter().copied().chain([timer.as_raw_fd()]) {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd as u64,
            };
            // SAFETY: a valid epoll descriptor, a descriptor the caller keeps open, and an
            // event struct we own.
            let rc =
                unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
            if rc < 0 {
                return Err(Error::io("epoll_ctl", std::io::Error::last_os_error()));
            }
        }
        Ok(Readiness { epoll, timer })
    }

    /// Make the descriptor readable after `after` (at once for zero), or only on input (`None`).
    /// Setting the timer clears an earlier expiry.
    pub(crate) fn arm(&self, after: Option<std::time::Duration>) -> Result<()> {
        use std::os::fd::AsRawFd;
        let value = match after {
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            Some(d) => libc::timespec {
                tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
                // A zero value disarms: expire after 1 ns instead.
                tv_nsec: libc::c_long::from(d.subsec_nanos().max(u32::from(d.is_zero()))),
            },
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: a valid timerfd and an itimerspec we own; the old value is not asked for.
        let rc = unsafe {
            libc::timerfd_settime(self.timer.as_raw_fd(), 0, &spec, std::ptr::null_mut())
        };
        if rc < 0 {
            return Err(Error::io(
                "timerfd_settime",
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }
}

impl std::os::fd::AsRawFd for Readiness {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.epoll.as_raw_fd()
    }
}
