//! Archives (gzip, zip, tar): unpacked and read to the end of every member.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    let input: imq::parse::archive::Input = Box::new(std::io::Cursor::new(data.to_vec()));
    let mut sink = [0u8; 4096];
    match imq::parse::archive::unpack(input) {
        Ok(imq::parse::archive::Unpacked::Stream(mut r)) => {
            // Bounded: a bomb is read only so far.
            let mut left = 1usize << 24;
            while let Ok(n) = r.read(&mut sink) {
                if n == 0 || left < n {
                    break;
                }
                left -= n;
            }
        }
        Ok(imq::parse::archive::Unpacked::Files(mut m)) => {
            let mut left = 1usize << 24;
            while let Ok(Some((_, mut r))) = m.next_member() {
                while let Ok(n) = r.read(&mut sink) {
                    if n == 0 || left < n {
                        break;
                    }
                    left -= n;
                }
            }
        }
        Err(_) => {}
    }
});
