//! Compressed and archived feed files, unpacked as IntelMQ's collectors do
//! (`extract_files`, `intelmq.lib.utils.unzip`): a gzip file is its content, a
//! zip or tar archive (also `.tar.gz`) is one feed per member file, each named in
//! its report's `extra.file_name`.
//!
//! The format is recognised by its magic bytes, not by the file name, so the same
//! holds for stdin. A gzip stream is decompressed while it is read, so streaming
//! parsers keep their constant memory; archive members are read one at a time.

use flate2::bufread::MultiGzDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// What a raw input holds once unpacked.
pub enum Unpacked {
    /// One feed: the input itself, or its gzip content decompressed as it is read.
    Stream(Box<dyn BufRead>),
    /// The files of an archive, each a feed of its own: (name, content).
    Files(Vec<(String, Vec<u8>)>),
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// A tar archive has `ustar` at offset 257 of its first header block.
fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

/// Look at the first bytes of `input` and unpack it if it is compressed or an
/// archive; plain feed data comes back unchanged.
pub fn unpack(mut input: Box<dyn BufRead>) -> io::Result<Unpacked> {
    let head = input.fill_buf()?;
    if head.starts_with(ZIP_MAGIC) {
        let mut data = Vec::new();
        input.read_to_end(&mut data)?;
        return zip_members(data).map(Unpacked::Files);
    }
    if head.starts_with(GZIP_MAGIC) {
        input = Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(input),
        ));
    }
    let head = input.fill_buf()?;
    if is_tar(head) {
        return tar_members(input).map(Unpacked::Files);
    }
    Ok(Unpacked::Stream(input))
}

fn bad(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

fn zip_members(data: Vec<u8>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut zip = zip::ZipArchive::new(io::Cursor::new(data)).map_err(|e| bad("zip archive", e))?;
    let mut files = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| bad("zip archive", e))?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().to_string();
        let mut content = Vec::with_capacity(f.size().min(1 << 30) as usize);
        f.read_to_end(&mut content)
            .map_err(|e| bad(&format!("zip member {name}"), e))?;
        files.push((name, content));
    }
    Ok(files)
}

fn tar_members(input: Box<dyn BufRead>) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut tar = tar::Archive::new(input);
    let mut files = Vec::new();
    for entry in tar.entries().map_err(|e| bad("tar archive", e))? {
        let mut entry = entry.map_err(|e| bad("tar archive", e))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| bad("tar archive", e))?
            .to_string_lossy()
            .into_owned();
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| bad(&format!("tar member {name}"), e))?;
        files.push((name, content));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stream(data: Vec<u8>) -> Box<dyn BufRead> {
        Box::new(io::Cursor::new(data))
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, content) in files {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *content).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn members(u: Unpacked) -> Vec<(String, Vec<u8>)> {
        match u {
            Unpacked::Files(f) => f,
            Unpacked::Stream(_) => panic!("expected archive members"),
        }
    }

    fn content(u: Unpacked) -> Vec<u8> {
        match u {
            Unpacked::Stream(mut r) => {
                let mut v = Vec::new();
                r.read_to_end(&mut v).unwrap();
                v
            }
            Unpacked::Files(_) => panic!("expected one stream"),
        }
    }

    #[test]
    fn plain_data_is_left_alone() {
        assert_eq!(
            content(unpack(stream(b"a,b\n1,2\n".to_vec())).unwrap()),
            b"a,b\n1,2\n"
        );
        assert_eq!(content(unpack(stream(Vec::new())).unwrap()), b"");
    }

    #[test]
    fn gzip_is_decompressed() {
        let data = b"# feed\n192.0.2.1\n".repeat(10_000);
        assert_eq!(content(unpack(stream(gzip(&data))).unwrap()), data);
        // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(content(unpack(stream(two)).unwrap()), b"one\ntwo\n");
    }

    #[test]
    fn tar_and_tar_gz_give_their_files() {
        let t = tar(&[("a.csv", b"x\n1\n"), ("dir/b.csv", b"y\n2\n")]);
        let want = vec![
            ("a.csv".to_string(), b"x\n1\n".to_vec()),
            ("dir/b.csv".to_string(), b"y\n2\n".to_vec()),
        ];
        assert_eq!(members(unpack(stream(t.clone())).unwrap()), want);
        assert_eq!(members(unpack(stream(gzip(&t))).unwrap()), want);
    }

    #[test]
    fn zip_gives_its_files() {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.add_directory("d/", opts).unwrap();
        w.start_file("d/report.csv", opts).unwrap();
        w.write_all(b"ip\n192.0.2.1\n").unwrap();
        let data = w.finish().unwrap().into_inner();
        assert_eq!(
            members(unpack(stream(data)).unwrap()),
            vec![("d/report.csv".to_string(), b"ip\n192.0.2.1\n".to_vec())]
        );
    }

    #[test]
    fn broken_archives_are_errors() {
        let mut z = b"PK\x03\x04".to_vec();
        z.extend([0u8; 40]);
        assert!(unpack(stream(z)).is_err());
        let mut g = gzip(b"hello");
        g.truncate(g.len() - 4);
        let mut r = match unpack(stream(g)).unwrap() {
            Unpacked::Stream(r) => r,
            Unpacked::Files(_) => panic!(),
        };
        assert!(r.read_to_end(&mut Vec::new()).is_err());
    }
}
