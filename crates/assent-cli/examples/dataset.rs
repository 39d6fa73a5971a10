//! Writes the synthetic data set (tests/support/dataset.rs): signed receipts and chat records.
//! `cargo run --release -p assent-cli --example dataset -- DIR [SUBJECTS] [RECORDS] [SEED]`

#[path = "../tests/support/dataset.rs"]
mod dataset;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: dataset DIR [SUBJECTS=100000] [RECORDS=1000000] [SEED=1]");
        std::process::exit(2);
    };
    let number = |i: usize, default: u64| args.get(i).map_or(default, |v| v.parse().expect("a whole number"));
    std::fs::create_dir_all(dir).expect("create the directory");
    dataset::write(std::path::Path::new(dir), number(1, 100_000), number(2, 1_000_000), number(3, 1));
}
