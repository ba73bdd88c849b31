//! The engine's own append cost, µs per append, for comparison with `bench/append.py`:
//! 1 B, 4 KiB, 16 MiB entries, durable ('always') and not synced ('none').
//!
//! Usage: `cargo run --release --example engine_append`

use std::time::Instant;

use walogs::{Durability, Wal, WalConfig};

fn main() -> Result<(), walogs::WalError> {
    println!("| backend | durability | 1 B | 4 KiB | 16 MiB |");
    println!("|---|---|---|---|---|");
    for (name, durability) in [("always", Durability::Always), ("none", Durability::None)] {
        let mut cells = Vec::new();
        for (size, count) in [(1usize, 2000u32), (4096, 2000), (16 << 20, 5)] {
            let dir =
                std::env::temp_dir().join(format!("walogs-engine-bench-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let config = WalConfig {
                durability,
                ..WalConfig::default()
            };
            let mut wal = Wal::open_with_config(&dir, config)?;
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            wal.append(&data)?;
            let start = Instant::now();
            for _ in 0..count {
                wal.append(&data)?;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(count);
            drop(wal);
            let _ = std::fs::remove_dir_all(&dir);
            cells.push(format!("{us:.1}"));
        }
        println!("| Rust engine | {name} | {} |", cells.join(" | "));
    }
    Ok(())
}
