//! gapwatch command line.

fn main() {}
