//! The inputs of the subcommands that read messages: files or standard
//! input, cut into messages by `idmefv2::stream`, with the size limit they
//! share.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, IsTerminal},
    path::PathBuf,
};

use idmefv2::{
    stream::{Framing, Item, Splitter},
    Limits,
};

use crate::report::Status;

/// The size limit of the subcommands that read messages.
#[derive(clap::Args)]
pub struct MaxBytes {
    /// Largest message accepted, in bytes; a longer one is refused without
    /// being read whole.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MAX_BYTES,
          value_parser = parse_max_bytes)]
    pub max_bytes: usize,
}

impl MaxBytes {
    /// The library's limits with this size.
    pub fn limits(&self) -> Limits {
        Limits::default().with_max_bytes(self.max_bytes)
    }
}

/// A `--max-bytes` value: at least one byte.
pub fn parse_max_bytes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("a message has at least one byte".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err("a whole number of bytes, such as 1048576".to_string()),
    }
}

/// The inputs named on the command line: `-` (or none) is standard input.
pub fn sources(paths: &[PathBuf]) -> Vec<Option<&PathBuf>> {
    if paths.is_empty() {
        vec![None]
    } else {
        paths
            .iter()
            .map(|p| (p.as_os_str() != "-").then_some(p))
            .collect()
    }
}

/// Opens one input; `None` is standard input.
pub fn open(path: Option<&PathBuf>) -> io::Result<Box<dyn BufRead>> {
    const CHUNK: usize = 64 * 1024;
    Ok(match path {
        None => Box::new(BufReader::with_capacity(CHUNK, io::stdin().lock())),
        Some(p) => Box::new(BufReader::with_capacity(CHUNK, File::open(p)?)),
    })
}

/// How an input is named in reports: its path, or `-`.
pub fn name(path: Option<&PathBuf>) -> String {
    path.map_or_else(|| "-".to_string(), |p| p.to_string_lossy().into_owned())
}

/// What the tool says when it reads standard input from a terminal, where
/// it would otherwise seem to hang: `Some` only for standard input
/// (`path` `None`) on a terminal.
pub fn terminal_notice(path: Option<&PathBuf>) -> Option<&'static str> {
    (path.is_none() && io::stdin().is_terminal())
        .then_some("reading messages from standard input; end with Ctrl-D (Ctrl-Z on Windows)")
}

/// The framing `--ndjson` asks for.
pub fn framing(ndjson: bool) -> Framing {
    if ndjson {
        Framing::Lines
    } else {
        Framing::Json
    }
}

/// Runs `each` on every message of every source, reporting I/O errors on
/// stderr (naming the source) and going on with the next source. A source
/// without any message is reported as such, and standard input read from
/// a terminal is announced (the tool would otherwise seem to hang).
pub fn for_each_message(
    paths: &[PathBuf],
    framing: Framing,
    limits: &Limits,
    status: &mut Status,
    mut each: impl FnMut(&str, usize, Item) -> io::Result<()>,
) -> io::Result<()> {
    for path in sources(paths) {
        let source = name(path);
        if let Some(notice) = terminal_notice(path) {
            eprintln!("idmefv2: {notice}");
        }
        let mut splitter = match open(path) {
            Ok(reader) => Splitter::new(reader, framing, limits.max_bytes),
            Err(e) => {
                eprintln!("idmefv2: {source}: {e}");
                status.io_error = true;
                continue;
            }
        };
        let mut index = 0;
        loop {
            match splitter.next_item() {
                Ok(Some(item)) => {
                    each(&source, index, item)?;
                    index += 1;
                    status.found += 1;
                }
                Ok(None) => {
                    if index == 0 {
                        eprintln!("idmefv2: {source}: no message found");
                        status.empty += 1;
                    }
                    break;
                }
                Err(e) => {
                    eprintln!("idmefv2: {source}: {e}");
                    status.io_error = true;
                    break;
                }
            }
        }
    }
    Ok(())
}
