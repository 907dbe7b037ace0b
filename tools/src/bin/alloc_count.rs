//! Counts the heap allocations of decoding and encoding each benchmark
//! input, next to the untyped `serde_json::Value` baseline:
//!
//! ```sh
//! cargo run --release -p idmefv2-tools --bin alloc_count
//! ```
//!
//! "bytes" is the total requested from the allocator by one call (a
//! growing buffer counts each of its sizes); "live" is what the result
//! still holds afterwards.

use idmefv2_tools::bench as common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    sync::atomic::{AtomicUsize, Ordering::Relaxed},
};

use idmefv2::Message;
use serde_json::Value;

struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator unchanged; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size(), Relaxed);
        LIVE.fetch_add(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size, Relaxed);
        LIVE.fetch_add(new_size, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations, bytes requested and bytes still live after `f`, whose
/// result is kept alive until measured.
fn count<T>(f: impl FnOnce() -> T) -> (usize, usize, usize) {
    let (c0, b0, l0) = (CALLS.load(Relaxed), BYTES.load(Relaxed), LIVE.load(Relaxed));
    let kept = black_box(f());
    let counts = (
        CALLS.load(Relaxed) - c0,
        BYTES.load(Relaxed) - b0,
        LIVE.load(Relaxed) - l0,
    );
    drop(kept);
    counts
}

fn main() {
    // Compile the lazily built validators (format checks, schema) first.
    for (_, bytes) in common::INPUTS {
        let message = Message::from_slice(bytes).expect("valid input");
        idmefv2::validate(&message.to_value()).expect("valid input");
    }
    println!(
        "{:<8} {:>7}  {:<30} {:>7} {:>9} {:>9}",
        "input", "bytes", "what", "allocs", "bytes", "live"
    );
    for (name, bytes) in common::INPUTS {
        let message = Message::from_slice(bytes).expect("valid input");
        let value: Value = serde_json::from_slice(bytes).expect("parses");
        let rows = [
            ("Message::from_slice", count(|| Message::from_slice(bytes))),
            (
                "serde_json::from_slice::<Value>",
                count(|| serde_json::from_slice::<Value>(bytes)),
            ),
            ("Message::to_vec", count(|| message.to_vec())),
            (
                "serde_json::to_vec(&Value)",
                count(|| serde_json::to_vec(&value)),
            ),
        ];
        for (what, (calls, requested, live)) in rows {
            println!(
                "{name:<8} {:>7}  {what:<30} {calls:>7} {requested:>9} {live:>9}",
                bytes.len()
            );
        }
    }
}
